"""Cross-origin requests from browser apps (Fetch standard, CORS protocol:
https://fetch.spec.whatwg.org/#http-cors-protocol) on the FHIR API, SMART and OpenID discovery and
the token, revocation and introspection endpoints.

``CORS_ORIGINS`` (config, or ``CARNET_CORS_ORIGINS``): ``"*"`` (the default: any origin, which
bearer-token calls allow since a browser never adds the token by itself), a list of origins, or
a comma-separated string of them; empty refuses every origin. Credentials (cookies, HTTP
authentication) are never allowed. A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered 204 here, before any token is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request

bp = Blueprint("cors", __name__)

#: path prefixes open to other origins (the approval page and registration are not)
PREFIXES = ("/fhir/", "/.well-known/", "/auth/token", "/auth/revoke", "/auth/introspect")
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-Modified-Since, "
    "If-None-Exist, X-Requested-With"
)
EXPOSE_HEADERS = "Location, Content-Location, ETag, Last-Modified, WWW-Authenticate"
MAX_AGE = "600"


def origins() -> frozenset[str] | None:
    """The allowed origins; None means any."""
    setting = current_app.config.get("CORS_ORIGINS", "*")
    if setting is None or setting == "*":
        return None
    items: Iterable[str] = setting.split(",") if isinstance(setting, str) else setting
    cleaned = frozenset(item.strip().rstrip("/") for item in items if item.strip())
    return None if "*" in cleaned else cleaned


def covered() -> bool:
    """Whether the current request's path is open to other origins."""
    path = request.path
    return path == "/fhir" or path.startswith(PREFIXES)


def allow_origin(origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, None when it is not allowed."""
    allowed = origins()
    if not origin:
        return None
    if allowed is None:
        return "*"
    return origin if origin in allowed else None


@bp.before_app_request
def preflight() -> Response | None:
    """Answer a CORS preflight on a covered path without a token (204)."""
    if request.method != "OPTIONS" or not covered():
        return None
    if "Access-Control-Request-Method" not in request.headers:
        return None
    response = Response(status=204)
    value = allow_origin(request.headers.get("Origin"))
    if value is not None:
        response.headers["Access-Control-Allow-Origin"] = value
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    if value not in (None, "*"):
        response.vary.add("Origin")
    return response


@bp.after_app_request
def headers(response: Response) -> Response:
    """Add the CORS headers to every answer of a covered path (errors included)."""
    if not covered() or "Access-Control-Allow-Origin" in response.headers:
        return response
    value = allow_origin(request.headers.get("Origin"))
    if value is not None:
        response.headers["Access-Control-Allow-Origin"] = value
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if value != "*":
            response.vary.add("Origin")
    return response

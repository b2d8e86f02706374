"""Request limits and response hardening, app-wide.

- Headers: more than ``MAX_HEADER_BYTES`` (default 16 KiB) or ``MAX_HEADER_COUNT`` (100) -> 431
  with an OperationOutcome (gunicorn's own, larger limits answer 400 before the app sees them).
- Bodies: ``MAX_CONTENT_LENGTH`` (Flask, default 32 MiB) -> 413 OperationOutcome (errors_http).
- JSON nesting deeper than ``MAX_JSON_DEPTH`` (default 64) -> 400 OperationOutcome (``check_depth``,
  called by ``http.body_json`` on every parsed body).
- Every response: ``X-Content-Type-Options: nosniff``; HTML pages also a default CSP with
  ``frame-ancestors 'none'``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer`` unless
  the page set stricter ones; every cookie ``Secure; HttpOnly; SameSite=Strict``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import request

from .errors import BadRequest
from .errors import FHIRError

DEFAULTS = {"MAX_HEADER_BYTES": 16 * 1024, "MAX_HEADER_COUNT": 100, "MAX_JSON_DEPTH": 64}
HTML_CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class HeadersTooLarge(FHIRError):
    """RFC 6585 §5: Request Header Fields Too Large."""

    status_code = 431
    issue_code = "too-costly"


def _setting(name: str) -> int:
    return int(current_app.config.get(name) or DEFAULTS[name])


def check_depth(value: Any, limit: int | None = None) -> None:
    """400 when ``value`` (parsed JSON) nests objects and arrays deeper than the limit."""
    limit = limit or _setting("MAX_JSON_DEPTH")
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise BadRequest(f"The JSON body nests deeper than {limit} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


def _check_headers() -> None:
    """431 (rendered by ``errors_http``) when the request's headers exceed the limits."""
    count = 0
    size = 0
    for key, value in request.headers.items():
        count += 1
        size += len(key) + len(value) + 4
    if count > _setting("MAX_HEADER_COUNT") or size > _setting("MAX_HEADER_BYTES"):
        raise HeadersTooLarge(
            f"The request headers exceed this server's limits ({_setting('MAX_HEADER_COUNT')} fields, "
            f"{_setting('MAX_HEADER_BYTES')} bytes)"
        )


def _harden(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", HTML_CSP)
        if "frame-ancestors" not in headers["Content-Security-Policy"]:
            headers["Content-Security-Policy"] += "; frame-ancestors 'none'"
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
    cookies = headers.getlist("Set-Cookie")
    if cookies:
        headers.remove("Set-Cookie")
        for cookie in cookies:
            lowered = cookie.lower()
            extra = [
                flag
                for flag, probe in (("Secure", "secure"), ("HttpOnly", "httponly"), ("SameSite=Strict", "samesite"))
                if probe not in lowered
            ]
            headers.add("Set-Cookie", "; ".join([cookie, *extra]))
    return response


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    app.before_request(_check_headers)
    app.after_request(_harden)

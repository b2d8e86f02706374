"""One structured line per request, for operators: JSON on the ``carnet.access`` logger (stderr
under `carnet serve`) with the request id, method, route, status, duration and client id.

No health data ever enters it: no bodies, no query strings (``?name=…``, ``?identifier=…``), no
concrete paths (they carry resource ids): the route template (``/fhir/<type>/<id>``) stands in.
The request id is the caller's ``X-Request-Id`` when it is a short token, else a new one, and is
echoed in the response.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson
from flask import Flask
from flask import Response
from flask import g
from flask import request

log = logging.getLogger("carnet.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _begin() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.carnet_request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.carnet_started = time.perf_counter()


def client_id() -> str | None:
    """The OAuth client of the request: its verified token's ``client_id``, or the client that
    authenticated at the token endpoint; never a person's name or identifier."""
    if getattr(g, "carnet_access", None) is not None:
        header = request.headers.get("Authorization", "")
        try:
            payload = header.split(" ", 1)[1].split(".")[1]
            claims = json.loads(_b64(payload))
            value = claims.get("client_id")
            return value if isinstance(value, str) and _REQUEST_ID.match(value) else None
        except (IndexError, ValueError, AttributeError):
            return None
    if request.path.startswith("/auth/") and request.method == "POST":
        value = request.form.get("client_id") or (request.authorization.username if request.authorization else None)
        return value if isinstance(value, str) and _REQUEST_ID.match(value) else None
    return None


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _end(response: Response) -> Response:
    started = getattr(g, "carnet_started", None)
    rid = getattr(g, "carnet_request_id", None) or uuid.uuid4().hex
    response.headers["X-Request-Id"] = rid
    line: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "request_id": rid,
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started is not None else None,
        "client_id": client_id(),
        "bytes": response.calculate_content_length(),
    }
    log.info(orjson.dumps(line).decode())
    return response


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_end)
    if not app.testing and not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

"""One error handler: every failure leaves the server as an OperationOutcome."""

from __future__ import annotations

import logging

from flask import Flask
from flask import Response
from werkzeug.exceptions import HTTPException

from .errors import FHIRError
from .errors import issue
from .errors import operation_outcome
from .http import FHIR_JSON
from .http import respond
from .storage import StoreUnavailable
from .storage import as_unavailable

log = logging.getLogger(__name__)

#: werkzeug's own errors (routing, size limit) mapped to OperationOutcome issue codes
ISSUE_BY_STATUS = {404: "not-found", 405: "not-supported", 413: "too-costly", 415: "not-supported"}


def render_fhir_error(exc: FHIRError) -> Response:
    return respond(operation_outcome(exc.issues), exc.status_code, exc.headers, mime=FHIR_JSON)


def render_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    text = {
        404: "Unknown path: this server's FHIR base is /fhir",
        413: "The request body is larger than this server accepts",
    }.get(status, exc.description or exc.name)
    body = operation_outcome([issue("error", ISSUE_BY_STATUS.get(status, "processing"), text)])
    return respond(body, status, mime=FHIR_JSON)


#: seconds a client should wait before retrying while the store is unavailable
RETRY_AFTER_S = 5


def render_unavailable(exc: StoreUnavailable) -> Response:
    """The store is down, locked or full: 503, retry later (nothing of the request was kept)."""
    log.warning("store unavailable: %s", exc)
    body = operation_outcome([issue("error", "transient", "The store is unavailable; retry later")])
    return respond(body, 503, {"Retry-After": str(RETRY_AFTER_S)}, mime=FHIR_JSON)


def render_unexpected(exc: Exception) -> Response:
    mapped = as_unavailable(exc)
    if mapped is not None:
        return render_unavailable(mapped)
    log.exception("unexpected error")
    body = operation_outcome([issue("fatal", "exception", "Internal error; it has been logged")])
    return respond(body, 500, mime=FHIR_JSON)


def init_app(app: Flask) -> None:
    app.register_error_handler(StoreUnavailable, render_unavailable)
    app.register_error_handler(FHIRError, render_fhir_error)
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(Exception, render_unexpected)

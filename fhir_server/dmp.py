"""The DMP's own endpoints: ``GET /dmp/access-matrix`` (no token: the access matrix in force, as
plain JSON, read-only) and, until the operation router serves them, the record operations of
``fhir_server.operations.record`` (``Patient/[id]/$close``, ``$reopen``, ``Consent/$preview``).
``init_app`` loads and checks the matrix at start.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request

from consent import matrix

from . import http
from . import rest
from .access import MATRIX_EXTENSION
from .emergency import SESSIONS
from .operations import record
from .operations.definition import Call
from .operations.definition import Operation

bp = Blueprint("dmp", __name__)
PUBLIC_ENDPOINTS = {"dmp.access_matrix"}


def init_app(app: Flask) -> None:
    """Load and check the access matrix (``ACCESS_MATRIX_FILE``, default the packaged one: a bad
    file stops the start with ``consent.matrix.MatrixError``), index the emergency sessions, and
    serve the endpoints."""
    configured = app.config.get("ACCESS_MATRIX_FILE")
    app.extensions[MATRIX_EXTENSION] = matrix.load(Path(configured)) if configured else matrix.load()
    app.extensions["carnet.store"].db[SESSIONS].create_index([("requester", 1)])
    app.register_blueprint(bp)


@bp.before_request
def authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        rest.authenticate()


@bp.get("/dmp/access-matrix")
def access_matrix() -> Response:
    return http.respond(dict(current_app.extensions[MATRIX_EXTENSION].document), mime=http.JSON)


# until operations.REGISTRY lists record.OPERATIONS (then operations.routes serves them) --------
@bp.post("/fhir/Patient/<id_>/$close")
def close_route(id_: str) -> Response:
    return _serve(record.CLOSE, "Patient", id_)


@bp.post("/fhir/Patient/<id_>/$reopen")
def reopen_route(id_: str) -> Response:
    return _serve(record.REOPEN, "Patient", id_)


@bp.post("/fhir/Consent/$preview")
def preview_route() -> Response:
    return _serve(record.PREVIEW, "Consent", None)


def _serve(operation: Operation, resource_type: str, id_: str | None) -> Response:
    body = http.body_json() if request.get_data(cache=True).strip() else None
    call = Call(resource_type, id_, list(request.args.items(multi=True)), body, rest.base_url())
    return http.respond(operation.handler(call))

"""The DMP's own endpoints: ``GET /dmp/access-matrix`` (no token: the access matrix in force, as
plain JSON, read-only).
``init_app`` loads and checks the matrix at start.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app

from consent import matrix

from .. import http
from .. import rest
from ..access import MATRIX_EXTENSION
from ..storage import get_store_of
from .emergency import SESSIONS

bp = Blueprint("dmp", __name__)
bp.before_request(rest.authenticate)


def init_app(app: Flask) -> None:
    """Load and check the access matrix (``ACCESS_MATRIX_FILE``, default the packaged one: a bad
    file stops the start with ``consent.matrix.MatrixError``), index the emergency sessions, and
    serve the endpoints."""
    configured = app.config.get("ACCESS_MATRIX_FILE")
    app.extensions[MATRIX_EXTENSION] = matrix.load(Path(configured)) if configured else matrix.load()
    get_store_of(app).documents(SESSIONS).create_index([("requester", 1)])
    app.register_blueprint(bp)


@bp.get("/dmp/access-matrix")
def access_matrix() -> Response:
    return http.respond(dict(current_app.extensions[MATRIX_EXTENSION].document), mime=http.JSON)

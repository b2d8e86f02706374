"""A stand-in for the FHIR endpoints, just enough for the auth flows: a CapabilityStatement that
names the OAuth endpoints, and Patient read and search behind ``authenticate_request`` and
``require``. The real endpoints live in fhir_server.rest."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import jsonify

from fhir_server import auth
from fhir_server.auth.accounts import Db
from fhir_server.errors import FHIRError
from fhir_server.errors import NotFound
from fhir_server.errors import operation_outcome

PATIENTS = {
    "p1": {"resourceType": "Patient", "id": "p1", "name": [{"family": "Martin", "given": ["Lea"]}]},
    "p2": {"resourceType": "Patient", "id": "p2", "name": [{"family": "Durand"}]},
}

bp = Blueprint("fhir_stub", __name__, url_prefix="/fhir")
keys = Blueprint("keys_stub", __name__)


@bp.get("/metadata")
def metadata() -> Response:
    return jsonify(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-25",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [{"mode": "server", "security": auth.security()}],
        }
    )


@bp.get("/Patient/<id_>")
def read(id_: str) -> Response:
    auth.require(auth.authenticate_request(), "Patient", "read")
    if id_ not in PATIENTS:
        raise NotFound(f"Patient/{id_} is not known")
    return jsonify(PATIENTS[id_])


@bp.get("/Patient")
def search() -> Response:
    auth.require(auth.authenticate_request(), "Patient", "search-type")
    entries = [{"resource": patient} for patient in PATIENTS.values()]
    return jsonify({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


@bp.get("/whoami")
def whoami() -> Response:
    requester = auth.authenticate_request()
    return jsonify(
        {
            "kind": requester.kind,
            "ref": requester.ref,
            "sub": requester.sub,
            "mode": requester.mode,
            "reason": requester.reason,
            "scopes": sorted(requester.scopes),
        }
    )


#: client key sets the server fetches as jwks_uri (tests fill it)
JWKS: dict[str, Any] = {}


@keys.get("/test/jwks/<name>")
def jwks(name: str) -> Response:
    return jsonify(JWKS[name])


def render(error: FHIRError) -> tuple[Any, int, dict[str, str]]:
    return jsonify(operation_outcome(error.issues)), error.status_code, error.headers


def create_app(config: dict[str, Any], db: Db) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    auth.init_app(app, db)
    app.register_blueprint(bp)
    app.register_blueprint(keys)
    app.register_error_handler(FHIRError, render)
    return app

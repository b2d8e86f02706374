"""Well-known URIs (RFC 8615, https://www.rfc-editor.org/rfc/rfc8615) served without a token:
the server's public keys at ``/.well-known/jwks.json`` (RFC 7517 §5), and SMART's
``/.well-known/smart-configuration``, at the root and under the FHIR base ``/fhir``."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify

from fhir_server.auth import smart
from fhir_server.auth import views
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import jwks

bp = Blueprint("auth_wellknown", __name__)


def auth_config() -> AuthConfig:
    """The AuthConfig ``init_app`` stored on the current app."""
    config: AuthConfig = current_app.extensions["carnet.auth"]
    return config


@bp.get("/.well-known/jwks.json")
def jwks_json() -> Response:
    response = jsonify(jwks(auth_config().data_dir))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/.well-known/smart-configuration")
@bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration() -> Response:
    return jsonify(smart.configuration(views.server()))


@bp.get("/.well-known/openid-configuration")
@bp.get("/fhir/.well-known/openid-configuration")
def openid_configuration() -> Response:
    return jsonify(smart.openid_configuration(views.server()))

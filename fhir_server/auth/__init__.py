"""Authentication and authorization for Carnet.

- ``keys``: the server's signing key (RFC 7517) and its public JWKS;
- ``tokens``: JWT access tokens (RFC 9068) and ``mint_token``;
- ``issuers``: ``AuthConfig``, who may sign accepted tokens (own key, trusted providers);
- ``bearer``: ``authenticate``, bearer token (RFC 6750) -> ``consent.requester.Requester``;
- ``scopes``: SMART v2/v1 scopes, ``allows`` and ``require``;
- ``wellknown``: the blueprint of ``/.well-known/jwks.json``;
- ``cli``: ``carnet token``.
"""
from __future__ import annotations

from flask import Flask
from flask import request

from consent.requester import Requester
from fhir_server.auth import wellknown
from fhir_server.auth.bearer import authenticate
from fhir_server.auth.cli import add_parser
from fhir_server.auth.cli import token_command
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import jwks
from fhir_server.auth.keys import load_or_create_key
from fhir_server.auth.scopes import allows
from fhir_server.auth.scopes import require
from fhir_server.auth.tokens import mint_token

__all__ = [
    "AuthConfig",
    "add_parser",
    "allows",
    "authenticate",
    "authenticate_request",
    "init_app",
    "jwks",
    "load_or_create_key",
    "mint_token",
    "require",
    "token_command",
]


def init_app(app: Flask) -> None:
    """Read the auth settings of ``app.config``, create the signing key, serve the JWKS."""
    config = AuthConfig.from_mapping(app.config)
    load_or_create_key(config.data_dir)
    app.extensions["carnet.auth"] = config
    app.register_blueprint(wellknown.bp)


def authenticate_request() -> Requester:
    """The Requester of the current Flask request (Unauthorized when its token is not valid)."""
    return authenticate(request.headers.get("Authorization"), wellknown.auth_config())

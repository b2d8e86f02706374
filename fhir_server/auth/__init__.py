"""Authentication and authorization for Carnet: bearer tokens for the FHIR endpoints and the
SMART on FHIR authorization server that issues them.

- ``keys``: the server's signing key (RFC 7517) and its public JWKS;
- ``tokens``: JWT access tokens (RFC 9068) and ``mint_token``;
- ``issuers``: ``AuthConfig``, who may sign accepted tokens (own key, trusted providers);
- ``bearer``: ``authenticate``, bearer token (RFC 6750) -> ``consent.requester.Requester``;
- ``scopes``: SMART v2/v1 scopes, ``allows`` and ``require``;
- ``models``, ``accounts``, ``token_store``: clients, users, codes, tokens in the store's collections;
- ``grants``, ``assertions``, ``revocation``, ``introspection``, ``registration``, ``server``:
  the authorization server (RFC 6749, 7636, 7523, 7009, 7662, 7591; OpenID Connect);
- ``views``, ``wellknown``, ``smart``: its HTTP endpoints, login page and discovery;
- ``cli``: ``carnet token``, ``carnet clients add``, ``carnet users add``.
"""

from __future__ import annotations

from flask import Flask
from flask import request

from consent.requester import Requester
from fhir_server import http
from fhir_server.auth import smart
from fhir_server.auth import token_store
from fhir_server.auth import views
from fhir_server.auth import wellknown
from fhir_server.auth.accounts import Db
from fhir_server.auth.bearer import authenticate
from fhir_server.auth.cli import add_parser
from fhir_server.auth.cli import token_command
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import jwks
from fhir_server.auth.keys import load_or_create_key
from fhir_server.auth.scopes import allows
from fhir_server.auth.scopes import require
from fhir_server.auth.setup import authorization_server
from fhir_server.auth.token_store import is_revoked
from fhir_server.auth.tokens import mint_token
from fhir_server.storage import Collections
from fhir_server.storage import get_store_of

__all__ = [
    "AuthConfig",
    "add_parser",
    "allows",
    "authenticate",
    "authenticate_request",
    "init_app",
    "is_revoked",
    "jwks",
    "load_or_create_key",
    "mint_token",
    "require",
    "security",
    "token_command",
]


def init_app(app: Flask, db: Db | None = None) -> None:
    """Read the auth settings of ``app.config`` (ValueError on a bad one), create the signing
    key, and serve the well-known documents and the authorization server, which keeps its
    records in ``db`` (default: the database of the app's store, ``fhir_server.storage``)."""
    if db is None:
        db = Collections(get_store_of(app))
    config = AuthConfig.from_mapping(app.config)
    load_or_create_key(config.data_dir)
    db[token_store.TOKENS].create_index("grant")
    app.extensions["carnet.auth"] = config
    app.extensions["carnet.auth.server"] = authorization_server(db, config)
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(views.bp)


def authenticate_request(base_url: str | None = None) -> Requester:
    """The Requester of the current Flask request (Unauthorized when its token is not valid,
    expired or revoked).

    :param base_url: the FHIR base URL of the request; default ``fhir_server.http.base_url()``.
    """
    server = views.server()
    base = base_url or http.base_url()
    header = request.headers.get("Authorization")
    return authenticate(header, server.config, base, is_revoked=lambda jti: is_revoked(server.collections, jti))


def security() -> dict[str, object]:
    """The ``rest[0].security`` block of the CapabilityStatement for the current request."""
    return smart.capability_security(views.server())

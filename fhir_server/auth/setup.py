"""The authorization server put together: its client authentication, grants and endpoints, which
take the server they serve (``server.AuthorizationServer``), so it is built here rather than in
``server``."""

from __future__ import annotations

from fhir_server.auth.accounts import Db
from fhir_server.auth.assertions import PrivateKeyJWT
from fhir_server.auth.grants import PKCE
from fhir_server.auth.grants import AuthorizationCodeGrant
from fhir_server.auth.grants import ClientCredentialsGrant
from fhir_server.auth.grants import OpenIDToken
from fhir_server.auth.grants import RefreshTokenGrant
from fhir_server.auth.introspection import Introspection
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.registration import Registration
from fhir_server.auth.revocation import Revocation
from fhir_server.auth.server import AuthorizationServer


def authorization_server(db: Db, config: AuthConfig) -> AuthorizationServer:
    """The server keeping its records in ``db``, with every grant and endpoint Carnet serves."""
    server = AuthorizationServer(db, config)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT(db, lambda: server.url("token")))
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(AuthorizationCodeGrant, [PKCE(required=True), OpenIDToken(server)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation(server))
    server.register_endpoint(Introspection(server))
    server.register_endpoint(Registration(server))  # type: ignore[arg-type]  # authlib takes any endpoint (stub: Endpoint)
    return server

"""The OAuth 2.0 authorization server (RFC 6749, https://www.rfc-editor.org/rfc/rfc6749) on
authlib's Flask integration: grants, client authentication, endpoints, and the tokens it issues,
which are the JWT access tokens of ``tokens`` that the FHIR endpoints verify.

Lifetimes: access tokens one hour, five minutes for client credentials (SMART Backend Services);
refresh tokens, issued only with ``offline_access`` or ``online_access``, thirty days, rotated on
each use.
"""

from __future__ import annotations

import json
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import request
from joserfc import jws

from fhir_server import http
from fhir_server.auth import accounts
from fhir_server.auth import token_store
from fhir_server.auth.accounts import Db
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.models import Approval
from fhir_server.auth.models import Client
from fhir_server.auth.tokens import claims_for
from fhir_server.auth.tokens import sign

ACCESS_TTL = 3600
SERVICE_TTL = 300
REFRESH_TTL = 30 * 86400
REFRESH_SCOPES = frozenset({"offline_access", "online_access"})
#: where the endpoints live, under the server's root URL
PATHS = {
    "authorize": "/auth/authorize",
    "token": "/auth/token",
    "register": "/auth/register",
    "revoke": "/auth/revoke",
    "introspect": "/auth/introspect",
}


class AuthorizationServer(FlaskAuthorizationServer):
    """The server's state and URLs; ``auth.setup.authorization_server`` registers its grants and
    endpoints, which refer back to it."""

    def __init__(self, db: Db, config: AuthConfig) -> None:
        super().__init__()
        self.collections = db
        self.config = config
        self.register_token_generator("default", self.generate_bearer)  # type: ignore[arg-type]  # any callable (stub: a class)

    # -- URLs of the current request's server ----------------------------------------------
    def root(self) -> str:
        """The server's root URL: the FHIR base URL without its ``/fhir``, else the request's host."""
        base = http.base_url()
        return base.removesuffix("/fhir") if base.endswith("/fhir") else request.host_url.rstrip("/")

    def issuer(self) -> str:
        """The issuer discovery documents and id_tokens name: ``TOKEN_ISSUER`` when it is a URL,
        else the server's root URL (OpenID Connect Discovery §3 wants an https URL; access
        tokens keep ``TOKEN_ISSUER`` as their ``iss``)."""
        configured = self.config.issuer
        return configured if configured.startswith(("https://", "http://")) else self.root()

    def url(self, endpoint: str) -> str:
        return self.root() + PATHS[endpoint]

    def audiences(self) -> tuple[str, ...]:
        """The ``aud`` values an app may ask a token for (SMART: the FHIR base URL)."""
        return self.config.audiences or (http.base_url(),)

    # -- authlib's storage contract ------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:  # type: ignore[override]  # None: unknown (stub: no None)
        return accounts.query_client(self.collections, client_id)

    def save_token(self, token: dict[str, Any], oauth_request: OAuth2Request) -> None:
        claims = json.loads(jws.extract_compact(token["access_token"].encode()).payload or b"")
        approval: Approval | None = oauth_request.user
        previous = oauth_request.refresh_token
        doc: dict[str, Any] = {
            "_id": claims["jti"],
            "client_id": claims["client_id"],
            "scope": claims["scope"],
            "aud": claims["aud"],
            "issued": claims["iat"],
            "expires": claims["exp"],
            "refresh_expires": claims["iat"] + REFRESH_TTL,
            "grant": previous.doc["grant"] if previous is not None else claims["jti"],
            **(approval.as_doc() if approval is not None else {}),
        }
        token_store.save_token(self.collections, doc, token.get("refresh_token"))

    def validate_requested_scope(self, scope: str | None) -> None:
        """Scopes are checked against each client's grant (``Client.get_allowed_scope``)."""

    # -- the token --------------------------------------------------------------------------
    def generate_bearer(
        self,
        grant_type: str,
        client: Client,
        user: Approval | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        granted = client.get_allowed_scope(scope)
        ttl = SERVICE_TTL if grant_type == "client_credentials" else ACCESS_TTL
        claims = claims_for(
            fhir_user=user.user.fhir_user if user else None,
            scope=granted,
            purpose=user.purpose if user else None,
            reason=user.reason if user else None,
            ttl=ttl,
            sub=user.user.username if user else client.client_id,
            issuer=self.config.issuer,
            audience=user.audience if user else self.audiences()[0],
            client_id=client.client_id,
        )
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": sign(self.config.data_dir, claims),
            "expires_in": ttl,
            "scope": granted,
        }
        scopes = set(granted.split())
        if user is not None and user.patient and "launch/patient" in scopes:
            token["patient"] = user.patient
        if include_refresh_token and scopes & REFRESH_SCOPES:
            token["refresh_token"] = token_store.new_refresh_token(claims["jti"])
        return token

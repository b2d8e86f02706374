"""Dynamic client registration (RFC 7591, https://www.rfc-editor.org/rfc/rfc7591), for
administrators: the initial access token (§3) must be a token this server signed whose scope
holds ``carnet/admin`` (``carnet token --scope carnet/admin`` prints one). The client's shape
follows from its metadata as in ``accounts``; the response carries its effective metadata."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from typing import Any

from authlib.oauth2.rfc6750 import InsufficientScopeError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591 import InvalidClientMetadataError

from fhir_server import http
from fhir_server.auth import accounts
from fhir_server.auth import bearer
from fhir_server.auth import token_store
from fhir_server.auth.models import SECRET_METHODS
from fhir_server.auth.models import Client
from fhir_server.errors import Unauthorized

if TYPE_CHECKING:
    from fhir_server.auth.server import AuthorizationServer

KEY_METHODS = ("none", "private_key_jwt")


class Registration(ClientRegistrationEndpoint):
    server: AuthorizationServer

    def authenticate_token(self, request: Any) -> bearer.VerifiedToken:
        config = self.server.config
        try:
            token = bearer.verify(request.headers.get("Authorization"), config, http.base_url())
        except Unauthorized as error:
            raise InvalidTokenError(error.diagnostics, realm=bearer.REALM) from None
        revoked = token_store.is_revoked(self.server.collections, str(token.claims.get("jti")))
        if token.issuer.issuer != config.issuer or revoked:
            raise InvalidTokenError("not an initial access token of this server", realm=bearer.REALM)
        if accounts.ADMIN_SCOPE not in str(token.claims.get("scope", "")).split():
            raise InsufficientScopeError(f"registering a client needs the scope {accounts.ADMIN_SCOPE}")
        return token

    def get_server_metadata(self) -> dict[str, Any]:
        return {
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": [*SECRET_METHODS, *KEY_METHODS],
        }

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info: dict[str, Any] = super().generate_client_info(request)
        metadata = request.payload.data
        if (
            metadata.get("token_endpoint_auth_method") in KEY_METHODS
            or metadata.get("jwks")
            or metadata.get("jwks_uri")
        ):
            del info["client_secret"], info["client_secret_expires_at"]
        return info

    def generate_client_id(self, request: Any) -> str:
        return secrets.token_urlsafe(16)

    def generate_client_secret(self, request: Any) -> str:
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> Client:
        method = client_metadata.get("token_endpoint_auth_method")
        try:
            doc = accounts.client_doc(
                client_id=client_info["client_id"],
                secret=client_info.get("client_secret"),
                name=client_metadata.get("client_name") or client_info["client_id"],
                scope=client_metadata.get("scope") or "",
                redirect_uris=client_metadata.get("redirect_uris") or (),
                jwks=client_metadata.get("jwks"),
                jwks_uri=client_metadata.get("jwks_uri"),
                public=method == "none",
            )
        except ValueError as error:
            raise InvalidClientMetadataError(str(error)) from None
        asked = set(client_metadata.get("grant_types") or doc["grant_types"])
        if not asked <= set(doc["grant_types"]) or (
            method and not Client(doc).check_endpoint_auth_method(method, "token")
        ):
            granted, method = doc["grant_types"], doc["token_endpoint_auth_method"]
            raise InvalidClientMetadataError(f"this client gets grant_types {granted} with {method}")
        accounts.insert_client(self.server.collections, doc)
        return Client(doc)

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        doc = client.doc
        effective = {
            "client_name": doc["name"],
            "scope": doc["scope"],
            "grant_types": doc["grant_types"],
            "response_types": doc["response_types"],
            "redirect_uris": doc["redirect_uris"],
            "token_endpoint_auth_method": doc["token_endpoint_auth_method"],
            "jwks_uri": doc["jwks_uri"],
            "jwks": doc["jwks"],
        }
        return {name: value for name, value in effective.items() if value is not None}

"""Token introspection (RFC 7662, https://www.rfc-editor.org/rfc/rfc7662): a client learns
whether one of its own tokens is active, and for whom and what it was issued."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from fhir_server.auth import revocation
from fhir_server.auth.grants import CONFIDENTIAL
from fhir_server.auth.models import Client
from fhir_server.auth.models import Token

if TYPE_CHECKING:
    from fhir_server.auth.server import AuthorizationServer


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = (*CONFIDENTIAL, "none")
    server: AuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return revocation.find(self.server, token_string, token_type_hint)

    def check_permission(self, token: Token, client: Client, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        doc = token.doc
        payload = {
            "active": True,
            "token_type": "Bearer" if token.presented == "access_token" else "refresh_token",
            "scope": token.get_scope(),
            "client_id": doc["client_id"],
            "sub": doc.get("user") or doc["client_id"],
            "iss": self.server.config.issuer,
            "aud": doc["aud"],
            "iat": int(doc["issued"]),
            "exp": int(token.expires),
            "fhirUser": doc.get("fhirUser"),
            "patient": doc.get("patient"),
        }
        return {name: value for name, value in payload.items() if value is not None}

"""Token revocation (RFC 7009, https://www.rfc-editor.org/rfc/rfc7009) and the lookup it shares
with introspection: a presented token string -> its record. A client may revoke only its own
tokens; revoking an access or a refresh token revokes the whole authorization."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from authlib.oauth2.rfc7009 import RevocationEndpoint
from joserfc import jwt
from joserfc.errors import JoseError

from fhir_server.auth import token_store
from fhir_server.auth.grants import CONFIDENTIAL
from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.keys import key_set
from fhir_server.auth.models import Token

if TYPE_CHECKING:
    from fhir_server.auth.server import AuthorizationServer


def find(server: AuthorizationServer, token_string: str, hint: str | None) -> Token | None:
    """The record of an access token (a JWT this server signed) or of a refresh token."""
    if token_string.count(".") == 2 and hint != "refresh_token":
        try:
            claims = jwt.decode(token_string, key_set(server.config.data_dir), algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError):
            return None
        jti = claims.get("jti")
        return token_store.find_token(server.collections, jti) if isinstance(jti, str) else None
    return token_store.find_refresh(server.collections, token_string)


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = (*CONFIDENTIAL, "none")
    server: AuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return find(self.server, token_string, token_type_hint)

    def revoke_token(self, token: Token, request: Any) -> None:
        token_store.revoke(self.server.collections, token)

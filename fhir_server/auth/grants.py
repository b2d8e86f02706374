"""The grants the authorization server runs, after authlib's (RFC 6749 §4.1 authorization code,
§4.4 client credentials, §6 refresh; https://www.rfc-editor.org/rfc/rfc6749), with PKCE S256
required of every app (RFC 7636, as SMART App Launch v2 asks) and OpenID Connect ``id_token``s
carrying SMART's ``fhirUser`` claim (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core import UserInfo
from joserfc.jwk import RSAKey

from fhir_server.auth import scopes as smart
from fhir_server.auth import token_store
from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.keys import load_or_create_key
from fhir_server.auth.models import Approval
from fhir_server.auth.models import AuthorizationCode
from fhir_server.auth.models import Client
from fhir_server.auth.models import Token

if TYPE_CHECKING:
    from fhir_server.auth.server import AuthorizationServer

#: how clients may authenticate at the token endpoint
CONFIDENTIAL = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """System access for a backend service or confidential service (no refresh token)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """Apps, confidential or public; the user and launch context come from the approval page."""

    TOKEN_ENDPOINT_AUTH_METHODS = (*CONFIDENTIAL, "none")
    server: AuthorizationServer

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Keep the code with the scopes the user's kind can use (authlib checked the client's)."""
        payload, approval = request.payload, request.user
        assert payload is not None and request.client is not None and isinstance(approval, Approval)  # set by authlib
        data = payload.data
        fields = {
            "client_id": request.client.get_client_id(),
            "redirect_uri": payload.redirect_uri,
            "scope": " ".join(smart.for_kind(request.scope.split(), approval.user.kind)),
            "nonce": data.get("nonce"),
            "code_challenge": data.get("code_challenge"),
            "code_challenge_method": data.get("code_challenge_method"),
        }
        token_store.save_code(self.server.collections, code, fields, approval)

    def query_authorization_code(self, code: str, client: ClientMixin) -> AuthorizationCode | None:
        return token_store.find_code(self.server.collections, code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        token_store.delete_code(self.server.collections, authorization_code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Approval | None:
        return Approval.from_doc(authorization_code.doc)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """A refresh token buys a new access token and a new refresh token; the old one is retired."""

    TOKEN_ENDPOINT_AUTH_METHODS = (*CONFIDENTIAL, "none")
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: AuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:  # type: ignore[override]  # None: refused
        return token_store.find_refresh(self.server.collections, refresh_token)

    def authenticate_user(self, refresh_token: Token) -> Approval | None:
        return refresh_token.approval()

    def revoke_old_credential(self, refresh_token: Token) -> None:  # type: ignore[override]  # the Token returned above
        token_store.retire_refresh(self.server.collections, refresh_token)


class PKCE(CodeChallenge):
    """RFC 7636 with S256 only, and a challenge required on every authorization request."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 -- authlib reads it as a list (its stub says list[str])

    def validate_code_challenge(self, grant: grants.BaseGrant, redirect_uri: str) -> None:
        payload = grant.request.payload
        assert payload is not None  # authlib parsed the authorization request
        data = payload.data
        if data.get("code_challenge_method") != "S256" or not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
                redirect_uri=redirect_uri,
                state=payload.state,
            )
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDToken(OpenIDCode):
    """``id_token`` signed with the server's key: ``sub`` the username, ``fhirUser`` the
    absolute URL of the user's resource when the ``fhirUser`` scope was granted."""

    def __init__(self, server: AuthorizationServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return load_or_create_key(self.server.config.data_dir)

    def get_encode_header(self, client: Client) -> dict[str, Any]:
        key = load_or_create_key(self.server.config.data_dir)
        return {"alg": ALGORITHM, "kid": key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.server.issuer(), "aud": [client.client_id]}

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        assert request.payload is not None  # authlib parsed the authorization request
        return token_store.nonce_used(self.server.collections, request.payload.client_id, nonce)

    def generate_user_info(self, user: Approval, scope: str) -> UserInfo:
        info = UserInfo(sub=user.user.username)
        if "fhirUser" in scope.split():
            info["fhirUser"] = f"{user.audience.rstrip('/')}/{user.user.fhir_user}"
        return info

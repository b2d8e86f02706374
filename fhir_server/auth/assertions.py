"""``private_key_jwt`` client authentication: a JWT assertion signed with the client's key
(RFC 7523 §2.2, https://www.rfc-editor.org/rfc/rfc7523), as SMART Backend Services profiles it
(https://hl7.org/fhir/smart-app-launch/backend-services.html): RS384 or ES384, ``iss`` = ``sub``
= the client_id, ``aud`` = the token endpoint, ``exp`` at most five minutes ahead, and a ``jti``
never seen before from that client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from fhir_server import clock
from fhir_server.auth import token_store
from fhir_server.auth.accounts import Db
from fhir_server.auth.models import Client

ALGORITHMS = ["RS384", "ES384"]
#: SMART: "exp ... no more than five minutes in the future"
MAX_LIFETIME = 300
LEEWAY = 60


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"  # type: ignore[misc]  # overriding it is authlib's way (its stub says Final)

    def __init__(self, db: Db, token_endpoint: Callable[[], str]) -> None:
        super().__init__(validate_jti=True, leeway=LEEWAY)
        self.collections = db
        self.token_endpoint = token_endpoint

    def get_audiences(self) -> list[str]:
        return [self.token_endpoint()]

    def resolve_client_public_key(self, client: Client) -> Callable[[Any], KeySet]:
        return lambda signed: client.public_keys(signed.headers().get("kid"))

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(assertion, resolve_key, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, OSError) as error:
            raise InvalidClientError(description=f"client assertion: {error}") from error
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp > clock.epoch() + MAX_LIFETIME + LEEWAY:
            raise InvalidClientError(description="client assertion: exp is more than 5 minutes ahead")
        self.verify_claims(claims)
        return claims

    def validate_jti(self, claims: dict[str, Any], jti: Any) -> bool:
        if not isinstance(jti, str) or not jti:
            return False
        # kept past exp + leeway: until then an expired assertion is refused on its exp
        return token_store.use_jti(self.collections, claims["sub"], jti, float(claims["exp"]) + 2 * LEEWAY)

"""Bearer tokens on FHIR requests (RFC 6750, https://www.rfc-editor.org/rfc/rfc6750): verify the
JWT (RFC 9068) and turn its claims into the ``Requester`` the consent engine consumes.

``authenticate`` runs authlib's ``ResourceProtector`` with one ``BearerTokenValidator``
subclass. Every failure is a 401 ``Unauthorized`` carrying ``WWW-Authenticate``: a bare
``Bearer realm="carnet"`` when no bearer token came (RFC 6750 §3.1), else
``error="invalid_token"`` with an ``error_description``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from authlib.oauth2.rfc6749 import MissingAuthorizationError
from authlib.oauth2.rfc6749 import ResourceProtector
from authlib.oauth2.rfc6749 import UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc6750 import InvalidTokenError
from joserfc import jws
from joserfc.errors import ExpiredTokenError
from joserfc.errors import JoseError
from joserfc.errors import MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from consent.requester import KIND_BY_TYPE
from consent.requester import MODE_BY_PURPOSE
from consent.requester import Requester
from fhir_server import clock
from fhir_server.auth import scopes as smart
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.issuers import Issuer
from fhir_server.auth.tokens import CLI_CLIENT_ID
from fhir_server.auth.tokens import FHIR_USER
from fhir_server.errors import Unauthorized

REALM = "carnet"
#: seconds of clock skew allowed on exp, nbf and iat
LEEWAY = 30
#: ``typ`` headers of an access token (RFC 9068 §2.1); a token may also carry none
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt", "jwt"})

IsRevoked = Callable[[str], bool]


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature checked out, with the issuer that signed it."""

    issuer: Issuer
    claims: Mapping[str, Any]


class _Request:
    """The request shape ``ResourceProtector`` reads: the Authorization header only."""

    def __init__(self, authorization: str | None) -> None:
        self.headers = {"Authorization": authorization} if authorization else {}


def _invalid(description: str) -> InvalidTokenError:
    return InvalidTokenError(description.replace('"', "'").replace("\\", "/"), realm=REALM)


class JWTBearerValidator(BearerTokenValidator):
    """Signature by a trusted issuer, then ``typ``, ``iss``, ``aud``, ``exp`` (required),
    ``nbf`` and ``iat``."""

    def __init__(self, config: AuthConfig, base_url: str | None = None) -> None:
        super().__init__(realm=REALM)
        self.config = config
        self.base_url = base_url

    def authenticate_token(self, token_string: str) -> VerifiedToken:
        try:
            compact = jws.extract_compact(token_string.encode("ascii"))
            header = compact.headers()
            claims = json.loads(compact.payload or b"")
        except (JoseError, ValueError, UnicodeError):
            raise _invalid("malformed token") from None
        iss = claims.get("iss") if isinstance(claims, dict) else None
        if not isinstance(iss, str):
            raise _invalid("the token has no iss")
        issuer = self.config.find(iss, self.base_url)
        if issuer is None:
            raise _invalid(f"untrusted issuer {iss}")
        if header.get("alg") not in issuer.algorithms:
            raise _invalid(f"alg {header.get('alg')} is not accepted from {iss}")
        typ = header.get("typ")
        if typ is not None and str(typ).lower() not in ACCESS_TOKEN_TYPES:
            raise _invalid(f"typ {typ} is not an access token")
        try:
            keys = issuer.keys(header.get("kid"))
        except (OSError, ValueError, KeyError, TypeError, JoseError):
            raise _invalid(f"the keys of {iss} are unavailable") from None
        try:
            valid = jws.validate_compact(compact, keys, algorithms=issuer.algorithms)
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise _invalid("bad signature or unknown key")
        return VerifiedToken(issuer, claims)

    def validate_token(self, token: VerifiedToken, scopes: Any, request: Any) -> None:
        registry = JWTClaimsRegistry(
            now=lambda: int(clock.epoch()),
            leeway=LEEWAY,
            iss={"essential": True, "value": token.issuer.issuer},
            aud={"essential": True, "values": list(token.issuer.audiences)},
            exp={"essential": True},
        )
        try:
            registry.validate(dict(token.claims))
        except ExpiredTokenError:
            raise _invalid("the token has expired") from None
        except MissingClaimError as error:
            raise _invalid(f"missing claim {error.claim}") from None
        except JoseError as error:
            raise _invalid(error.description) from None


def authenticate(
    authorization_header: str | None,
    config: Mapping[str, Any] | AuthConfig,
    base_url: str | None = None,
    *,
    is_revoked: IsRevoked | None = None,
) -> Requester:
    """The Requester an ``Authorization`` header proves; Unauthorized otherwise.

    :param config: the app config (see ``issuers`` for the keys read), or an AuthConfig.
    :param base_url: the request's FHIR base URL, an audience of the server's own tokens.
    :param is_revoked: tells whether a token id (``jti``) was revoked; asked only about tokens
        the authorization server issued (not those of ``carnet token`` or other issuers).
    """
    if not isinstance(config, AuthConfig):
        config = AuthConfig.from_mapping(config)
    with _unauthorized(authorization_header):
        proof = _prove(authorization_header, config, base_url)
        if proof.expires <= clock.epoch() - LEEWAY:
            raise _invalid("the token has expired")
        if is_revoked is not None and proof.revocable and is_revoked(proof.revocable):
            raise _invalid("the token has been revoked")
        return proof.requester


def verify(authorization_header: str | None, config: AuthConfig, base_url: str | None = None) -> VerifiedToken:
    """The verified token of an ``Authorization`` header, whatever its claims map to;
    Unauthorized otherwise. For the authorization server's own endpoints."""
    with _unauthorized(authorization_header):
        return _protector(config, base_url).validate_request(None, _Request(authorization_header))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Proof:
    requester: Requester
    expires: float
    #: the jti of a token the authorization server recorded, the only ones it can revoke
    revocable: str | None


@lru_cache(maxsize=1024)
def _prove(authorization_header: str | None, config: AuthConfig, base_url: str | None) -> _Proof:
    """Verify a header once: a token's signature and claims do not change, only the clock does,
    so ``authenticate`` checks expiry and revocation on every use (failures are not cached)."""
    token: VerifiedToken = _protector(config, base_url).validate_request(None, _Request(authorization_header))
    jti = token.claims.get("jti")
    issued_here = token.issuer.issuer == config.issuer and token.claims.get("client_id") != CLI_CLIENT_ID
    revocable = jti if issued_here and isinstance(jti, str) else None
    return _Proof(requester(token), token.claims["exp"], revocable)


def _protector(config: AuthConfig, base_url: str | None) -> ResourceProtector:
    protector = ResourceProtector()
    protector.register_token_validator(JWTBearerValidator(config, base_url))
    return protector


@contextmanager
def _unauthorized(authorization_header: str | None) -> Iterator[None]:
    """Turn authlib's errors into Unauthorized with the RFC 6750 challenge."""
    try:
        yield
    except MissingAuthorizationError:
        raise _challenge("No bearer token: send Authorization: Bearer <JWT>") from None
    except UnsupportedTokenTypeError:
        scheme = (authorization_header or "").split(None, 1)[0].lower()
        if scheme == "bearer":
            raise _rejected(_invalid("malformed Authorization header")) from None
        raise _challenge("Unsupported authorization scheme: send Authorization: Bearer <JWT>") from None
    except InvalidTokenError as error:
        raise _rejected(error) from None


def requester(token: VerifiedToken) -> Requester:
    """Map the claims of a verified token to a Requester (InvalidTokenError when they cannot)."""
    claims, issuer = token.claims, token.issuer
    sub = claims.get(issuer.claim("sub"))
    if not isinstance(sub, str) or not sub:
        raise _invalid("missing claim sub")
    scopes = _scopes(claims.get(issuer.claim("scope")))
    purpose = claims.get(issuer.claim("purpose_of_use"))
    if purpose is not None and purpose not in MODE_BY_PURPOSE:
        raise _invalid(f"purpose_of_use must be one of {' '.join(MODE_BY_PURPOSE)}")
    reason = claims.get(issuer.claim("reason"))
    if reason is not None and not isinstance(reason, str):
        raise _invalid("reason must be a string")
    mode = MODE_BY_PURPOSE[purpose] if purpose is not None else "normal"
    fhir_user = claims.get(issuer.claim("fhirUser"))
    if fhir_user is None:
        contexts = {parsed.context for parsed in map(smart.parse, scopes) if parsed is not None}
        if contexts != {"system"}:
            raise _invalid("a token without fhirUser must carry system/ scopes, and only those")
        return Requester(kind="system", sub=sub, scopes=scopes, mode=mode, reason=reason)
    ref = _reference(fhir_user, issuer)
    kind = KIND_BY_TYPE[ref.split("/", 1)[0]]
    # a TRE_G15 profession / TRE_R38 specialty stated by the issuer; the directory's win (enrich)
    profession, specialty = (claims.get(issuer.claim(name)) for name in ("profession", "specialty"))
    return Requester(
        kind=kind,
        sub=sub,
        ref=ref,
        scopes=scopes,
        mode=mode,
        reason=reason,
        profession=profession if isinstance(profession, str) else None,
        specialty=specialty if isinstance(specialty, str) else None,
    )


def _scopes(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise _invalid("scope must be a space-separated string")


def _reference(fhir_user: Any, issuer: Issuer) -> str:
    """``Type/id`` from a relative fhirUser, or from an absolute one under this server's base."""
    if isinstance(fhir_user, str):
        relative = fhir_user
        for base in issuer.audiences:
            if fhir_user.startswith(base.rstrip("/") + "/"):
                relative = fhir_user[len(base.rstrip("/")) + 1 :]
                break
        if FHIR_USER.fullmatch(relative):
            return relative
    raise _invalid(f"fhirUser must be a {', '.join(KIND_BY_TYPE)} of this server: {fhir_user!s:.100}")


def _challenge(diagnostics: str) -> Unauthorized:
    return Unauthorized(diagnostics, headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})


def _rejected(error: InvalidTokenError) -> Unauthorized:
    headers = dict(error.get_headers())
    return Unauthorized(
        f"Invalid bearer token: {error.description}",
        headers={"WWW-Authenticate": headers["WWW-Authenticate"]},
    )

"""Access tokens as JWTs, after the JWT profile for OAuth 2.0 access tokens
(RFC 9068, https://www.rfc-editor.org/rfc/rfc9068; JWT itself: RFC 7519).

Claims: ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``jti``, ``client_id``, ``scope`` (space
separated, SMART syntax), ``fhirUser`` (a relative reference such as ``Practitioner/123``; absent
for system clients), and for professionals an optional ``purpose_of_use`` (TREAT, BTG, ETREAT)
with a free-text ``reason``. Header: ``typ: at+jwt``, ``alg: RS256``, ``kid``.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from joserfc import jwt

from consent.requester import KIND_BY_TYPE
from consent.requester import MODE_BY_PURPOSE
from fhir_server import clock
from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.keys import load_or_create_key

TOKEN_TYPE = "at+jwt"
#: client_id of the tokens ``carnet token`` prints
CLI_CLIENT_ID = "carnet-cli"
#: a relative reference to a person the server knows: ``Practitioner/123``
FHIR_USER = re.compile(rf"(?P<type>{'|'.join(KIND_BY_TYPE)})/(?P<id>[A-Za-z0-9\-.]{{1,64}})")


def claims_for(
    *,
    fhir_user: str | None,
    scope: str,
    purpose: str | None,
    reason: str | None,
    ttl: int,
    sub: str | None,
    issuer: str,
    audience: str,
    client_id: str = CLI_CLIENT_ID,
) -> dict[str, Any]:
    """The claim set of a new access token (expiring ``ttl`` seconds from now; a negative ttl
    makes an expired one); ValueError on a bad fhirUser or purpose."""
    if fhir_user is not None and FHIR_USER.fullmatch(fhir_user) is None:
        raise ValueError(f"fhirUser must be one of {', '.join(KIND_BY_TYPE)}/<id>: {fhir_user!r}")
    if purpose is not None and purpose not in MODE_BY_PURPOSE:
        raise ValueError(f"purpose_of_use must be one of {', '.join(MODE_BY_PURPOSE)}: {purpose!r}")
    subject = sub or fhir_user or client_id
    issued = int(clock.epoch())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "exp": issued + ttl,
        "iat": issued,
        "jti": uuid.uuid4().hex,
        "client_id": client_id,
        "scope": scope,
    }
    optional = {"fhirUser": fhir_user, "purpose_of_use": purpose, "reason": reason}
    claims.update((name, value) for name, value in optional.items() if value is not None)
    return claims


def sign(data_dir: str | os.PathLike[str], claims: dict[str, Any]) -> str:
    """``claims`` as a compact JWS signed with the server's key."""
    key = load_or_create_key(data_dir)
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": TOKEN_TYPE}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def mint_token(
    data_dir: str | os.PathLike[str],
    *,
    fhir_user: str | None,
    scope: str,
    purpose: str | None,
    reason: str | None,
    ttl: int,
    sub: str | None,
    issuer: str,
    audience: str,
) -> str:
    """A signed access token, as ``carnet token`` prints it."""
    claims = claims_for(
        fhir_user=fhir_user,
        scope=scope,
        purpose=purpose,
        reason=reason,
        ttl=ttl,
        sub=sub,
        issuer=issuer,
        audience=audience,
    )
    return sign(data_dir, claims)

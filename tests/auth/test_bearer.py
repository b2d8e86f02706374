"""Bearer token -> Requester, and every way a token is refused (401 + WWW-Authenticate).
Unit twin of the scope matrix: tests/auth/test_scopes.py."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import ECKey
from joserfc.jwk import OctKey
from joserfc.jwk import RSAKey

from consent.requester import Requester
from fhir_server.auth.bearer import authenticate
from fhir_server.auth.issuers import AuthConfig
from fhir_server.auth.keys import load_or_create_key
from fhir_server.auth.tokens import claims_for
from fhir_server.auth.tokens import mint_token
from fhir_server.auth.tokens import sign as sign_own
from fhir_server.errors import Unauthorized
from tests.auth.conftest import IDP
from tests.auth.conftest import sign
from tests.support import Clock

CHALLENGE = 'Bearer realm="carnet"'


def own(data_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Claims of a valid own token for a practitioner, with overrides (None deletes)."""
    claims = claims_for(
        fhir_user="Practitioner/p1",
        scope="user/*.rs",
        purpose=None,
        reason=None,
        ttl=300,
        sub=None,
        issuer="carnet",
        audience="carnet",
    )
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refused(header: str | None, config: Any, *args: Any, **kwargs: Any) -> Unauthorized:
    with pytest.raises(Unauthorized) as error:
        authenticate(header, config, *args, **kwargs)
    assert error.value.status_code == 401
    assert error.value.issues[0]["code"] == "login"
    return error.value


@pytest.mark.parametrize(
    ("fhir_user", "scope", "purpose", "reason", "expected"),
    [
        (
            "Patient/pat1",
            "patient/*.rs",
            None,
            None,
            Requester("patient", "Patient/pat1", "Patient/pat1", frozenset({"patient/*.rs"})),
        ),
        (
            "RelatedPerson/rp1",
            "patient/*.rs openid",
            None,
            None,
            Requester(
                "related",
                "RelatedPerson/rp1",
                "RelatedPerson/rp1",
                frozenset({"patient/*.rs", "openid"}),
            ),
        ),
        (
            "Practitioner/p1",
            "user/*.cruds",
            "TREAT",
            None,
            Requester("practitioner", "Practitioner/p1", "Practitioner/p1", frozenset({"user/*.cruds"})),
        ),
        (
            "PractitionerRole/r1",
            "user/*.rs",
            "BTG",
            "unconscious patient",
            Requester(
                "practitioner",
                "PractitionerRole/r1",
                "PractitionerRole/r1",
                frozenset({"user/*.rs"}),
                "bris_de_glace",
                "unconscious patient",
            ),
        ),
        (
            "Practitioner/p1",
            "user/*.rs",
            "ETREAT",
            "SAMU call 123",
            Requester(
                "practitioner",
                "Practitioner/p1",
                "Practitioner/p1",
                frozenset({"user/*.rs"}),
                "centre_15",
                "SAMU call 123",
            ),
        ),
        (
            None,
            "system/*.rs system/Patient.c",
            None,
            None,
            Requester("system", "carnet-cli", None, frozenset({"system/*.rs", "system/Patient.c"})),
        ),
    ],
)
def test_each_kind(
    data_dir: Path,
    config: AuthConfig,
    fhir_user: str | None,
    scope: str,
    purpose: str | None,
    reason: str | None,
    expected: Requester,
) -> None:
    token = mint_token(
        data_dir,
        fhir_user=fhir_user,
        scope=scope,
        purpose=purpose,
        reason=reason,
        ttl=60,
        sub=None,
        issuer="carnet",
        audience="carnet",
    )
    assert authenticate(bearer(token), config) == expected


def test_sub_and_audience_list(data_dir: Path, config: AuthConfig) -> None:
    token = sign_own(data_dir, own(data_dir, sub="alice", aud=["other", "carnet"]))
    assert authenticate(bearer(token), config).sub == "alice"


def test_no_token_is_a_bare_challenge(config: AuthConfig) -> None:
    for header in (None, "", "Basic dXNlcjpwYXNz"):
        error = refused(header, config)
        assert error.headers == {"WWW-Authenticate": CHALLENGE}


def _none_alg(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_refusals(data_dir: Path, config: AuthConfig, idp_key: RSAKey) -> None:
    stranger = RSAKey.generate_key(2048, auto_kid=True)
    server = load_or_create_key(data_dir)
    public_as_secret = OctKey.import_key(json.dumps(server.as_dict(private=False)).encode())
    now = int(time.time())
    cases: dict[str, tuple[str, str]] = {
        "expired": (sign_own(data_dir, own(data_dir, exp=now - 120)), "expired"),
        "missing exp": (sign_own(data_dir, own(data_dir, exp=None)), "missing claim exp"),
        "not yet valid": (sign_own(data_dir, own(data_dir, nbf=now + 600)), "not yet valid"),
        "bad signature": (sign(own(data_dir), stranger, kid=server.kid), "bad signature"),
        "tampered": (sign_own(data_dir, own(data_dir))[:-6] + "AAAAAA", "bad signature"),
        "wrong issuer": (
            sign_own(data_dir, own(data_dir, iss="https://evil.example")),
            "untrusted issuer",
        ),
        "no issuer": (sign_own(data_dir, own(data_dir, iss=None)), "no iss"),
        "external issuer, our key": (sign_own(data_dir, own(data_dir, iss=IDP)), "bad signature"),
        "wrong audience": (
            sign_own(data_dir, own(data_dir, aud="https://other.example/fhir")),
            "Invalid claim",
        ),
        "no audience": (sign_own(data_dir, own(data_dir, aud=None)), "missing claim aud"),
        "alg none": (_none_alg(own(data_dir)), "alg none"),
        "HS256 with the public key": (
            sign(own(data_dir), public_as_secret, alg="HS256", kid=server.kid),
            "alg HS256",
        ),
        "id token typ": (sign(own(data_dir), server, typ="logout+jwt"), "not an access token"),
        "unknown purpose": (
            sign_own(data_dir, own(data_dir, purpose_of_use="FUN")),
            "purpose_of_use",
        ),
        "reason not text": (sign_own(data_dir, own(data_dir, reason=["a"])), "reason"),
        "fhirUser of another type": (
            sign_own(data_dir, own(data_dir, fhirUser="Device/d1")),
            "fhirUser",
        ),
        "fhirUser on another server": (
            sign_own(data_dir, own(data_dir, fhirUser="https://other.example/fhir/Patient/1")),
            "fhirUser",
        ),
        "no fhirUser, user scopes": (
            sign_own(data_dir, own(data_dir, fhirUser=None)),
            "without fhirUser",
        ),
        "no fhirUser, mixed scopes": (
            sign_own(data_dir, own(data_dir, fhirUser=None, scope="system/*.rs user/*.rs")),
            "without fhirUser",
        ),
        "no fhirUser, no scopes": (
            sign_own(data_dir, own(data_dir, fhirUser=None, scope="openid")),
            "without fhirUser",
        ),
        "scope not text": (sign_own(data_dir, own(data_dir, scope={"a": 1})), "scope"),
        "empty sub": (sign_own(data_dir, own(data_dir, sub="")), "missing claim sub"),
        "garbage": ("not.a.jwt", "malformed token"),
        "two parts": ("abc.def", "malformed token"),
        "not ascii": ("é.é.é", "malformed token"),
    }
    for name, (token, description) in cases.items():
        error = refused(bearer(token), config)
        challenge = error.headers["WWW-Authenticate"]
        assert challenge.startswith(CHALLENGE + ', error="invalid_token", error_description="'), name
        assert description in challenge, (name, challenge)
        assert description in error.diagnostics, name


def test_malformed_header(config: AuthConfig) -> None:
    for header in ("Bearer", "Bearer   "):
        error = refused(header, config)
        assert 'error="invalid_token"' in error.headers["WWW-Authenticate"]
        assert "malformed Authorization header" in error.diagnostics


def test_revoked(data_dir: Path, config: AuthConfig, idp_key: RSAKey) -> None:
    claims = own(data_dir, client_id="an-app")  # issued by the authorization server
    token = bearer(sign_own(data_dir, claims))
    assert authenticate(token, config, is_revoked=lambda jti: False).ref == "Practitioner/p1"
    error = refused(token, config, is_revoked={claims["jti"]}.__contains__)
    assert "revoked" in error.headers["WWW-Authenticate"]

    def unasked(jti: str) -> bool:
        raise AssertionError("only tokens of the authorization server are looked up")

    printed = bearer(sign_own(data_dir, own(data_dir)))  # carnet token's
    assert authenticate(printed, config, is_revoked=unasked).ref == "Practitioner/p1"
    external = bearer(sign(idp_claims(jti="j1", client_id="x"), idp_key))
    assert authenticate(external, config, is_revoked=unasked).kind == "practitioner"


def idp_claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "iss": IDP,
        "sub": "u-42",
        "aud": "https://carnet.example/fhir",
        "exp": int(time.time()) + 60,
        "fhir_user": "https://carnet.example/fhir/Practitioner/p9",
        "scp": ["user/*.rs", "openid"],
    }
    claims.update(overrides)
    return claims


def test_external_issuer_with_claim_mapping(config: AuthConfig, idp_key: RSAKey) -> None:
    requester = authenticate(bearer(sign(idp_claims(), idp_key)), config)
    assert requester == Requester("practitioner", "u-42", "Practitioner/p9", frozenset({"user/*.rs", "openid"}))
    relative = authenticate(bearer(sign(idp_claims(fhir_user="Patient/x"), idp_key)), config)
    assert relative.kind == "patient" and relative.ref == "Patient/x"


def test_external_issuer_refusals(data_dir: Path, config: AuthConfig, idp_key: RSAKey) -> None:
    es_key = ECKey.generate_key("P-256", auto_kid=True)
    cases = {
        "our audience is not theirs": (sign(idp_claims(aud="carnet"), idp_key), "Invalid claim"),
        "signed by us": (sign_own(data_dir, idp_claims()), "bad signature"),
        "unknown key": (sign(idp_claims(), es_key, alg="ES256"), "bad signature"),
        "expired": (sign(idp_claims(exp=int(time.time()) - 100), idp_key), "expired"),
        "unmapped claim name": (
            sign(idp_claims(fhir_user=None, fhirUser="Practitioner/p9"), idp_key),
            "without fhirUser",
        ),
    }
    for name, (token, description) in cases.items():
        error = refused(bearer(token), config)
        assert description in error.headers["WWW-Authenticate"], name


def test_audiences_of_own_tokens(data_dir: Path) -> None:
    for_url = bearer(sign_own(data_dir, own(data_dir, aud="http://h/fhir")))
    for_name = bearer(sign_own(data_dir, own(data_dir)))  # aud "carnet", as carnet token mints
    default = {"DATA_DIR": data_dir}
    assert authenticate(for_url, default, "http://h/fhir").ref == "Practitioner/p1"
    assert authenticate(for_name, default, "http://h/fhir").ref == "Practitioner/p1"
    refused(for_url, default, "http://other/fhir")
    configured = {"DATA_DIR": data_dir, "TOKEN_AUDIENCE": "http://h/fhir"}
    assert authenticate(for_url, configured, "http://spoofed/fhir").ref == "Practitioner/p1"
    assert "Invalid claim" in refused(for_name, configured, "http://h/fhir").diagnostics


def test_absolute_fhir_user_under_the_base(data_dir: Path) -> None:
    token = bearer(sign_own(data_dir, own(data_dir, aud="http://h/fhir", fhirUser="http://h/fhir/Patient/7")))
    assert authenticate(token, {"DATA_DIR": data_dir}, "http://h/fhir").ref == "Patient/7"


def test_a_verified_token_still_expires(data_dir: Path, config: AuthConfig) -> None:
    """On a set clock (the app's ``CLOCK``): valid 5 s before exp, refused 55 s after."""
    clock = Clock(datetime.fromtimestamp(1_900_000_000, UTC))
    app = Flask(__name__)
    app.config["CLOCK"] = clock
    token = bearer(sign_own(data_dir, own(data_dir, iat=1_900_000_000, exp=1_900_000_005)))
    with app.app_context():
        assert authenticate(token, config).ref == "Practitioner/p1"
        assert authenticate(token, config).ref == "Practitioner/p1"  # the verification is reused
        clock.advance(seconds=60)
        assert "expired" in refused(token, config).headers["WWW-Authenticate"]


def test_profession_claims_reach_the_requester(data_dir: Path, config: AuthConfig) -> None:
    """A TRE_G15 profession and TRE_R38 specialty stated by the issuer (the directory's win later)."""
    token = sign(
        own(data_dir, fhirUser="Practitioner/p", profession="21", specialty="SM54"), load_or_create_key(data_dir)
    )
    who = authenticate(bearer(token), config)
    assert (who.profession, who.specialty) == ("21", "SM54")
    plain = authenticate(
        bearer(sign(own(data_dir, fhirUser="Practitioner/p", profession=21), load_or_create_key(data_dir))), config
    )
    assert plain.profession is None

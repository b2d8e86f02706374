"""The authorization server for services, driven over HTTP by real clients (authlib's OAuth2
client, fhirclient, fhirpy): client credentials with a secret and with private_key_jwt (SMART
Backend Services), dynamic registration, introspection and revocation, and their refusals."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from fhirclient.client import FHIRClient
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError
from fhirpy.base.exceptions import ForbiddenError
from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.jwk import Key
from joserfc.jwk import RSAKey

from fhir_server.auth import accounts
from fhir_server.auth.tokens import mint_token
from tests.auth.conftest import Live


def fhir(live: Live, token: str) -> SyncFHIRClient:
    return SyncFHIRClient(live.fhir, authorization=f"Bearer {token}")


def secret_client(live: Live, scope: str = "system/Patient.rs") -> tuple[str, str]:
    client_id, secret = accounts.add_client(live.db, name="service", scope=scope)
    assert secret is not None
    return client_id, secret


def key_client(live: Live, key: Key, scope: str = "system/*.rs") -> str:
    client_id, secret = accounts.add_client(
        live.db, name="backend", scope=scope, jwks={"keys": [key.as_dict(private=False)]}
    )
    assert secret is None
    return client_id


def assertion(live: Live, client_id: str, key: Key, alg: str = "RS384", **overrides: Any) -> str:
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{live.url}/auth/token",
        "exp": int(time.time()) + 240,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])


def token_request(live: Live, signed: str, scope: str = "system/*.rs") -> requests.Response:
    return requests.post(
        f"{live.url}/auth/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        },
    )


def test_discovery(live: Live) -> None:
    root = requests.get(f"{live.url}/.well-known/smart-configuration").json()
    assert requests.get(f"{live.fhir}/.well-known/smart-configuration").json() == root
    assert root["token_endpoint"] == f"{live.url}/auth/token"
    assert root["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
    assert {"client-confidential-asymmetric", "permission-v2", "sso-openid-connect"} <= set(root["capabilities"])
    assert requests.get(root["jwks_uri"]).json()["keys"][0]["alg"] == "RS256"


def test_client_secret(live: Live) -> None:
    client_id, secret = secret_client(live)
    session = OAuth2Session(client_id, secret, scope="system/Patient.rs")
    token = session.fetch_token(f"{live.url}/auth/token", grant_type="client_credentials")
    assert token["expires_in"] == 300 and "refresh_token" not in token
    assert fhir(live, token["access_token"]).reference("Patient", "p1").to_resource()["name"][0]["family"] == "Martin"
    assert len(fhir(live, token["access_token"]).resources("Patient").fetch()) == 2
    with_post = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_post")
    assert (
        with_post.fetch_token(f"{live.url}/auth/token", grant_type="client_credentials")["scope"] == "system/Patient.rs"
    )


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (RSAKey.generate_key(2048, auto_kid=True), "RS384"),
        (ECKey.generate_key("P-384", auto_kid=True), "ES384"),
    ],
)
def test_private_key_jwt(live: Live, key: Key, alg: str) -> None:
    client_id = key_client(live, key)
    session = OAuth2Session(client_id, key, token_endpoint_auth_method="private_key_jwt", scope="system/Patient.rs")
    # SMART: exp at most five minutes ahead (authlib's client defaults to an hour)
    five_minutes = {"exp": int(time.time()) + 240}
    session.register_client_auth_method(PrivateKeyJWT(f"{live.url}/auth/token", alg=alg, claims=five_minutes))
    token = session.fetch_token(f"{live.url}/auth/token", grant_type="client_credentials")
    assert token["scope"] == "system/Patient.rs"
    assert fhir(live, token["access_token"]).reference("Patient", "p2").to_resource()["id"] == "p2"


def test_fhirclient_backend_service(live: Live) -> None:
    key = RSAKey.generate_key(2048, auto_kid=True)
    client_id = key_client(live, key)
    smart = FHIRClient(
        settings={
            "app_id": client_id,
            "api_base": live.fhir,
            "scope": "system/Patient.rs",
            "jwt_token": assertion(live, client_id, key),
        }
    )
    smart.wants_patient = False  # a backend service: no launch/patient
    smart.prepare()
    smart.authorize()
    from fhirclient.models.patient import Patient

    assert Patient.read("p1", smart.server).name[0].family == "Martin"


def test_jwks_uri(live: Live) -> None:
    key = RSAKey.generate_key(2048, auto_kid=True)
    live.jwks["svc"] = {"keys": [key.as_dict(private=False)]}
    client_id, _ = accounts.add_client(
        live.db, name="remote", scope="system/*.rs", jwks_uri=f"{live.url}/test/jwks/svc"
    )
    response = token_request(live, assertion(live, client_id, key))
    assert response.status_code == 200, response.text


def test_assertion_refusals(live: Live) -> None:
    key = RSAKey.generate_key(2048, auto_kid=True)
    other = RSAKey.generate_key(2048, auto_kid=True)
    client_id = key_client(live, key)
    replayed = assertion(live, client_id, key)
    assert token_request(live, replayed).status_code == 200
    cases = {
        "replayed assertion": replayed,
        "wrong audience": assertion(live, client_id, key, aud="https://other.example/token"),
        "expired": assertion(live, client_id, key, exp=int(time.time()) - 300),
        "exp too far ahead": assertion(live, client_id, key, exp=int(time.time()) + 3600),
        "RS256 is not SMART's": assertion(live, client_id, key, alg="RS256"),
        "signed by another key": assertion(live, client_id, other),
        "iss is not sub": assertion(live, client_id, key, iss="someone"),
        "no jti": assertion(live, client_id, key, jti=None),
        "unknown client": assertion(live, "nobody", key, iss="nobody"),
    }
    for name, signed in cases.items():
        response = token_request(live, signed)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_client"), name


def test_secret_refusals(live: Live) -> None:
    client_id, secret = secret_client(live)
    url = f"{live.url}/auth/token"
    wrong = requests.post(url, data={"grant_type": "client_credentials"}, auth=(client_id, "nope"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    escalation = requests.post(
        url,
        data={"grant_type": "client_credentials", "scope": "system/Patient.cruds"},
        auth=(client_id, secret),
    )
    assert (escalation.status_code, escalation.json()["error"]) == (400, "invalid_scope")
    assert "system/Patient.cruds" in escalation.json()["error_description"]
    code = requests.post(url, data={"grant_type": "authorization_code", "code": "x"}, auth=(client_id, secret))
    assert code.json()["error"] == "unauthorized_client"


def test_scopes_limit_the_token(live: Live) -> None:
    client_id, secret = secret_client(live, "system/Patient.r")
    token = OAuth2Session(client_id, secret).fetch_token(f"{live.url}/auth/token", grant_type="client_credentials")
    client = fhir(live, token["access_token"])
    assert client.reference("Patient", "p1").to_resource()["id"] == "p1"
    with pytest.raises(ForbiddenError, match=r"system/Patient\.s"):
        client.resources("Patient").fetch()


def test_revocation_and_introspection(live: Live) -> None:
    client_id, secret = secret_client(live)
    other_id, other_secret = secret_client(live)
    access = OAuth2Session(client_id, secret).fetch_token(f"{live.url}/auth/token", grant_type="client_credentials")[
        "access_token"
    ]

    def introspect(by: tuple[str, str]) -> dict[str, Any]:
        return requests.post(f"{live.url}/auth/introspect", data={"token": access}, auth=by).json()

    active = introspect((client_id, secret))
    assert active["active"] is True and active["client_id"] == client_id and active["scope"] == "system/Patient.rs"
    assert introspect((other_id, other_secret)) == {"active": False}
    foreign = requests.post(f"{live.url}/auth/revoke", data={"token": access}, auth=(other_id, other_secret))
    assert foreign.status_code == 400  # another client's token
    revoked = requests.post(
        f"{live.url}/auth/revoke",
        data={"token": access, "token_type_hint": "access_token"},
        auth=(client_id, secret),
    )
    assert revoked.status_code == 200
    assert introspect((client_id, secret)) == {"active": False}
    with pytest.raises(AuthorizationError, match="revoked"):
        fhir(live, access).reference("Patient", "p1").to_resource()
    unknown = requests.post(f"{live.url}/auth/revoke", data={"token": "garbage"}, auth=(client_id, secret))
    assert unknown.status_code == 200  # RFC 7009 §2.2: an invalid token is no error


def test_expired_and_foreign_tokens(live: Live) -> None:
    from fhir_server.auth.tokens import claims_for
    from fhir_server.auth.tokens import sign

    claims = claims_for(
        fhir_user=None,
        scope="system/*.rs",
        purpose=None,
        reason=None,
        ttl=60,
        sub="svc",
        issuer="carnet",
        audience=live.fhir,
    )
    claims["exp"] = int(time.time()) - 120
    with pytest.raises(AuthorizationError, match="expired"):
        fhir(live, sign(live.data_dir, claims)).reference("Patient", "p1").to_resource()
    elsewhere = mint_token(
        live.data_dir,
        fhir_user=None,
        scope="system/*.rs",
        purpose=None,
        reason=None,
        ttl=60,
        sub="svc",
        issuer="carnet",
        audience="https://other.example/fhir",
    )
    with pytest.raises(AuthorizationError, match="Invalid claim"):
        fhir(live, elsewhere).reference("Patient", "p1").to_resource()


def admin_token(live: Live, scope: str = "carnet/admin") -> str:
    return mint_token(
        live.data_dir,
        fhir_user=None,
        scope=scope,
        purpose=None,
        reason=None,
        ttl=60,
        sub="admin",
        issuer="carnet",
        audience=live.fhir,
    )


def test_dynamic_registration(live: Live) -> None:
    url = f"{live.url}/auth/register"
    metadata = {
        "client_name": "lab feed",
        "scope": "system/Patient.rs",
        "grant_types": ["client_credentials"],
    }
    created = requests.post(url, json=metadata, headers={"Authorization": f"Bearer {admin_token(live)}"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["token_endpoint_auth_method"] == "client_secret_basic" and body["client_secret"]
    token = OAuth2Session(body["client_id"], body["client_secret"]).fetch_token(
        f"{live.url}/auth/token", grant_type="client_credentials"
    )
    assert token["scope"] == "system/Patient.rs"

    key = ECKey.generate_key("P-384", auto_kid=True)
    keyed = requests.post(
        url,
        headers={"Authorization": f"Bearer {admin_token(live)}"},
        json={
            "client_name": "backend",
            "scope": "system/*.rs",
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [key.as_dict(private=False)]},
        },
    )
    assert keyed.status_code == 201 and "client_secret" not in keyed.json()
    assert token_request(live, assertion(live, keyed.json()["client_id"], key, alg="ES384")).status_code == 200


def test_registration_refusals(live: Live) -> None:
    url = f"{live.url}/auth/register"
    metadata = {"client_name": "x", "scope": "system/*.rs"}
    anonymous = requests.post(url, json=metadata)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith('Bearer realm="carnet"')
    user = requests.post(url, json=metadata, headers={"Authorization": f"Bearer {admin_token(live, 'system/*.*')}"})
    assert (user.status_code, user.json()["error"]) == (403, "insufficient_scope")
    bad = requests.post(
        url,
        headers={"Authorization": f"Bearer {admin_token(live)}"},
        json={"client_name": "x", "scope": "user/*.rs", "grant_types": ["client_credentials"]},
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_client_metadata")
    mismatch = requests.post(
        url,
        headers={"Authorization": f"Bearer {admin_token(live)}"},
        json={"client_name": "x", "scope": "system/*.rs", "grant_types": ["authorization_code"]},
    )
    assert mismatch.json()["error"] == "invalid_client_metadata"

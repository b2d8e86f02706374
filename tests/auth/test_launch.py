"""SMART standalone launch: authorization code with PKCE through the login and approval page,
driven by fhirclient (the app) and requests (the browser), then fhirpy on the FHIR endpoints;
refresh, revocation, OpenID id_token, launch context, purpose of use, and the refusals."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
import requests
from fhirclient.client import FHIRClient
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError

from fhir_server.auth import accounts
from tests.auth.conftest import Live

REDIRECT = "http://127.0.0.1:9/callback"
APP_SCOPES = "launch/patient openid fhirUser offline_access patient/*.rs user/*.rs"


@pytest.fixture(scope="module")
def users(live: Live) -> dict[str, str]:
    accounts.add_user(live.db, "lea", "patient-pw", "Patient/p1")
    accounts.add_user(live.db, "dr", "doctor-pw", "Practitioner/d1")
    return {"lea": "patient-pw", "dr": "doctor-pw"}


def app_client(live: Live, public: bool = False, scope: str = APP_SCOPES) -> tuple[str, str | None]:
    return accounts.add_client(live.db, name="Mon Carnet", scope=scope, redirect_uris=[REDIRECT], public=public)


def sign_in(url: str, **form: str) -> requests.Response:
    """The browser: the page shows, then the user signs in and approves (or not) in one post."""
    page = requests.get(url, allow_redirects=False)
    assert page.status_code == 200 and "Sign in to Carnet" in page.text, page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    return requests.post(url, data={"action": "approve", **form}, allow_redirects=False)


def callback(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def smart_app(live: Live, client_id: str, secret: str | None, scope: str = APP_SCOPES) -> FHIRClient:
    settings: dict[str, Any] = {
        "app_id": client_id,
        "api_base": live.fhir,
        "redirect_uri": REDIRECT,
        "scope": scope,
    }
    if secret:
        settings["app_secret"] = secret
    return FHIRClient(settings=settings)


def claims_of(jwt_string: str) -> dict[str, Any]:
    payload = jwt_string.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_patient_app_with_fhirclient(live: Live, users: dict[str, str]) -> None:
    client_id, secret = app_client(live)
    assert secret is not None  # a confidential app
    smart = smart_app(live, client_id, secret)
    response = sign_in(smart.authorize_url, username="lea", password=users["lea"])
    smart.handle_callback(response.headers["Location"])
    assert smart.patient_id == "p1"
    assert smart.patient.name[0].family == "Martin"  # fhirclient reads Patient/p1 with its token
    auth = smart.server.auth
    granted = claims_of(auth.access_token)
    assert granted["fhirUser"] == "Patient/p1" and granted["sub"] == "lea"
    assert set(granted["scope"].split()) == set(APP_SCOPES.split())
    assert granted["aud"] == live.fhir
    first_refresh = auth.refresh_token
    assert first_refresh

    assert smart.reauthorize()  # refresh_token grant: new access and refresh tokens
    assert auth.refresh_token != first_refresh
    stale = requests.post(
        f"{live.url}/auth/token",
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": first_refresh},
    )
    assert stale.json()["error"] == "invalid_grant"

    fhirpy = SyncFHIRClient(live.fhir, authorization=f"Bearer {auth.access_token}")
    assert fhirpy.reference("Patient", "p1").to_resource()["id"] == "p1"
    revoked = requests.post(
        f"{live.url}/auth/revoke",
        auth=(client_id, secret),
        data={"token": auth.refresh_token, "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    with pytest.raises(AuthorizationError, match="revoked"):
        fhirpy.reference("Patient", "p1").to_resource()  # revoking the refresh token ends the access too
    assert not_refreshable(live, client_id, secret, auth.refresh_token)


def not_refreshable(live: Live, client_id: str, secret: str | None, refresh_token: str) -> bool:
    response = requests.post(
        f"{live.url}/auth/token",
        auth=(client_id, secret or ""),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    return bool(response.json().get("error") == "invalid_grant")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(live: Live, client_id: str, challenge: str | None, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": APP_SCOPES,
        "state": "s1",
        "aud": live.fhir,
        "nonce": "n1",
    }
    if challenge:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    query.update(params)
    return f"{live.url}/auth/authorize?{urlencode(query)}"


def exchange(live: Live, client_id: str, code: str, verifier: str) -> requests.Response:
    return requests.post(
        f"{live.url}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )


def test_public_practitioner_in_emergency(live: Live, users: dict[str, str]) -> None:
    client_id, secret = app_client(live, public=True)
    assert secret is None
    verifier, challenge = pkce()
    params = callback(
        sign_in(
            authorize_url(live, client_id, challenge),
            username="dr",
            password=users["dr"],
            patient="p2",
            purpose="BTG",
            reason="patient unconscious",
        )
    )
    assert params["state"] == "s1"
    token = exchange(live, client_id, params["code"], verifier).json()
    assert token["patient"] == "p2"
    assert set(token["scope"].split()) == set(APP_SCOPES.split()) - {"patient/*.rs"}  # a practitioner's scopes
    id_token = claims_of(token["id_token"])
    assert id_token["fhirUser"] == f"{live.fhir}/Practitioner/d1" and id_token["aud"] == [client_id]
    assert id_token["iss"] == live.url and id_token["nonce"] == "n1"
    who = requests.get(f"{live.fhir}/whoami", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert who == {
        "kind": "practitioner",
        "ref": "Practitioner/d1",
        "sub": "dr",
        "mode": "bris_de_glace",
        "reason": "patient unconscious",
        "scopes": sorted(token["scope"].split()),
    }
    again = exchange(live, client_id, params["code"], verifier)
    assert again.json()["error"] == "invalid_grant"  # a code serves once
    introspected = requests.post(
        f"{live.url}/auth/introspect", data={"token": token["access_token"], "client_id": client_id}
    ).json()
    assert introspected["active"] and introspected["patient"] == "p2" and introspected["fhirUser"] == "Practitioner/d1"


def test_page_refusals(live: Live, users: dict[str, str]) -> None:
    client_id, _ = app_client(live, public=True)
    _, challenge = pkce()
    url = authorize_url(live, client_id, challenge)
    wrong = requests.post(
        url,
        data={"action": "approve", "username": "lea", "password": "nope"},
        allow_redirects=False,
    )
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    for form, message in [
        ({"username": "dr", "password": users["dr"]}, "id of the patient"),
        (
            {"username": "dr", "password": users["dr"], "patient": "p2", "purpose": "ETREAT"},
            "ETREAT needs a reason",
        ),
        (
            {"username": "lea", "password": users["lea"], "purpose": "BTG", "reason": "x"},
            "Only professionals",
        ),
    ]:
        refused = requests.post(url, data={"action": "approve", **form}, allow_redirects=False)
        assert refused.status_code == 400 and message in refused.text, form
    denied = callback(requests.post(url, data={"action": "deny"}, allow_redirects=False))
    assert (denied["error"], denied["state"]) == ("access_denied", "s1")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"aud": "https://other.example/fhir"}, "invalid_request"),
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "patient/*.cruds"}, "invalid_scope"),
        ({"scope": "system/*.rs"}, "invalid_scope"),
        ({"scope": "patient/Observation.rs?category=laboratory"}, "invalid_scope"),
    ],
)
def test_authorization_request_refusals(live: Live, params: dict[str, str], error: str) -> None:
    client_id, _ = app_client(live, public=True)
    _, challenge = pkce()
    response = requests.get(authorize_url(live, client_id, challenge, **params), allow_redirects=False)
    assert callback(response)["error"] == error


def test_unknown_redirect_is_not_followed(live: Live) -> None:
    client_id, _ = app_client(live, public=True)
    _, challenge = pkce()
    response = requests.get(
        authorize_url(live, client_id, challenge, redirect_uri="https://evil.example/cb"),
        allow_redirects=False,
    )
    assert response.status_code == 400 and "Location" not in response.headers


def test_token_request_refusals(live: Live, users: dict[str, str]) -> None:
    client_id, _ = app_client(live, public=True)
    verifier, challenge = pkce()
    params = callback(sign_in(authorize_url(live, client_id, challenge), username="lea", password=users["lea"]))
    assert exchange(live, client_id, params["code"], "x" * 43).json()["error"] == "invalid_grant"
    other_id, _ = app_client(live, public=True)
    assert exchange(live, other_id, params["code"], verifier).json()["error"] == "invalid_grant"
    token = exchange(live, client_id, params["code"], verifier).json()
    escalate = requests.post(
        f"{live.url}/auth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": client_id,
            "scope": "patient/*.cruds",
        },
    )
    assert escalate.json()["error"] == "invalid_scope"
    narrower = requests.post(
        f"{live.url}/auth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": client_id,
            "scope": "patient/*.rs offline_access",
        },
    ).json()
    assert narrower["scope"] == "patient/*.rs offline_access" and "refresh_token" in narrower


def test_no_refresh_token_without_offline_access(live: Live, users: dict[str, str]) -> None:
    client_id, _ = app_client(live, public=True)
    verifier, challenge = pkce()
    url = authorize_url(live, client_id, challenge, scope="openid patient/*.rs")
    params = callback(sign_in(url, username="lea", password=users["lea"]))
    token = exchange(live, client_id, params["code"], verifier).json()
    assert "refresh_token" not in token and "patient" not in token and token["scope"] == "openid patient/*.rs"
    assert "fhirUser" not in claims_of(token["id_token"])

"""Browser apps in general, over the Flask test client: CORS on the FHIR API, discovery and the
token endpoint (preflights answered without a token), OpenID discovery with an issuer URL, the
granted subset of the scopes a client asks for (RFC 6749 §3.3), the portal's own client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.auth import accounts
from fhir_server.portal import client as portal_client
from fhir_server.storage import Collections
from fhir_server.storage import get_store_of

BASE = "http://127.0.0.1:5000"
ORIGIN = "https://app.example"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


@pytest.mark.parametrize(
    "path", ["/fhir/Patient", "/fhir/Patient/x", "/fhir/metadata", "/.well-known/smart-configuration", "/auth/token"]
)
def test_preflight_answered_without_token(client: FlaskClient, path: str) -> None:
    response = client.options(path, headers=PREFLIGHT)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_headers_on_answers_and_errors(client: FlaskClient, system: dict[str, str]) -> None:
    ok = client.get("/fhir/Patient", headers={**system, "Origin": ORIGIN})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in ok.headers["Access-Control-Expose-Headers"]
    unauthorized = client.get("/fhir/Patient", headers={"Origin": ORIGIN})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in unauthorized.headers["Access-Control-Expose-Headers"]
    discovery = client.get("/.well-known/smart-configuration", headers={"Origin": ORIGIN})
    assert discovery.headers["Access-Control-Allow-Origin"] == "*"
    token = client.post(
        "/auth/token", base_url=BASE, data={"grant_type": "client_credentials"}, headers={"Origin": ORIGIN}
    )
    assert token.status_code == 401 and token.headers["Access-Control-Allow-Origin"] == "*"


def test_no_cors_on_the_approval_page_nor_without_origin(client: FlaskClient) -> None:
    page = client.get("/auth/authorize", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in page.headers
    plain = client.get("/fhir/metadata")
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers
    not_preflight = client.options("/auth/authorize", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in not_preflight.headers


def test_configured_origins(make_app: object) -> None:
    app: Flask = make_app(CORS_ORIGINS="https://app.example, https://other.example")  # type: ignore[operator]
    client = app.test_client()
    allowed = client.options("/fhir/Patient", headers=PREFLIGHT)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers["Vary"]
    refused = client.options("/fhir/Patient", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert refused.status_code == 204 and "Access-Control-Allow-Origin" not in refused.headers
    answer = client.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers


def test_openid_configuration(client: FlaskClient) -> None:
    for path in ("/.well-known/openid-configuration", "/fhir/.well-known/openid-configuration"):
        response = client.get(path, base_url=BASE)
        assert response.status_code == 200
        doc = response.get_json()
        assert doc["issuer"] == BASE
        assert doc["authorization_endpoint"] == f"{BASE}/auth/authorize"
        assert doc["token_endpoint"] == f"{BASE}/auth/token"
        assert doc["jwks_uri"] == f"{BASE}/.well-known/jwks.json"
        assert doc["subject_types_supported"] == ["public"]
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
        assert "fhirUser" in doc["claims_supported"]
    smart = client.get("/.well-known/smart-configuration", base_url=BASE).get_json()
    assert smart["issuer"] == BASE


def test_configured_issuer_url_is_kept(make_app: object) -> None:
    app: Flask = make_app(TOKEN_ISSUER="https://carnet.example")  # type: ignore[operator]
    doc = app.test_client().get("/.well-known/openid-configuration", base_url=BASE).get_json()
    assert doc["issuer"] == "https://carnet.example"


def secret_client(app: Flask, scope: str) -> tuple[str, str]:
    with app.app_context():
        client_id, secret = accounts.add_client(Collections(get_store_of(app)), name="svc", scope=scope)
    assert secret is not None
    return client_id, secret


def test_scope_granted_subset(app: Flask, client: FlaskClient) -> None:
    client_id, secret = secret_client(app, "system/*.rs")
    asked = client.post(
        "/auth/token",
        base_url=BASE,
        auth=(client_id, secret),
        data={
            "grant_type": "client_credentials",
            "scope": "system/*.read launch/patient system/Patient.cruds",
        },
    )
    assert asked.status_code == 200, asked.get_json()
    assert asked.get_json()["scope"] == "system/*.read"
    token = asked.get_json()["access_token"]
    read = client.get("/fhir/Patient", base_url=BASE, headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 200
    write = client.post(
        "/fhir/Patient", base_url=BASE, json={"resourceType": "Patient"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert write.status_code == 403
    nothing = client.post(
        "/auth/token",
        base_url=BASE,
        auth=(client_id, secret),
        data={
            "grant_type": "client_credentials",
            "scope": "launch/patient system/Patient.cruds",
        },
    )
    assert (nothing.status_code, nothing.get_json()["error"]) == (400, "invalid_scope")
    whole = client.post(
        "/auth/token", base_url=BASE, auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    assert whole.status_code == 200 and whole.get_json()["scope"] == "system/*.rs"


def test_portal_client_registered_once(app: Flask, make_app: object) -> None:
    with app.app_context():
        db = Collections(get_store_of(app))
        doc = db[accounts.CLIENTS].find_one({"_id": portal_client.CLIENT_ID})
        assert doc is not None and doc["token_endpoint_auth_method"] == "none"
        assert doc["redirect_uris"] == ["/portal/"] and doc["secret"] is None
        portal_client.register(db)
        portal_client.register(db)
        assert db[accounts.CLIENTS].count_documents({"_id": portal_client.CLIENT_ID}) == 1


def test_portal_redirect_only_to_own_origin(client: FlaskClient) -> None:
    params = {
        "response_type": "code",
        "client_id": portal_client.CLIENT_ID,
        "scope": "openid patient/*.rs",
        "state": "s",
        "aud": f"{BASE}/fhir",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
    }
    own = client.get("/auth/authorize", base_url=BASE, query_string={**params, "redirect_uri": f"{BASE}/portal/"})
    assert own.status_code == 200 and 'name="username"' in own.get_data(as_text=True)
    for elsewhere in ("https://evil.example/portal/", f"{BASE}/other/", f"{BASE}/portal/?x=1"):
        refused = client.get("/auth/authorize", base_url=BASE, query_string={**params, "redirect_uri": elsewhere})
        assert refused.status_code == 400 and "Location" not in refused.headers, elsewhere


def test_portal_page(client: FlaskClient) -> None:
    page = client.get("/portal/", base_url=BASE)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<html lang="fr"' in html and f'data-fhir-base="{BASE}/fhir"' in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    script = client.get("/portal/static/app.js", base_url=BASE)
    assert script.status_code == 200 and "javascript" in (script.mimetype or "")
    assert client.get("/portal/static/nope.js", base_url=BASE).status_code == 404

"""Abuse limits: failed client authentications and sign-ins throttled (429 + Retry-After, shared
by every worker through the store, traced as AuditEvents); header, body and JSON depth limits,
the _count cap, bounded includes and chain fan-out; security headers and cookie flags."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlencode

import pytest

from fhir_server import search_bounds
from fhir_server import searchset
from fhir_server.auth import accounts
from fhir_server.auth import views
from fhir_server.storage import get_store_of
from fhir_server.storage import no_policy
from search.plan import TRUE
from tests.support import bearer

REDIRECT = "http://127.0.0.1:9/callback"


def is_outcome(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def shared_store(make_app, tmp_path):
    """Two apps on one store: two worker processes."""
    settings: dict[str, object] = {"THROTTLE_FAILURES": 3, "THROTTLE_WINDOW_S": 60}
    if os.environ.get("MONGODB_URI"):
        settings["MONGODB_DATABASE"] = f"throttle_{uuid.uuid4().hex[:8]}"
        if os.environ["MONGODB_URI"] == "mongoeco://":  # in memory: one engine per app; a file is shared
            settings["MONGODB_URI"] = f"mongoeco://{tmp_path / 'shared.mongoeco'}"
    else:
        settings["DATABASE_FILE"] = str(tmp_path / "shared.db")
    return make_app(**settings), make_app(**settings)


def failed_logins(store) -> list[dict]:
    return [s.resource for s in store.find("AuditEvent", TRUE, no_policy) if s.resource["type"]["code"] == "110114"]


def test_failed_client_authentications_are_throttled_across_workers(make_app, tmp_path):
    one, two = shared_store(make_app, tmp_path)
    with one.app_context():
        client_id, secret = accounts.add_client(
            views.server().collections, name="svc", scope="system/*.rs", redirect_uris=[], public=False
        )
    form = {"grant_type": "client_credentials", "scope": "system/*.rs"}
    for _ in range(3):
        assert one.test_client().post("/auth/token", data=form, auth=(client_id, "wrong")).status_code in (400, 401)
    blocked = two.test_client().post("/auth/token", data=form, auth=(client_id, secret))  # the other worker
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.get_json()["error"] == "invalid_client"
    assert len(failed_logins(get_store_of(one))) == 3


def test_failed_sign_ins_are_throttled_per_account(make_app, tmp_path):
    app, _ = shared_store(make_app, tmp_path)
    with app.app_context():
        records = views.server().collections
        client_id, _ = accounts.add_client(
            records,
            name="app",
            scope="launch/patient openid fhirUser patient/*.rs",
            redirect_uris=[REDIRECT],
            public=True,
        )
        accounts.add_user(records, "lea", "right-password", "Patient/p1")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid patient/*.rs",
            "state": "s",
            "aud": "http://localhost/fhir",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        }
    )
    client = app.test_client()
    page = client.get(f"/auth/authorize?{query}")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    for _ in range(3):
        wrong = client.post(f"/auth/authorize?{query}", data={"action": "approve", "username": "lea", "password": "no"})
        assert wrong.status_code == 401
    right = client.post(
        f"/auth/authorize?{query}", data={"action": "approve", "username": "lea", "password": "right-password"}
    )
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert right.headers["X-Content-Type-Options"] == "nosniff"
    events = failed_logins(get_store_of(app))
    assert len(events) == 3
    assert any(a["who"]["identifier"]["value"] == "lea" for a in events[0]["agent"] if "who" in a)


def test_headers_too_large_is_431(client, system):
    is_outcome(client.get("/fhir/Patient", headers={**system, "X-Big": "x" * 20_000}), 431)


def test_body_too_large_is_413(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1000)
    resp = app.test_client().post(
        "/fhir/Patient", headers=bearer(app), json={"resourceType": "Patient", "text": {"div": "x" * 2000}}
    )
    is_outcome(resp, 413)


def test_json_nested_too_deep_is_400(client, system):
    nested: dict = {"url": "urn:x", "valueString": "v"}
    for _ in range(80):
        nested = {"url": "urn:x", "extension": [nested]}
    body = is_outcome(
        client.post("/fhir/Patient", json={"resourceType": "Patient", "extension": [nested]}, headers=system), 400
    )
    assert "deeper" in body["issue"][0]["diagnostics"]


def test_count_is_capped(make_app):
    app = make_app(MAX_COUNT=2)
    client, headers = app.test_client(), bearer(app)
    for _ in range(3):
        client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers)
    page = client.get("/fhir/Patient?_count=500", headers=headers).get_json()
    assert len(page["entry"]) == 2 and page["total"] == 3  # R4: the server may return fewer, never more


def observed_patients(client, system, count: int, **patient: str) -> None:
    """``count`` Patients (with ``patient``'s elements), each the subject of one Observation."""
    for _ in range(count):
        body = {"resourceType": "Patient", **patient}
        pid = client.post("/fhir/Patient", json=body, headers=system).get_json()["id"]
        observation = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
        client.post(
            "/fhir/Observation", headers=system, json={**observation, "subject": {"reference": f"Patient/{pid}"}}
        )


def test_includes_are_bounded(client, system, monkeypatch):
    monkeypatch.setattr(searchset, "MAX_INCLUDED", 2)
    observed_patients(client, system, 3)
    resp = client.get("/fhir/Observation?_include=Observation:subject", headers=system)
    assert is_outcome(resp, 400)["issue"][0]["code"] == "too-costly"


@pytest.mark.skipif(
    not os.environ.get("MONGODB_URI"),
    reason="only the MongoDB adapter lists a chain's matches (SQLite runs it as an indexed subquery)",
)
def test_chain_fan_out_is_bounded(client, system, monkeypatch):
    monkeypatch.setattr(search_bounds, "MAX_FANOUT", 1)
    observed_patients(client, system, 2, gender="male")
    resp = client.get("/fhir/Observation?subject:Patient.gender=male", headers=system)
    assert is_outcome(resp, 400)["issue"][0]["code"] == "too-costly"


def test_cookies_are_secure_httponly_samesite(app):
    @app.get("/test-cookie")
    def cookie():
        from flask import make_response

        resp = make_response("ok")
        resp.set_cookie("c", "v")
        return resp

    header = app.test_client().get("/test-cookie").headers["Set-Cookie"]
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]

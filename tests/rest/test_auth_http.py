"""Every endpoint but metadata needs a valid bearer token; scopes are enforced per type and interaction."""

from __future__ import annotations

import pytest

from tests.rest.test_crud import PATIENT
from tests.support import bearer


def test_metadata_needs_no_token(client):
    assert client.get("/fhir/metadata").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
def test_missing_or_bad_token_is_401(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    resp = client.get("/fhir/Patient/x", headers=headers)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.get_json()["resourceType"] == "OperationOutcome"


def test_expired_token_is_401(app, client):
    resp = client.get("/fhir/Patient/x", headers=bearer(app, ttl=-60))
    assert resp.status_code == 401
    assert "invalid_token" in resp.headers["WWW-Authenticate"]


def test_scopes_limit_types_and_interactions(app, client, system):
    read_only = bearer(app, scope="system/Patient.rs")
    assert client.post("/fhir/Patient", json=PATIENT, headers=read_only).status_code == 403
    created = client.post("/fhir/Patient", json=PATIENT, headers=system).get_json()
    assert client.get(f"/fhir/Patient/{created['id']}", headers=read_only).status_code == 200
    assert client.get("/fhir/Practitioner/x", headers=read_only).status_code == 403


def test_jwks_is_public(client):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert keys and all("d" not in k for k in keys)

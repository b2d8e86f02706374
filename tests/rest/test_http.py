"""Media types, _format, _pretty, trailing slashes, body limits, malformed input (R4 http.html)."""

from __future__ import annotations

import pytest

from tests.rest.test_crud import PATIENT
from tests.rest.test_crud import create


@pytest.mark.parametrize(
    "accept,served",
    [
        ("application/fhir+json", "application/fhir+json"),
        ("application/json", "application/json"),
        ("*/*", "application/fhir+json"),
        ("application/fhir+json; fhirVersion=4.0", "application/fhir+json"),
        ("text/html, application/json;q=0.9", "application/json"),
    ],
)
def test_accept(client, system, accept, served):
    resp = client.get("/fhir/metadata", headers={"Accept": accept})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].split(";")[0] == served


@pytest.mark.parametrize("accept", ["application/fhir+xml", "text/html", "application/fhir+json; fhirVersion=5.0"])
def test_accept_not_served_is_406(client, system, accept):
    resp = client.get("/fhir/Patient/x", headers={**system, "Accept": accept})
    assert resp.status_code == 406
    assert resp.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("fmt,status", [("json", 200), ("application/fhir+json", 200), ("xml", 406), ("ttl", 406)])
def test_format_parameter(client, fmt, status):
    assert client.get(f"/fhir/metadata?_format={fmt}").status_code == status


def test_pretty(client):
    assert b"\n  " in client.get("/fhir/metadata?_pretty=true").data
    assert b"\n" not in client.get("/fhir/metadata").data


def test_trailing_slash_is_tolerated(client, system):
    created = create(client, system).get_json()
    assert client.get("/fhir/metadata/").status_code == 200
    assert client.get(f"/fhir/Patient/{created['id']}/", headers=system).status_code == 200
    assert client.get(f"/fhir/Patient/{created['id']}/_history/", headers=system).status_code == 200
    assert client.post("/fhir/Patient/", json=PATIENT, headers=system).status_code == 201


def test_malformed_json_is_400(client, system):
    resp = client.post(
        "/fhir/Patient",
        data=b'{"resourceType": "Patient",',
        headers={**system, "Content-Type": "application/fhir+json"},
    )
    assert resp.status_code == 400
    assert "not valid JSON" in resp.get_json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("data", [b"", b"[]", b'"text"', b"null"])
def test_non_resource_bodies_are_400(client, system, data):
    resp = client.post("/fhir/Patient", data=data, headers={**system, "Content-Type": "application/fhir+json"})
    assert resp.status_code == 400


def test_wrong_resource_type_is_400(client, system):
    resp = client.post("/fhir/Patient", json={"resourceType": "Practitioner"}, headers=system)
    assert resp.status_code == 400
    assert resp.get_json()["issue"][0]["expression"] == ["Patient.resourceType"]


def test_unsupported_content_type_is_415(client, system):
    resp = client.post("/fhir/Patient", data=b"<Patient/>", headers={**system, "Content-Type": "application/fhir+xml"})
    assert resp.status_code == 415


def test_body_size_limit_is_413(app, client, system):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = {**PATIENT, "name": [{"family": "x" * 2000}]}
    resp = client.post("/fhir/Patient", json=big, headers=system)
    assert resp.status_code == 413
    assert resp.get_json()["resourceType"] == "OperationOutcome"


def test_unknown_path_is_404_operation_outcome(client, system):
    resp = client.get("/nothing/here", headers=system)
    assert resp.status_code == 404 and resp.get_json()["resourceType"] == "OperationOutcome"


def test_method_not_allowed_is_operation_outcome(client, system):
    resp = client.put("/fhir/Patient/x/_history", headers=system)
    assert resp.status_code == 405 and resp.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient", "active": "yes"},
        {"resourceType": "Patient", "colour": "blue"},
        {"resourceType": "Patient", "name": {"family": "x"}},
        {"resourceType": "Patient", "birthDate": "1980-13-45"},
        {"resourceType": "Patient", "gender": "woman"},
        {"resourceType": "Patient", "name": []},
    ],
)
def test_invalid_resources_are_422_with_expression(client, system, body):
    resp = client.post("/fhir/Patient", json=body, headers=system)
    assert resp.status_code == 422
    issue = resp.get_json()["issue"][0]
    assert issue["expression"] and issue["diagnostics"]
    assert client.get("/fhir/Patient?_total=accurate", headers=system).get_json().get("total", 0) == 0

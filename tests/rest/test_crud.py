"""Create, read, vread, update, patch, delete through HTTP (R4 http.html)."""

from __future__ import annotations

import json
from typing import Any

import pytest

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "name": [{"family": "Dupont", "given": ["Émilie"]}],
    "gender": "female",
    "birthDate": "1980-02-29",
}


def create(client: Any, headers: dict[str, str], body: dict[str, Any] = PATIENT, **extra: str) -> Any:
    return client.post(
        f"/fhir/{body['resourceType']}",
        json=body,
        headers={**headers, "Content-Type": "application/fhir+json", **extra},
    )


def test_create_answers_201_with_location_etag_and_last_modified(client, system):
    resp = create(client, system)
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["resourceType"] == "Patient" and body["id"]
    assert body["meta"]["versionId"] == "1"
    assert resp.headers["ETag"] == 'W/"1"'
    assert resp.headers["Location"].endswith(f"/fhir/Patient/{body['id']}/_history/1")
    assert resp.headers["Last-Modified"].endswith("GMT")
    assert resp.headers["Content-Type"].startswith("application/fhir+json")


def test_create_ignores_a_client_id(client, system):
    resp = create(client, system, {**PATIENT, "id": "mine"})
    assert resp.status_code == 201 and resp.get_json()["id"] != "mine"


def test_read_and_vread(client, system):
    created = create(client, system).get_json()
    read = client.get(f"/fhir/Patient/{created['id']}", headers=system)
    assert read.status_code == 200
    assert read.get_json() == created
    assert read.headers["ETag"] == 'W/"1"'
    vread = client.get(f"/fhir/Patient/{created['id']}/_history/1", headers=system)
    assert vread.status_code == 200 and vread.get_json() == created
    assert client.get(f"/fhir/Patient/{created['id']}/_history/2", headers=system).status_code == 404
    assert client.get(f"/fhir/Patient/{created['id']}/_history/x", headers=system).status_code == 404


def test_read_unknown_is_404_operation_outcome(client, system):
    resp = client.get("/fhir/Patient/nope", headers=system)
    assert resp.status_code == 404
    body = resp.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"


def test_if_none_match_answers_304(client, system):
    created = create(client, system).get_json()
    resp = client.get(f"/fhir/Patient/{created['id']}", headers={**system, "If-None-Match": 'W/"1"'})
    assert resp.status_code == 304 and resp.data == b""


def test_update_increments_version(client, system):
    created = create(client, system).get_json()
    changed = {**created, "gender": "other"}
    resp = client.put(f"/fhir/Patient/{created['id']}", json=changed, headers=system)
    assert resp.status_code == 200
    assert resp.get_json()["meta"]["versionId"] == "2"
    assert resp.headers["ETag"] == 'W/"2"'
    assert client.get(f"/fhir/Patient/{created['id']}/_history/1", headers=system).get_json()["gender"] == "female"


def test_update_creates_with_a_client_id(client, system):
    resp = client.put("/fhir/Patient/chosen-id", json={**PATIENT, "id": "chosen-id"}, headers=system)
    assert resp.status_code == 201
    assert resp.headers["Location"].endswith("/fhir/Patient/chosen-id/_history/1")
    assert client.get("/fhir/Patient/chosen-id", headers=system).status_code == 200


@pytest.mark.parametrize("body_id", [None, "other"])
def test_update_needs_the_url_id_in_the_body(client, system, body_id):
    body = dict(PATIENT) if body_id is None else {**PATIENT, "id": body_id}
    resp = client.put("/fhir/Patient/abc", json=body, headers=system)
    assert resp.status_code == 400
    assert resp.get_json()["issue"][0]["expression"] == ["Patient.id"]


def test_if_match(client, system):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    stale = client.put(url, json=created, headers={**system, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert stale.get_json()["resourceType"] == "OperationOutcome"
    ok = client.put(url, json=created, headers={**system, "If-Match": 'W/"1"'})
    assert ok.status_code == 200
    assert client.delete(url, headers={**system, "If-Match": 'W/"1"'}).status_code == 412
    assert client.delete(url, headers={**system, "If-Match": 'W/"2"'}).status_code == 204
    bad = client.put(url, json=created, headers={**system, "If-Match": "nonsense"})
    assert bad.status_code == 400


def test_delete_is_logical(client, system):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    assert client.delete(url, headers=system).status_code == 204
    gone = client.get(url, headers=system)
    assert gone.status_code == 410
    assert gone.get_json()["issue"][0]["code"] == "deleted"
    assert client.get(f"{url}/_history/1", headers=system).status_code == 200
    assert client.get(f"{url}/_history/2", headers=system).status_code == 410
    assert client.delete(url, headers=system).status_code == 204  # idempotent
    assert client.delete("/fhir/Patient/never", headers=system).status_code == 404
    revived = client.put(url, json=created, headers=system)
    assert revived.status_code == 201 and revived.get_json()["meta"]["versionId"] == "3"


def test_json_patch(client, system):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    patch = [
        {"op": "replace", "path": "/gender", "value": "male"},
        {"op": "add", "path": "/name/0/given/-", "value": "Marie"},
    ]
    resp = client.patch(url, json=patch, headers={**system, "Content-Type": "application/json-patch+json"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["gender"] == "male" and body["name"][0]["given"] == ["Émilie", "Marie"]
    assert body["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    "patch,status",
    [
        ([{"op": "replace", "path": "/active", "value": "yes"}], 422),
        ([{"op": "test", "path": "/gender", "value": "male"}], 422),
        ([{"op": "remove", "path": "/nothing"}], 422),
        ([{"op": "replace", "path": "/id", "value": "other"}], 400),
        ([{"op": "jump", "path": "/gender"}], 400),
        ({"op": "add"}, 400),
    ],
)
def test_json_patch_failures_change_nothing(client, system, patch, status):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    resp = client.patch(url, json=patch, headers={**system, "Content-Type": "application/json-patch+json"})
    assert resp.status_code == status
    assert resp.get_json()["resourceType"] == "OperationOutcome"
    assert client.get(url, headers=system).get_json() == created


def test_a_json_array_sent_as_application_json_is_json_patch(client, system):
    """fhirpy and other clients send JSON Patch as application/json."""
    created = create(client, system, {**PATIENT, "identifier": [{"system": "urn:test", "value": "json-1"}]}).get_json()
    url = f"/fhir/Patient/{created['id']}"
    replace = [{"op": "replace", "path": "/gender", "value": "male"}]
    resp = client.patch(url, data=json.dumps(replace), headers={**system, "Content-Type": "application/json"})
    assert resp.status_code == 200
    assert resp.get_json()["gender"] == "male" and resp.get_json()["meta"]["versionId"] == "2"
    again = [{"op": "replace", "path": "/gender", "value": "other"}]
    conditional = client.patch(
        "/fhir/Patient?identifier=urn:test|json-1",
        data=json.dumps(again),
        headers={**system, "Content-Type": "application/json; charset=utf-8"},
    )
    assert conditional.status_code == 200
    assert client.get(url, headers=system).get_json()["gender"] == "other"


@pytest.mark.parametrize(
    "content_type,body",
    [
        ("application/json", {"op": "replace", "path": "/gender", "value": "male"}),
        ("application/json", {"resourceType": "Parameters", "parameter": []}),
        ("application/fhir+json", [{"op": "replace", "path": "/gender", "value": "male"}]),
        ("text/plain", [{"op": "replace", "path": "/gender", "value": "male"}]),
        (None, [{"op": "replace", "path": "/gender", "value": "male"}]),
    ],
    ids=["json-object", "json-parameters", "fhir-json", "text", "none"],
)
def test_patch_in_any_other_form_is_415(client, system, content_type, body):
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    headers = {**system, **({"Content-Type": content_type} if content_type else {})}
    resp = client.patch(url, data=json.dumps(body), headers=headers)
    assert resp.status_code == 415
    assert resp.get_json()["issue"][0]["code"] == "not-supported"
    assert client.get(url, headers=system).get_json() == created


@pytest.mark.parametrize(
    "prefer,body_kind",
    [
        ("return=minimal", None),
        ("return=representation", "Patient"),
        ("return=OperationOutcome", "OperationOutcome"),
    ],
)
def test_prefer_return(client, system, prefer, body_kind):
    resp = create(client, system, Prefer=prefer)
    assert resp.status_code == 201 and resp.headers["Location"]
    if body_kind is None:
        assert resp.data == b""
    else:
        assert resp.get_json()["resourceType"] == body_kind


@pytest.mark.parametrize(
    "method,path",
    [("get", "/fhir/NotAType/1"), ("get", "/fhir/NotAType"), ("post", "/fhir/NotAType"), ("get", "/fhir/patient/1")],
)
def test_unsupported_type_is_404(client, system, method, path):
    resp = getattr(client, method)(path, json={"resourceType": "NotAType"}, headers=system)
    assert resp.status_code == 404
    assert "not supported" in resp.get_json()["issue"][0]["diagnostics"]


def test_audit_event_is_written_by_the_server_only(client, system):
    resp = client.post("/fhir/AuditEvent", json={"resourceType": "AuditEvent"}, headers=system)
    assert resp.status_code == 405
    assert (
        client.put("/fhir/AuditEvent/x", json={"resourceType": "AuditEvent", "id": "x"}, headers=system).status_code
        == 405
    )

"""Issue 12, points 1 and 2: conditional references on every write, reference checking on write
(docs/references.md). Negative cases first."""

from __future__ import annotations

import base64
import json

import pytest

from tests.leaks.world import build
from tests.leaks.world import document

INS = "urn:oid:1.2.250.1.213.1.4.8"
NIR = "279035121518989"
BY_INS = f"Patient?identifier={INS}|{NIR}"
STRANGER = "Practitioner/stranger"


@pytest.fixture
def world(app):
    world = build(app)
    patient = {
        "resourceType": "Patient",
        "id": "ins",
        "active": True,
        "identifier": [{"system": INS, "value": NIR}],
        "name": [{"family": "Ins"}],
    }
    assert world.client.put("/fhir/Patient/ins", json=patient, headers=world.headers(None)).status_code == 201
    return world


def doc(subject: str, author: str = "Practitioner/author", **extra):
    return {k: v for k, v in document("x", subject, author).items() if k != "id"} | extra


def issue_of(resp):
    return resp.get_json()["issue"][0]


# 1. conditional references ------------------------------------------------------------------
@pytest.mark.parametrize("who", [None, "Practitioner/author"])
def test_a_conditional_reference_with_no_match_is_422_naming_the_element(world, who):
    resp = world.client.post(
        "/fhir/DocumentReference",
        json=doc(f"Patient?identifier={INS}|100000000000099", who or "Practitioner/author"),
        headers=world.headers(who),
    )
    assert resp.status_code == 422
    found = issue_of(resp)
    assert found["expression"] == ["DocumentReference.subject"]
    assert found["diagnostics"].endswith("has no match")


def test_a_conditional_reference_with_several_matches_is_412(world):
    twin = {"resourceType": "Patient", "id": "twin", "identifier": [{"system": INS, "value": NIR}]}
    assert world.client.put("/fhir/Patient/twin", json=twin, headers=world.headers(None)).status_code == 201
    resp = world.client.post("/fhir/DocumentReference", json=doc(BY_INS), headers=world.headers(None))
    assert resp.status_code == 412
    assert issue_of(resp)["diagnostics"].endswith("has several matches")
    assert issue_of(resp)["expression"] == ["DocumentReference.subject"]


def test_a_miss_says_no_match_whether_the_record_is_hidden_or_absent(world):
    """The stranger may not read Patient/ins; a miss on another value reads the same as any miss."""
    who = world.headers(STRANGER)
    missing = world.client.post(
        "/fhir/DocumentReference", json=doc(f"Patient?identifier={INS}|100000000000099", STRANGER), headers=who
    )
    assert missing.status_code == 422
    assert "ins" not in issue_of(missing)["diagnostics"].split("'")[-1]


def test_a_plain_create_resolves_a_conditional_subject_the_writer_cannot_read(world):
    """The HIS case of issue 12, fed by a professional without a grant (the DMP lets them feed)."""
    resp = world.client.post("/fhir/DocumentReference", json=doc(BY_INS, STRANGER), headers=world.headers(STRANGER))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["subject"] == {"reference": "Patient/ins"}
    # the document is in the record: the stranger (its author) reads it, the granted doctor of p1 does not
    id_ = resp.get_json()["id"]
    assert world.get(STRANGER, f"/fhir/DocumentReference/{id_}").status_code == 200
    assert world.get("Practitioner/granted", f"/fhir/DocumentReference/{id_}").status_code == 404


def test_a_system_create_resolves_a_conditional_subject(world):
    resp = world.client.post("/fhir/DocumentReference", json=doc(BY_INS), headers=world.headers(None))
    assert resp.status_code == 201
    assert resp.get_json()["subject"] == {"reference": "Patient/ins"}


def test_update_and_conditional_update_resolve(world):
    body = doc(BY_INS) | {"id": "upd"}
    resp = world.client.put("/fhir/DocumentReference/upd", json=body, headers=world.headers(None))
    assert resp.get_json()["subject"] == {"reference": "Patient/ins"}
    body = doc(BY_INS) | {"identifier": [{"system": "urn:carnet:doc", "value": "cu"}]}
    resp = world.client.put(
        "/fhir/DocumentReference?identifier=urn:carnet:doc|cu", json=body, headers=world.headers(None)
    )
    assert resp.status_code == 201
    assert resp.get_json()["subject"] == {"reference": "Patient/ins"}


def test_patch_resolves(world):
    ops = [{"op": "replace", "path": "/subject", "value": {"reference": BY_INS}}]
    bad = [{"op": "replace", "path": "/subject", "value": {"reference": f"Patient?identifier={INS}|1"}}]
    patch = {"Content-Type": "application/json-patch+json"}
    resp = world.client.patch("/fhir/DocumentReference/d1", data=json.dumps(bad), headers=world.headers(None) | patch)
    assert resp.status_code == 422
    resp = world.client.patch("/fhir/DocumentReference/d1", data=json.dumps(ops), headers=world.headers(None) | patch)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["subject"] == {"reference": "Patient/ins"}


def test_batch_entries_resolve_and_fail_on_their_own(world):
    patch = base64.b64encode(
        json.dumps([{"op": "replace", "path": "/subject", "value": {"reference": BY_INS}}]).encode()
    ).decode()
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "POST", "url": "DocumentReference"}, "resource": doc(f"Patient?identifier={INS}|1")},
            {"request": {"method": "POST", "url": "DocumentReference"}, "resource": doc(BY_INS)},
            {
                "request": {"method": "PATCH", "url": "DocumentReference/d1"},
                "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": patch},
            },
        ],
    }
    body = world.client.post("/fhir", json=bundle, headers=world.headers(None)).get_json()
    assert body["entry"][0]["response"]["status"] == "422 Unprocessable Content"
    assert body["entry"][0]["response"]["outcome"]["issue"][0]["expression"] == ["DocumentReference.subject"]
    assert body["entry"][1]["response"]["status"] == "201 Created"
    assert body["entry"][2]["response"]["status"] == "200 OK"
    assert world.get(None, "/fhir/DocumentReference/d1").get_json()["subject"] == {"reference": "Patient/ins"}


# 2. reference checking ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reference", "says"),
    [
        ("Patient/never-was", "does not exist on this server"),
        ("Patient/never-was/_history/1", "does not exist on this server"),
        ("ExamplefrPatient001", "is not a reference"),
        ("urn:uuid:7f0a3b1e-0000-4000-8000-000000000001", "placeholders resolve only inside a transaction"),
        ("Unknown/1", "names a type this server does not serve"),
        ("Basic/1", "does not exist on this server"),
    ],
)
def test_a_reference_to_nothing_here_is_422_naming_the_path(world, reference, says):
    resp = world.client.post(
        "/fhir/DocumentReference", json=doc("Patient/p1", author=reference), headers=world.headers(None)
    )
    assert resp.status_code == 422, resp.get_json()
    assert issue_of(resp)["expression"] == ["DocumentReference.author[0]"]
    assert says in issue_of(resp)["diagnostics"]


def test_a_deleted_target_is_refused(world):
    world.client.put(
        "/fhir/Practitioner/gone", json={"resourceType": "Practitioner", "id": "gone"}, headers=world.headers(None)
    )
    assert world.client.delete("/fhir/Practitioner/gone", headers=world.headers(None)).status_code == 204
    resp = world.client.post(
        "/fhir/DocumentReference", json=doc("Patient/p1", author="Practitioner/gone"), headers=world.headers(None)
    )
    assert resp.status_code == 422


def test_absent_subject_is_refused_for_practitioners_and_systems(world):
    for who in (None, "Practitioner/author"):
        resp = world.client.post("/fhir/DocumentReference", json=doc("Patient/never-was"), headers=world.headers(who))
        assert resp.status_code == 422
        assert issue_of(resp)["expression"] == ["DocumentReference.subject"]


@pytest.mark.parametrize(
    "reference",
    [
        "https://elsewhere.example/fhir/Practitioner/x",  # another server
        "#author",  # contained
    ],
)
def test_other_servers_and_contained_references_are_accepted(world, reference):
    body = doc("Patient/p1", author=reference)
    if reference == "#author":
        body["contained"] = [{"resourceType": "Practitioner", "id": "author"}]
    resp = world.client.post("/fhir/DocumentReference", json=body, headers=world.headers(None))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["author"] == [{"reference": reference}]


def test_a_logical_reference_is_accepted(world):
    body = doc("Patient/p1")
    body["author"] = [{"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"}}]
    assert world.client.post("/fhir/DocumentReference", json=body, headers=world.headers(None)).status_code == 201


def test_an_absolute_reference_to_this_server_is_checked_and_made_relative(world):
    resp = world.client.post(
        "/fhir/DocumentReference", json=doc("http://localhost/fhir/Patient/p1"), headers=world.headers(None)
    )
    assert resp.status_code == 201
    assert resp.get_json()["subject"] == {"reference": "Patient/p1"}
    resp = world.client.post(
        "/fhir/DocumentReference", json=doc("http://localhost/fhir/Patient/never-was"), headers=world.headers(None)
    )
    assert resp.status_code == 422


def test_the_check_can_be_turned_off(make_app):
    world = build(make_app(REFERENCE_CHECK=False))
    resp = world.client.post(
        "/fhir/DocumentReference", json=doc("Patient/p1", author="Practitioner/never-was"), headers=world.headers(None)
    )
    assert resp.status_code == 201


def test_a_transaction_checks_after_rewriting_placeholders(world):
    """An entry may name one created later in the processing order; a dangling one undoes all."""
    later = "urn:uuid:0b0c8e9e-0000-4000-8000-000000000002"
    ok = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "POST", "url": "DocumentReference"}, "resource": doc("Patient/p1", author=later)},
            {
                "fullUrl": later,
                "request": {"method": "PUT", "url": "Practitioner/later"},
                "resource": {"resourceType": "Practitioner", "id": "later"},
            },
        ],
    }
    resp = world.client.post("/fhir", json=ok, headers=world.headers(None))
    assert resp.status_code == 200, resp.get_json()
    bad = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "request": {"method": "PUT", "url": "Practitioner/written"},
                "resource": {"resourceType": "Practitioner", "id": "written"},
            },
            {
                "request": {"method": "POST", "url": "DocumentReference"},
                "resource": doc("Patient/p1", author="Practitioner/never-was"),
            },
        ],
    }
    resp = world.client.post("/fhir", json=bad, headers=world.headers(None))
    assert resp.status_code == 422
    found = issue_of(resp)
    assert found["expression"] == ["Bundle.entry[1]", "Bundle.entry[1].resource.author[0]"]
    assert world.get(None, "/fhir/Practitioner/written").status_code == 404

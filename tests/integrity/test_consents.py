"""Issue 12, point 4: Consents that do what they say. A patient-privacy Consent the engine would
ignore is refused with 422 and what to add; other scopes are stored as data, and say so."""

from __future__ import annotations

import copy

import pytest

from tests.leaks.world import build
from tests.leaks.world import consent

GRANT = consent("c", "Patient/p1", "permit", "Practitioner/stranger")
V3 = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ROLE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]}


def actor(reference):
    return [{"role": ROLE, "reference": reference}]


@pytest.fixture
def world(app):
    return build(app)


def changed(change):
    body = copy.deepcopy(GRANT)
    del body["id"]
    change(body)
    return body


def _set(path, value):
    def change(body):
        node = body
        for key in path[:-1]:
            node = node[key]
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (_set(["category"], None), "Consent.category", "required"),  # R4 requires it before we do
        (
            _set(["category"], [{"coding": [{"system": "http://loinc.org", "code": "64292-6"}]}]),
            "Consent.category",
            "59284-0",
        ),
        (
            _set(
                ["policyRule"],
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NOPE"}]},
            ),
            "Consent.policyRule",
            "OPTIN",
        ),
        (_set(["policyRule"], None), "Consent.policyRule", "add a policyRule"),
        (_set(["provision"], None), "Consent.provision", "add a provision"),
        (_set(["provision", "type"], None), "Consent.provision.type", "permit or deny"),
        (_set(["provision", "actor"], None), "Consent.provision.actor", "add an actor"),
        (
            _set(["provision", "class"], [{"system": "http://loinc.org", "code": "11502-2"}]),
            "Consent.provision.class",
            "a grant covers the whole record",
        ),
        (_set(["provision", "purpose"], [{"system": V3, "code": "HRESCH"}]), "Consent.provision.purpose", "TREAT"),
        (
            _set(
                ["provision", "actor"],
                actor({"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810001234567"}}),
            ),
            "Consent.provision.actor[0].reference",
            "name the actor by a reference",
        ),
        (
            _set(["provision", "actor"], actor({"reference": "Patient/p2"})),
            "Consent.provision.actor[0].reference",
            "name the actor by a reference",
        ),
    ],
)
def test_a_privacy_consent_the_engine_would_ignore_is_422(world, change, where, says):
    resp = world.client.post("/fhir/Consent", json=changed(change), headers=world.headers(None))
    assert resp.status_code == 422, resp.get_json()
    issues = resp.get_json()["issue"]
    assert any(i["expression"] == [where] and says in i["diagnostics"] for i in issues), issues


def test_a_deny_without_actor_or_emergency_purpose_is_422(world):
    body = changed(_set(["provision"], {"type": "deny", "purpose": [{"system": V3, "code": "TREAT"}]}))
    resp = world.client.post("/fhir/Consent", json=body, headers=world.headers("Patient/p1"))
    assert resp.status_code == 422
    assert "BTG" in resp.get_json()["issue"][0]["diagnostics"]


def test_an_actor_that_does_not_exist_is_422(world):
    body = changed(_set(["provision", "actor"], actor({"reference": "Practitioner/never-was"})))
    resp = world.client.post("/fhir/Consent", json=body, headers=world.headers("Patient/p1"))
    assert resp.status_code == 422
    assert resp.get_json()["issue"][0]["expression"] == ["Consent.provision.actor[0].reference"]


def test_a_refused_consent_in_a_batch_fails_its_entry(world):
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "POST", "url": "Consent"}, "resource": changed(_set(["category"], None))}],
    }
    answer = world.client.post("/fhir", json=bundle, headers=world.headers(None)).get_json()
    assert answer["entry"][0]["response"]["status"] == "422 Unprocessable Content"


def test_a_working_grant_is_stored_and_applies(world):
    assert world.get("Practitioner/stranger", "/fhir/DocumentReference/d1").status_code == 404
    resp = world.client.post("/fhir/Consent", json=changed(lambda b: None), headers=world.headers("Patient/p1"))
    assert resp.status_code == 201, resp.get_json()
    assert world.get("Practitioner/stranger", "/fhir/DocumentReference/d1").status_code == 200


def test_nested_provisions_and_objections_are_accepted(world):
    body = changed(
        _set(
            ["provision"],
            {
                "type": "deny",
                "provision": [
                    {"type": "permit", "actor": actor({"reference": "Practitioner/stranger"})},
                    {"type": "deny", "purpose": [{"system": V3, "code": "BTG"}]},
                ],
            },
        )
    )
    resp = world.client.post("/fhir/Consent", json=body, headers=world.headers(None))
    assert resp.status_code == 201, resp.get_json()


@pytest.mark.parametrize("code", ["research", "treatment", "adr"])
def test_other_scopes_are_stored_as_data_and_say_so(world, code):
    body = changed(
        _set(["scope"], {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": code}]})
    )
    resp = world.client.post(
        "/fhir/Consent", json=body, headers=world.headers(None) | {"Prefer": "return=OperationOutcome"}
    )
    assert resp.status_code == 201
    info = [i for i in resp.get_json()["issue"] if i.get("expression") == ["Consent.scope"]]
    assert info and info[0]["severity"] == "information"
    assert "stored as data" in info[0]["diagnostics"]
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "POST", "url": "Consent"}, "resource": body}],
    }
    answer = world.client.post("/fhir", json=bundle, headers=world.headers(None)).get_json()
    entry = answer["entry"][0]["response"]
    assert entry["status"] == "201 Created"
    assert entry["outcome"]["issue"][0]["severity"] == "information"
    # and it grants nothing
    assert world.get("Practitioner/stranger", "/fhir/DocumentReference/d1").status_code == 404

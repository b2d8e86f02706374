"""Every R4 resource type is served: validated like the core types, stored, searchable with its
official parameters, and under consent through the Patient compartment (Binary has none: it follows its
securityContext)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server import catalog
from fhir_server import validation
from tests.bundles.helpers import bundle
from tests.bundles.helpers import entry
from tests.bundles.helpers import post
from tests.bundles.world import GP
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed

SUBJECT = {"reference": PATIENT}
CODE = {"coding": [{"system": "http://snomed.info/sct", "code": "73211009", "display": "Diabetes mellitus"}]}
#: (resource, an official search parameter matching it)
SAMPLES: list[tuple[dict[str, Any], str]] = [
    ({"resourceType": "Observation", "status": "final", "code": CODE, "subject": SUBJECT}, "code=73211009"),
    ({"resourceType": "Condition", "code": CODE, "subject": SUBJECT}, f"patient={PATIENT}"),
    (
        {
            "resourceType": "Encounter",
            "status": "finished",
            "subject": SUBJECT,
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        },
        "class=AMB",
    ),
    (
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": SUBJECT,
            "medicationCodeableConcept": CODE,
        },
        "intent=order",
    ),
    (
        {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": CODE,
            "patient": SUBJECT,
            "occurrenceDateTime": "2026-01-02",
        },
        "date=2026-01-02",
    ),
    ({"resourceType": "Procedure", "status": "completed", "subject": SUBJECT, "code": CODE}, f"subject={PATIENT}"),
    ({"resourceType": "Basic", "code": CODE, "subject": SUBJECT}, "code=73211009"),
    ({"resourceType": "Medication", "code": CODE}, "code=http://snomed.info/sct|73211009"),
    ({"resourceType": "Location", "name": "Salle Pasteur"}, "name=salle"),
    ({"resourceType": "ResearchStudy", "status": "active", "title": "Étude"}, "status=active"),
    ({"resourceType": "Questionnaire", "status": "draft", "name": "Intake"}, "name=intake"),
    ({"resourceType": "Binary", "contentType": "text/plain", "data": "Ym9uam91cg=="}, "_id={id}"),
]


def test_every_r4_type_is_served_and_advertised(client):
    served = catalog.load().types
    assert set(served) == set(validation.supported_types()) and len(served) == 146
    assert served["AuditEvent"].interactions == ("read", "vread", "history-instance", "history-type", "search-type")
    assert "Patient compartment" in (served["Binary"].documentation or "")
    statement = client.get("/fhir/metadata").get_json()
    assert {r["type"] for r in statement["rest"][0]["resource"]} == set(served)


def test_every_type_answers_a_search(client, system):
    for type_ in catalog.load().types:
        resp = client.get(f"/fhir/{type_}?_count=1", headers=system)
        assert resp.status_code == 200, (type_, resp.get_json())


@pytest.fixture
def stored(client, system) -> list[tuple[dict[str, Any], str]]:
    seed(client, system)
    body = post(client, system, bundle("transaction", *(entry("POST", r["resourceType"], r) for r, _ in SAMPLES)))
    assert body.status_code == 200, body.get_json()
    return [(e["resource"], query) for e, (_, query) in zip(body.get_json()["entry"], SAMPLES, strict=True)]


def test_types_beyond_the_core_are_stored_and_searchable(client, system, stored):
    for resource, query in stored:
        type_, id_ = resource["resourceType"], resource["id"]
        # a Binary answers its bytes unless FHIR JSON is asked for; its write answer holds no data
        got = client.get(f"/fhir/{type_}/{id_}", headers={**system, "Accept": "application/fhir+json"}).get_json()
        assert {k: v for k, v in got.items() if k != "data"} == resource
        found = client.get(f"/fhir/{type_}?{query.format(id=id_)}", headers=system).get_json()
        assert [e["resource"]["id"] for e in found["entry"]] == [id_], (type_, query)


def test_compartment_types_follow_the_patients_consent(app, client, stored):
    stranger, gp = headers(app, STRANGER), headers(app, GP)
    for resource, _ in stored:
        url = f"/fhir/{resource['resourceType']}/{resource['id']}"
        in_compartment = "subject" in resource or "patient" in resource
        if resource["resourceType"] == "Binary":  # no securityContext: its uploader's (here a system client's) only
            assert client.get(url, headers=stranger).status_code == client.get(url, headers=gp).status_code == 404
            continue
        assert client.get(url, headers=stranger).status_code == (404 if in_compartment else 200), url
        assert client.get(url, headers=gp).status_code == 200, url


def test_other_types_are_validated_like_the_core_ones(client, system):
    resp = client.post(
        "/fhir/Observation", json={"resourceType": "Observation", "status": "guessed", "code": CODE}, headers=system
    )
    assert resp.status_code == 422
    assert resp.get_json()["issue"][0]["expression"] == ["Observation.status"]


def test_access_traces_stay_server_written(client, system):
    trace = {
        "resourceType": "AuditEvent",
        "type": {"code": "rest"},
        "recorded": "2026-01-01T00:00:00Z",
        "agent": [{"requestor": True}],
        "source": {"observer": {"display": "x"}},
    }
    assert client.post("/fhir/AuditEvent", json=trace, headers=system).status_code == 405
    body = post(client, system, bundle("batch", entry("POST", "AuditEvent", trace))).get_json()
    assert body["entry"][0]["response"]["status"] == "405 Method Not Allowed"

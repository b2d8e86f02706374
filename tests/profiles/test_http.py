"""Profiles through HTTP: claimed profiles enforced on writes, mandatory profiles by configuration,
advertised in the CapabilityStatement, published as StructureDefinitions.
Unit twins: tests/profiles/test_fr_core.py, test_dmp.py."""

from __future__ import annotations

import pytest

from tests.support import bearer

INS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
PATIENT = {
    "resourceType": "Patient",
    "meta": {"profile": [INS]},
    "gender": "female",
    "birthDate": "1980-02-01",
    "name": [{"use": "official", "family": "Martin", "given": ["Anne"]}],
    "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "123", "use": "official"}],
}


def test_profiles_are_advertised(client):
    cs = client.get("/fhir/metadata").get_json()
    patient = next(r for r in cs["rest"][0]["resource"] if r["type"] == "Patient")
    assert INS in patient["supportedProfile"]


def test_profiles_are_published_as_structure_definitions(client, system):
    sd = client.get("/fhir/StructureDefinition/fr-core-patient-ins", headers=system).get_json()
    assert sd["resourceType"] == "StructureDefinition" and sd["url"] == INS and sd["type"] == "Patient"
    found = client.get(f"/fhir/StructureDefinition?url={INS}", headers=system).get_json()
    assert found["total"] == 1


def test_a_claimed_profile_is_enforced(client, system):
    resp = client.post("/fhir/Patient", json=PATIENT, headers=system)
    assert resp.status_code == 422
    issue = resp.get_json()["issue"][0]
    assert issue["expression"][0].startswith("Patient.identifier")
    assert "INS" in issue["diagnostics"]


def test_a_required_profile_applies_to_every_instance(make_app):
    app = make_app(REQUIRED_PROFILES={"Patient": [INS]})
    resp = app.test_client().post(
        "/fhir/Patient", json={"resourceType": "Patient", "gender": "male"}, headers=bearer(app)
    )
    assert resp.status_code == 422


def test_an_unknown_required_profile_refuses_to_start(make_app):
    with pytest.raises(ValueError):
        make_app(REQUIRED_PROFILES={"Patient": ["https://example.org/nope"]})

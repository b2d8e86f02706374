"""$summary and $everything on a real Synthea patient (tests/fixtures/synthea, loaded as the
transaction Synthea wrote): the IPS sections it has data for, and the Practitioner and
Organization its record references."""

from __future__ import annotations

import pytest

from tests.support import SYNTHEA
from tests.support import bearer
from tests.support import read_json

BUSTER = SYNTHEA / "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json.gz"
IDENTIFIER = "https://github.com/synthetichealth/synthea|ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423"


@pytest.fixture
def buster(client, system) -> str:
    resp = client.post("/fhir", json=read_json(BUSTER), headers={**system, "Prefer": "return=minimal"})
    assert resp.status_code == 200, resp.get_json()
    location = resp.get_json()["entry"][0]["response"]["location"]
    return location.split("/_history")[0]


def sections(document: dict) -> dict[str, dict]:
    return {s["code"]["coding"][0]["code"]: s for s in document["entry"][0]["resource"]["section"] if "code" in s}


def test_summary_of_a_synthea_patient(client, system, buster):
    document = client.get(f"/fhir/{buster}/$summary", headers=system).get_json()
    assert document["type"] == "document" and document["timestamp"] and document["identifier"]["value"]
    found = sections(document)
    assert {"10160-0", "48765-2", "11450-4", "30954-2", "11369-6", "47519-4", "8716-3", "11348-0"} <= set(found)
    problems = found["11450-4"]
    assert len(problems["entry"]) == 1 and "emptyReason" not in problems  # one active, two resolved
    assert len(found["11348-0"]["entry"]) == 2
    assert len(found["11369-6"]["entry"]) == 4
    assert "emptyReason" in found["10160-0"]  # the one MedicationRequest is stopped
    assert "emptyReason" in found["48765-2"]
    listed = {e["reference"] for s in found.values() for e in s.get("entry", [])}
    included = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in document["entry"][1:]}
    assert listed <= included and buster in included
    by_identifier = client.get(f"/fhir/Patient/$summary?identifier={IDENTIFIER}", headers=system).get_json()
    assert by_identifier["entry"][0]["resource"]["subject"]["reference"] == buster
    assert client.get("/fhir/Patient/$summary?identifier=urn:x|nope", headers=system).status_code == 404


def test_everything_of_a_synthea_patient_includes_what_it_references(app, client, system, buster):
    bundle = client.get(f"/fhir/{buster}/$everything?_count=500", headers=system).get_json()
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Practitioner", "Organization", "Encounter", "Condition", "Immunization"} <= types
    assert bundle["total"] == len(bundle["entry"])
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert {e["resource"]["resourceType"] for e in included} == {"Practitioner", "Organization"}
    stranger = bearer(app, fhir_user="Practitioner/inconnu", scope="user/*.rs")
    assert client.get(f"/fhir/{buster}/$everything", headers=stranger).status_code == 404
    assert client.get(f"/fhir/{buster}/$summary", headers=stranger).status_code == 404

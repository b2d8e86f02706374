"""$validate on a type and an instance: an OperationOutcome, 200, "All OK" when clean."""

from __future__ import annotations

from tests.bundles.helpers import patient
from tests.bundles.world import GP
from tests.bundles.world import STRANGER
from tests.bundles.world import headers

FR_CORE_PATIENT = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"


def validate(client, headers_, body, url="/fhir/Patient/$validate"):
    resp = client.post(url, json=body, headers=headers_)
    assert resp.status_code == 200, resp.get_json()
    outcome = resp.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome["issue"]


def params(resource=None, **values):
    out = [{"name": "resource", "resource": resource}] if resource else []
    out += [{"name": k, ("valueUri" if k == "profile" else "valueCode"): v} for k, v in values.items()]
    return {"resourceType": "Parameters", "parameter": out}


def test_a_clean_resource_is_all_ok(client, system):
    assert validate(client, system, patient("Fine")) == [
        {"severity": "information", "code": "informational", "diagnostics": "All OK"}
    ]


def test_every_issue_is_reported(client, system):
    issues = validate(client, system, {**patient("Bad"), "gender": "robot", "birthDate": "soon"})
    assert {i["expression"][0] for i in issues} >= {"Patient.gender", "Patient.birthDate"}
    assert all(i["severity"] == "error" for i in issues)


def test_parameters_with_mode_and_profile(client, system):
    assert validate(client, system, params(patient("P"), mode="create"))[0]["diagnostics"] == "All OK"
    unknown = validate(client, system, params(patient("P"), profile="http://example.org/none"))
    assert unknown[0]["code"] == "not-supported"
    profiled = validate(client, system, params(patient("P"), profile=FR_CORE_PATIENT))
    assert any(i["severity"] == "error" for i in profiled), profiled


def test_profile_in_the_query_with_a_bare_resource(client, system):
    ins = validate(client, system, patient("P"), f"/fhir/Patient/$validate?profile={FR_CORE_PATIENT}")
    assert any(i["severity"] == "error" for i in ins), ins
    assert validate(client, system, patient("P"), "/fhir/Patient/$validate?mode=create")[0]["diagnostics"] == "All OK"


def test_update_mode_needs_the_instance_id(client, system):
    missing = validate(client, system, params(patient("P"), mode="update"))
    assert missing[0]["expression"] == ["Patient.id"]
    other = validate(client, system, params({**patient("P"), "id": "b"}, mode="update"), "/fhir/Patient/a/$validate")
    assert "is not the URL's 'a'" in other[0]["diagnostics"]
    same = validate(client, system, params({**patient("P"), "id": "a"}, mode="update"), "/fhir/Patient/a/$validate")
    assert same[0]["diagnostics"] == "All OK"


def test_a_resource_of_another_type(client, system):
    issues = validate(client, system, {"resourceType": "Organization", "name": "X"})
    assert issues[0]["expression"] == ["Patient.resourceType"]


def test_delete_mode_checks_the_caller_may_delete(app, client, system, world):
    url = "/fhir/DocumentReference/compte-rendu/$validate"
    assert validate(client, system, params(mode="delete"), url)[0]["diagnostics"] == "All OK"
    refused = validate(client, headers(app, GP), params(mode="delete"), "/fhir/DocumentReference/bilan/$validate")
    assert refused[0]["code"] == "forbidden"  # only an item's author deletes it (DESIGN §4)
    hidden = client.post(url, json=params(mode="delete"), headers=headers(app, STRANGER))
    absent = client.post(
        "/fhir/DocumentReference/never-was/$validate", json=params(mode="delete"), headers=headers(app, STRANGER)
    )
    assert hidden.status_code == absent.status_code == 404


def test_bad_requests(client, system):
    assert client.post("/fhir/Patient/$validate", json=params(mode="explode"), headers=system).status_code == 400
    assert client.post("/fhir/Patient/$validate", json=params(), headers=system).status_code == 400
    assert client.post("/fhir/Nothing/$validate", json=patient("P"), headers=system).status_code == 404

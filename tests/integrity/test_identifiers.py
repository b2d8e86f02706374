"""Issue 12, point 5: INS and RPPS identifiers checked by their system, claimed profile or not."""

from __future__ import annotations

import pytest

NIR, NIA, TEST, DEMO = (f"urn:oid:1.2.250.1.213.1.4.{n}" for n in (8, 9, 10, 11))
IDNATPS, RPPS = "urn:oid:1.2.250.1.71.4.2.1", "https://rpps.esante.gouv.fr"
INS_PROFILE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"


def with_identifier(resource_type, oid, value, **extra):
    return {"resourceType": resource_type, "identifier": [{"system": oid, "value": value}], **extra}


@pytest.mark.parametrize(
    ("oid", "value", "says"),
    [
        (NIR, "279035121518988", "key"),  # the key of 279035121518989, off by one
        (NIR, "27903512151898", "15 characters"),  # one digit short
        (NIR, "2790351215189AB", "15 characters"),
        (NIR, 279035121518989, "15 characters"),  # a number, not a string: the schema says so first
        (NIA, "779035121518912", "key"),
        (TEST, "180032B12345678", "key"),  # Corsica: 2B read 18
        (DEMO, "180032C12345679", "15 characters"),
    ],
)
def test_a_wrong_ins_is_422_without_any_profile(client, system, oid, value, says):
    for method, url, body in (
        ("post", "/fhir/Patient", with_identifier("Patient", oid, value)),
        ("put", "/fhir/Patient/p", with_identifier("Patient", oid, value, id="p")),
    ):
        resp = getattr(client, method)(url, json=body, headers=system)
        assert resp.status_code == 422, resp.get_json()
        texts = " ".join(i["diagnostics"] for i in resp.get_json()["issue"])
        assert "Patient.identifier[0].value" in texts
        if isinstance(value, str):
            assert says in texts


@pytest.mark.parametrize(
    ("oid", "value"),
    [
        (IDNATPS, "81000123456"),  # 8 + 10 digits
        (IDNATPS, "910001234567"),  # prefix 9
        (IDNATPS, "0123"),
        (RPPS, "1000123456"),  # 10 digits
        (RPPS, "1000123456X"),
    ],
)
def test_a_wrong_rpps_is_422_without_any_profile(client, system, oid, value):
    resp = client.post("/fhir/Practitioner", json=with_identifier("Practitioner", oid, value), headers=system)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["issue"][0]["expression"] == ["Practitioner.identifier[0].value"]


def test_a_patch_cannot_break_an_ins(client, system):
    created = client.post("/fhir/Patient", json=with_identifier("Patient", NIR, "279035121518989"), headers=system)
    ops = '[{"op": "replace", "path": "/identifier/0/value", "value": "279035121518988"}]'
    resp = client.patch(
        f"/fhir/Patient/{created.get_json()['id']}",
        data=ops,
        headers=system | {"Content-Type": "application/json-patch+json"},
    )
    assert resp.status_code == 422


@pytest.mark.parametrize(
    ("resource_type", "oid", "value"),
    [
        ("Patient", NIR, "279035121518989"),
        ("Patient", NIA, "779035121518933"),
        ("Patient", TEST, "180032B12345679"),
        ("Patient", DEMO, "112097512300195"),
        ("Patient", "urn:other", "anything"),
        ("Practitioner", IDNATPS, "810001234567"),
        ("Practitioner", IDNATPS, "0752123456"),  # ADELI
        ("Practitioner", RPPS, "10001234567"),
    ],
)
def test_right_identifiers_are_accepted(client, system, resource_type, oid, value):
    resp = client.post(f"/fhir/{resource_type}", json=with_identifier(resource_type, oid, value), headers=system)
    assert resp.status_code == 201, resp.get_json()


def test_a_profile_claim_adds_its_other_rules(client, system):
    """Without a profile the right INS is enough; claiming FR Core INS adds e.g. the gender."""
    body = with_identifier("Patient", NIR, "279035121518989", meta={"profile": [INS_PROFILE]})
    resp = client.post("/fhir/Patient", json=body, headers=system)
    assert resp.status_code == 422
    assert any("gender" in i["diagnostics"] for i in resp.get_json()["issue"])

"""The holder writes their relatives over HTTP: emergency contacts and next of kin yes, legal
representatives (GUARD) never, whoever's turn it is. The rule itself: tests/consent/test_writes.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from fhir_server.storage import get_store
from tests.dmp.world import GP
from tests.dmp.world import P
from tests.dmp.world import example
from tests.dmp.world import put
from tests.dmp.world import token

pytestmark = pytest.mark.usefixtures("world")
MINOR, GUARDIAN = "Patient/ins-mineur", "RelatedPerson/representant-legal"
V3_ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
GUARD_ONLY = "RelatedPerson: legal representatives (GUARD) are written by system clients only"


def relative(code: str, id_: str | None = None, patient: str = P) -> dict[str, Any]:
    """A RelatedPerson of ``patient`` whose relationship is the v3 ``code`` (ECON, NOK, GUARD…)."""
    person = example("RelatedPerson-contact-urgence") | {"patient": {"reference": patient}}
    person["relationship"] = [{"coding": [{"system": V3_ROLE_CLASS, "code": code}]}]
    person.pop("id")
    return person | ({"id": id_} if id_ else {})


def refused(resp: Any, status: int, diagnostics: str) -> None:
    """``status`` with an OperationOutcome whose first issue starts with ``diagnostics``."""
    assert resp.status_code == status, resp.get_json()
    outcome = resp.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == ("forbidden" if status == 403 else "not-found")
    assert diagnostics in outcome["issue"][0]["diagnostics"]


def test_the_patient_creates_updates_and_deletes_an_emergency_contact(app, client):
    me = token(app, P)
    created = client.post("/fhir/RelatedPerson", json=relative("ECON"), headers=me)
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    person["telecom"][0]["value"] = "+33 6 00 00 00 00"
    person["relationship"][0]["coding"][0]["code"] = "NOK"
    updated = client.put(f"/fhir/RelatedPerson/{person['id']}", json=person, headers=me)
    assert updated.status_code == 200, updated.get_json()
    assert client.get(f"/fhir/RelatedPerson/{person['id']}", headers=me).get_json()["telecom"][0]["value"] == (
        "+33 6 00 00 00 00"
    )
    assert client.delete(f"/fhir/RelatedPerson/{person['id']}", headers=me).status_code == 204
    assert client.get(f"/fhir/RelatedPerson/{person['id']}", headers=me).status_code == 410


def test_the_patient_may_not_create_a_legal_representative(app, client):
    refused(client.post("/fhir/RelatedPerson", json=relative("GUARD"), headers=token(app, P)), 403, GUARD_ONLY)
    refused(client.put("/fhir/RelatedPerson/g", json=relative("GUARD", "g"), headers=token(app, P)), 403, GUARD_ONLY)


@pytest.mark.parametrize("how", ["update", "json-patch", "fhirpath-patch"])
def test_the_patient_may_not_turn_a_contact_into_a_legal_representative(app, client, system, how):
    put(client, system, relative("ECON", "contact"))
    me = token(app, P)
    if how == "update":
        resp = client.put("/fhir/RelatedPerson/contact", json=relative("GUARD", "contact"), headers=me)
    elif how == "json-patch":
        operation = {"op": "replace", "path": "/relationship/0/coding/0/code", "value": "GUARD"}
        resp = client.patch(
            "/fhir/RelatedPerson/contact",
            json=[operation],
            headers=me | {"Content-Type": "application/json-patch+json"},
        )
    else:
        parameters = {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "operation",
                    "part": [
                        {"name": "type", "valueCode": "replace"},
                        {"name": "path", "valueString": "RelatedPerson.relationship.coding.code"},
                        {"name": "value", "valueCode": "GUARD"},
                    ],
                }
            ],
        }
        resp = client.patch(
            "/fhir/RelatedPerson/contact", json=parameters, headers=me | {"Content-Type": "application/fhir+json"}
        )
    refused(resp, 403, GUARD_ONLY)
    assert client.get("/fhir/RelatedPerson/contact", headers=me).get_json()["relationship"][0]["coding"][0]["code"] == (
        "ECON"
    )


@pytest.mark.parametrize("caller", [P, GUARDIAN])
def test_a_holder_may_neither_change_nor_delete_a_legal_representative(app, client, system, caller):
    """The patient's own guardian, and the minor's representative writing their own RelatedPerson."""
    patient = P if caller == P else MINOR
    put(client, system, relative("GUARD", "tuteur", patient))
    holder = token(app, caller)
    for ref in ("RelatedPerson/tuteur", GUARDIAN if caller == GUARDIAN else "RelatedPerson/tuteur"):
        current = client.get(f"/fhir/{ref}", headers=holder)
        assert current.status_code == 200, current.get_json()
        downgraded = current.get_json()
        downgraded["relationship"] = relative("ECON")["relationship"]
        refused(client.put(f"/fhir/{ref}", json=downgraded, headers=holder), 403, GUARD_ONLY)
        refused(client.put(f"/fhir/{ref}", json=current.get_json(), headers=holder), 403, GUARD_ONLY)
        refused(client.delete(f"/fhir/{ref}", headers=holder), 403, GUARD_ONLY)


def test_the_representative_writes_the_minor_contacts(app, client):
    guardian = token(app, GUARDIAN)
    created = client.post("/fhir/RelatedPerson", json=relative("ECON", patient=MINOR), headers=guardian)
    assert created.status_code == 201, created.get_json()
    assert client.delete(f"/fhir/RelatedPerson/{created.get_json()['id']}", headers=guardian).status_code == 204


def test_another_patient_writes_nothing_into_the_record_nor_learns_what_it_holds(app, client, system):
    put(client, system, relative("ECON", "contact"))
    other = token(app, MINOR)
    refused(
        client.post("/fhir/RelatedPerson", json=relative("ECON"), headers=other),
        403,
        "RelatedPerson: the record holder and system clients only",
    )
    # a change to an item of another record answers as for an item that does not exist
    patch = {"headers": other | {"Content-Type": "application/json-patch+json"}, "json": []}
    for id_ in ("contact", "absent"):
        refused(client.delete(f"/fhir/RelatedPerson/{id_}", headers=other), 404, f"RelatedPerson/{id_}")
        refused(client.patch(f"/fhir/RelatedPerson/{id_}", **patch), 404, f"RelatedPerson/{id_}")
    refused(client.put("/fhir/RelatedPerson/contact", json=relative("NOK", "contact"), headers=other), 404, "contact")
    assert (
        client.get("/fhir/RelatedPerson/contact", headers=system).get_json()["relationship"]
        == (relative("ECON")["relationship"])
    )


def test_professionals_keep_writing_no_relative(app, client, system):
    """The attending physician reads the record's relatives but writes none (system clients do)."""
    put(client, system, relative("ECON", "contact"))
    gp = token(app, GP)
    assert client.get("/fhir/RelatedPerson/contact", headers=gp).status_code == 200
    rule = "RelatedPerson: the record holder and system clients only"
    refused(client.post("/fhir/RelatedPerson", json=relative("ECON"), headers=gp), 403, rule)
    refused(client.put("/fhir/RelatedPerson/contact", json=relative("NOK", "contact"), headers=gp), 403, rule)
    refused(client.delete("/fhir/RelatedPerson/contact", headers=gp), 403, rule)


@pytest.mark.parametrize("caller", [P, GUARDIAN])
def test_a_closed_record_answers_as_deposits_do(app, client, system, caller):
    """Neither the patient (L.1111-19) nor the representative is refused a closed record. A block
    never names a holder (the server takes practitioners, roles and organizations only): the engine's
    rule for a blocked representative is in tests/consent/test_writes.py."""
    patient = P if caller == P else MINOR
    reason = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "test"}]}
    assert client.post(f"/fhir/{patient}/$close", json=reason, headers=system).status_code == 200
    holder = token(app, caller)
    deposit = example("DocumentReference-directives-anticipees") | {"subject": {"reference": patient}}
    deposit["author"] = [{"reference": patient}]
    deposit.pop("id")
    deposited = client.post("/fhir/DocumentReference", json=deposit, headers=holder)
    created = client.post("/fhir/RelatedPerson", json=relative("ECON", patient=patient), headers=holder)
    assert (deposited.status_code, created.status_code) == (201, 201), created.get_json()
    refused(
        client.post("/fhir/RelatedPerson", json=relative("GUARD", patient=patient), headers=holder), 403, GUARD_ONLY
    )


def test_a_relative_stored_before_acl_guardian_is_a_guardian_until_reindex(app, client, system):
    """Deny by default: without the attribute the holder may not touch it; ``carnet reindex`` computes it."""
    put(client, system, relative("ECON", "ancien"))
    me = token(app, P)
    with app.app_context():
        store = get_store()
        stale = store.current("RelatedPerson", "ancien")
        assert stale is not None and stale.acl["guardian"] == "no"
        store.restore([replace(stale, vid=stale.vid + 1, acl={**stale.acl, "guardian": None})])
    refused(client.delete("/fhir/RelatedPerson/ancien", headers=me), 403, GUARD_ONLY)
    with app.app_context():
        assert get_store().reindex("RelatedPerson") >= 1
    assert client.delete("/fhir/RelatedPerson/ancien", headers=me).status_code == 204

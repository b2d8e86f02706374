"""`Store.reindex` (behind `carnet reindex`) rebuilds stale search values and access attributes."""

from __future__ import annotations

from fhir_server.storage import get_store_of
from tests.raw import blank_index
from tests.raw import drop_links
from tests.rest.test_crud import create
from tests.support import bearer


def test_reindex_restores_stale_index_values(app, client, system):
    created = create(client, system).get_json()
    store = get_store_of(app)
    blank_index(store, "Patient", created["id"])
    assert client.get("/fhir/Patient?family=dupont", headers=system).get_json()["total"] == 0
    assert store.reindex("Patient") == 1
    assert client.get("/fhir/Patient?family=dupont", headers=system).get_json()["total"] == 1
    assert store.reindex("Patient") == 0


def test_reindex_rebuilds_the_consent_links(app, client, system):
    """A store written before links existed: after reindex, the attending physician finds the record."""
    gp = "Practitioner/gp-reindex"
    client.put(f"/fhir/{gp}", json={"resourceType": "Practitioner", "id": gp.split("/")[1]}, headers=system)
    body = {"resourceType": "Patient", "generalPractitioner": [{"reference": gp}], "name": [{"family": "Lien"}]}
    created = client.post("/fhir/Patient", json=body, headers=system).get_json()
    store = get_store_of(app)
    as_gp = bearer(app, fhir_user=gp, scope="user/*.rs")
    assert client.get("/fhir/Patient?family=lien", headers=as_gp).get_json()["total"] == 1
    drop_links(store)
    assert client.get("/fhir/Patient?family=lien", headers=as_gp).get_json()["total"] == 0
    store.reindex("Patient")
    assert store.linked_records([gp]) == {f"Patient/{created['id']}"}
    assert client.get("/fhir/Patient?family=lien", headers=as_gp).get_json()["total"] == 1

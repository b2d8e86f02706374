"""`Store.reindex` (behind `carnet reindex`) rebuilds stale search values and access attributes."""
from __future__ import annotations

from tests.rest.test_crud import create


def test_reindex_restores_stale_index_values(app, client, system):
    created = create(client, system).get_json()
    store = app.extensions["carnet.store"]
    store.db["Patient"].update_one({"_id": created["id"]}, {"$set": {"idx": {}, "acl": {}}})
    assert client.get("/fhir/Patient?family=dupont", headers=system).get_json()["total"] == 0
    assert store.reindex("Patient") == 1
    assert client.get("/fhir/Patient?family=dupont", headers=system).get_json()["total"] == 1
    assert store.reindex("Patient") == 0

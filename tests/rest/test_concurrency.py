"""Optimistic concurrency: of two updates with the same If-Match, exactly one wins."""

from __future__ import annotations

import threading

import pytest

from fhir_server.errors import PreconditionFailed
from fhir_server.storage import get_store
from tests.rest.test_crud import create


def test_concurrent_if_match_updates(app, system):
    client = app.test_client()
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def update(gender: str) -> None:
        c = app.test_client()
        barrier.wait()
        resp = c.put(url, json={**created, "gender": gender}, headers={**system, "If-Match": 'W/"1"'})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=update, args=(g,)) for g in ("male", "female", "other", "unknown")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 412, 412, 412]
    history = client.get(f"{url}/_history", headers=system).get_json()
    assert history["total"] == 2


def test_concurrent_updates_without_if_match_all_land(app, system):
    client = app.test_client()
    created = create(client, system).get_json()
    url = f"/fhir/Patient/{created['id']}"
    statuses: list[int] = []

    def update() -> None:
        statuses.append(app.test_client().put(url, json=created, headers=system).status_code)

    threads = [threading.Thread(target=update) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6
    assert client.get(url, headers=system).get_json()["meta"]["versionId"] == "7"


def test_a_create_never_overwrites_an_existing_id(app, system):
    """Creates insert without a lookup first; a taken id (even a deleted one) still answers 412."""
    client = app.test_client()
    created = create(client, system).get_json()
    body = {"resourceType": "Patient", "gender": "other"}
    with app.app_context():
        store = get_store()
        with pytest.raises(PreconditionFailed, match="is at version 1, not 0"):
            store.write("Patient", created["id"], body, method="POST", expected_vid=0)
        assert client.delete(f"/fhir/Patient/{created['id']}", headers=system).status_code == 204
        with pytest.raises(PreconditionFailed, match="is at version 2, not 0"):
            store.write("Patient", created["id"], body, method="POST", expected_vid=0)
        assert store.write("Patient", "fresh-id", body, method="POST", expected_vid=0).vid == 1
    assert client.get(f"/fhir/Patient/{created['id']}/_history", headers=system).get_json()["total"] == 2

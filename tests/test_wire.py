"""The same server code on the real pymongo driver, through mongoeco's MongoDB wire server."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support import bearer
from fhir_server.app import create_app
from tests.servers import wire_store

pytestmark = pytest.mark.wire


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with wire_store(tmp_path_factory.mktemp("wire")) as uri:
        yield uri


@pytest.fixture
def wire_app(uri: str, tmp_path: Path) -> Flask:
    return create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MONGODB_URI": uri,
                       "MONGODB_DATABASE": f"t{tmp_path.name[-8:]}"})


def test_crud_and_history_over_the_wire(wire_app):
    client, auth = wire_app.test_client(), bearer(wire_app)
    import pymongo
    assert isinstance(wire_app.extensions["carnet.store"].client, pymongo.MongoClient)
    created = client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "male"}, headers=auth)
    assert created.status_code == 201
    url = f"/fhir/Patient/{created.get_json()['id']}"
    assert client.put(url, json={**created.get_json(), "gender": "female"}, headers={**auth, "If-Match": 'W/"1"'}).status_code == 200
    assert client.put(url, json=created.get_json(), headers={**auth, "If-Match": 'W/"1"'}).status_code == 412
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 410
    history = client.get(f"{url}/_history", headers=auth).get_json()
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']


def test_search_over_the_wire(wire_app):
    client, auth = wire_app.test_client(), bearer(wire_app)
    for family in ("Lefèvre", "Lefebvre", "Martin"):
        client.post("/fhir/Patient", json={"resourceType": "Patient", "name": [{"family": family}]}, headers=auth)
    bundle = client.get("/fhir/Patient?family=lefe&_total=accurate", headers=auth).get_json()
    assert bundle["total"] == 2
    assert {e["resource"]["name"][0]["family"] for e in bundle["entry"]} == {"Lefèvre", "Lefebvre"}

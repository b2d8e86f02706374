"""The MongoDB adapter on the real pymongo driver, through `carnet store` (mongoeco's engine over the
MongoDB wire protocol): in process, and `carnet serve` workers with MONGODB_URI at the stand-in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from fhir_server.app import create_app
from tests.servers import carnet_server
from tests.servers import cli_token
from tests.servers import wire_store
from tests.support import bearer

pytestmark = pytest.mark.wire


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with wire_store(tmp_path_factory.mktemp("wire")) as uri:
        yield uri


@pytest.fixture
def wire_app(uri: str, tmp_path: Path) -> Flask:
    return create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path), "MONGODB_URI": uri, "MONGODB_DATABASE": f"t{tmp_path.name[-8:]}"}
    )


def test_crud_and_history_over_the_wire(wire_app):
    client, auth = wire_app.test_client(), bearer(wire_app)
    import pymongo

    assert isinstance(wire_app.extensions["carnet.store"].client, pymongo.MongoClient)
    created = client.post("/fhir/Patient", json={"resourceType": "Patient", "gender": "male"}, headers=auth)
    assert created.status_code == 201
    url = f"/fhir/Patient/{created.get_json()['id']}"
    assert (
        client.put(
            url, json={**created.get_json(), "gender": "female"}, headers={**auth, "If-Match": 'W/"1"'}
        ).status_code
        == 200
    )
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


def test_served_workers_on_the_stand_in(uri, tmp_path):
    """`carnet serve` with MONGODB_URI: two workers write to the MongoDB stand-in, none to an embedded file."""
    import pymongo

    env = {**os.environ, "MONGODB_URI": uri, "CARNET_MONGODB_DATABASE": "served"}
    with carnet_server(tmp_path, workers=2, env=env) as base:
        token = cli_token(tmp_path, "--scope", "system/*.cruds")
        auth = {"Authorization": f"Bearer {token}", "Connection": "close"}
        ids = []
        for family in ("Lefèvre", "Lefebvre", "Martin"):
            resp = requests.post(
                f"{base}/Patient", json={"resourceType": "Patient", "name": [{"family": family}]}, headers=auth
            )
            assert resp.status_code == 201
            ids.append(resp.json()["id"])
        for _ in range(4):  # any worker answers
            bundle = requests.get(
                f"{base}/Patient", params={"family": "lefe", "_total": "accurate"}, headers=auth
            ).json()
            assert bundle["total"] == 2
        assert requests.get(f"{base}/metadata").status_code == 200
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri)
    try:
        assert sorted(d["_id"] for d in client["served"]["Patient"].find({}, {"_id": 1})) == sorted(ids)
    finally:
        client.close()
    assert not (tmp_path / "carnet.db").exists()

"""End to end against `carnet serve` (gunicorn, gthread) on the embedded store, through real HTTP:
one worker, and several worker processes sharing the one SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.servers import carnet_server
from tests.servers import cli_token as token
from tests.servers import embedded_env

pytestmark = pytest.mark.gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("served")
    env = embedded_env()
    with carnet_server(data_dir, env=env) as base:
        yield base, data_dir


def test_served_crud_round_trip(server):
    base, data_dir = server
    auth = {"Authorization": "Bearer " + token(data_dir, "--scope", "system/*.cruds")}
    created = requests.post(
        f"{base}/Patient",
        json={"resourceType": "Patient", "gender": "female"},
        headers={**auth, "Content-Type": "application/fhir+json"},
    )
    assert created.status_code == 201
    assert created.headers["Content-Type"].startswith("application/fhir+json")
    location = created.headers["Location"]
    assert location.startswith(base)
    read = requests.get(f"{base}/Patient/{created.json()['id']}", headers=auth)
    assert read.status_code == 200 and read.json() == created.json()
    assert requests.get(f"{base}/Patient/{created.json()['id']}").status_code == 401
    assert requests.get(f"{base}/Patient/{created.json()['id']}/", headers=auth).status_code == 200


def test_served_store_persists_under_data_dir(server):
    _, data_dir = server
    assert (data_dir / "carnet.db").exists()
    assert (data_dir / "auth" / "signing-key.jwk.json").exists()


def test_served_never_500_on_garbage(server):
    base, data_dir = server
    auth = {"Authorization": "Bearer " + token(data_dir, "--scope", "system/*.cruds")}
    for body in (b"\xff\xfe", b"{", b'{"resourceType": "Patient", "id": 5}', b"[" * 5000):
        resp = requests.post(f"{base}/Patient", data=body, headers={**auth, "Content-Type": "application/fhir+json"})
        assert 400 <= resp.status_code < 500, (body[:20], resp.status_code)
        assert resp.json()["resourceType"] == "OperationOutcome"


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("workers")
    env = embedded_env()
    with carnet_server(data_dir, workers=2, env=env) as base:
        yield base, data_dir


def test_several_workers_share_the_one_file(workers):
    """Concurrent writes through two worker processes all land, each once, and every worker reads them."""
    base, data_dir = workers
    auth = {
        "Authorization": "Bearer " + token(data_dir, "--scope", "system/*.cruds"),
        "Content-Type": "application/fhir+json",
    }
    created: list[str] = []
    failures: list[object] = []

    def write(n: int) -> None:
        with requests.Session() as session:
            for i in range(10):
                body = {"resourceType": "Patient", "identifier": [{"system": "urn:workers", "value": f"{n}-{i}"}]}
                resp = session.post(f"{base}/Patient", json=body, headers={**auth, "Connection": "close"})
                if resp.status_code != 201:
                    failures.append((resp.status_code, resp.text[:200]))
                else:
                    created.append(resp.json()["id"])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len(set(created)) == 40
    assert not [p for p in data_dir.iterdir() if p.suffix == ".sqlite"]  # one store: carnet.db
    for _ in range(6):  # new connections: any worker answers, each sees every write
        found = requests.get(
            f"{base}/Patient", params={"_count": "100"}, headers={**auth, "Connection": "close"}
        ).json()
        assert sorted(e["resource"]["id"] for e in found.get("entry", [])) == sorted(created)
    one = created[0]
    updated = requests.put(
        f"{base}/Patient/{one}",
        json={"resourceType": "Patient", "id": one, "active": True},
        headers={**auth, "If-Match": 'W/"1"'},
    )
    stale = requests.put(
        f"{base}/Patient/{one}",
        json={"resourceType": "Patient", "id": one, "active": False},
        headers={**auth, "If-Match": 'W/"1"', "Connection": "close"},
    )
    assert (updated.status_code, stale.status_code) == (200, 412)

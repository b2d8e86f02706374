"""Concurrency across worker processes (`carnet serve --workers 2`, real clients in threads):
two If-Match writers of one version never both win, and transactions on the same resources never
interleave — isolation comes from the store (SQLite BEGIN IMMEDIATE; MongoDB transactions), not
from a lock in one process. On the MongoDB leg the server runs on the stand-in's wire server."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from tests.servers import carnet_server
from tests.servers import embedded_env
from tests.servers import wire_store
from tests.storage.test_crash import token

pytestmark = pytest.mark.gunicorn
WRITERS = 12


@pytest.fixture
def server(tmp_path: Path):
    with ExitStack() as stack:
        env = embedded_env()
        if os.environ.get("MONGODB_URI"):
            uri = stack.enter_context(wire_store(tmp_path / "wire"))
            env |= {"MONGODB_URI": uri, "CARNET_MONGODB_DATABASE": "workers"}
        base = stack.enter_context(carnet_server(tmp_path, workers=2, env=env))
        headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
        yield base, headers


def test_two_if_match_writers_never_both_win(server):
    base, headers = server
    with requests.Session() as http, ThreadPoolExecutor(WRITERS) as pool:
        for _round in range(3):
            created = http.post(f"{base}/Patient", json={"resourceType": "Patient"}, headers=headers, timeout=30).json()
            url = f"{base}/Patient/{created['id']}"

            def put(i: int, created: dict = created, url: str = url) -> int:
                body = {**created, "identifier": [{"system": "urn:w", "value": str(i)}]}
                return requests.put(url, json=body, headers={**headers, "If-Match": 'W/"1"'}, timeout=60).status_code

            statuses = list(pool.map(put, range(WRITERS)))
            assert statuses.count(200) == 1, statuses
            assert set(statuses) <= {200, 409, 412}, statuses
            history = http.get(f"{url}/_history", headers=headers, timeout=30).json()
            assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]


def test_transactions_on_the_same_resources_do_not_interleave(server):
    base, headers = server
    ids = [f"pair-{uuid.uuid4().hex[:8]}-{side}" for side in ("a", "b")]

    def bundle(mark: int) -> dict:
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "request": {"method": "PUT", "url": f"Patient/{id_}"},
                    "resource": {
                        "resourceType": "Patient",
                        "id": id_,
                        "identifier": [{"system": "urn:t", "value": str(mark)}],
                    },
                }
                for id_ in ids
            ],
        }

    def post(mark: int) -> int:
        return requests.post(base, json=bundle(mark), headers=headers, timeout=120).status_code

    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(post, range(WRITERS * 2)))
    assert all(s in (200, 409, 412, 503) for s in statuses), sorted(set(statuses))
    won = statuses.count(200)
    assert won >= 1
    marks = []
    for id_ in ids:
        history = requests.get(
            f"{base}/Patient/{id_}/_history", params={"_count": "100"}, headers=headers, timeout=30
        ).json()
        versions = sorted(history["entry"], key=lambda e: int(e["resource"]["meta"]["versionId"]))
        assert [int(e["resource"]["meta"]["versionId"]) for e in versions] == list(range(1, won + 1))  # no gap
        marks.append([e["resource"]["identifier"][0]["value"] for e in versions])
    assert marks[0] == marks[1]  # version n of both resources comes from the same transaction

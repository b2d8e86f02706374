"""The MongoDB adapter's multi-document transactions, on the mongoeco stand-in (in process, and
over its wire server with `carnet serve` killed with SIGKILL mid-transaction); the refusal to start
on a deployment without transactions. Integration twin of the SQLite crash test: test_crash.py.

Not testable here: a real replica set's failover (TransientTransactionError retries) and a real
standalone mongod's refusal of transactions (no mongod on these machines: the detection is tested
by forcing it)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest
import requests

from fhir_server.app import create_app
from fhir_server.capability import NON_ATOMIC
from fhir_server.storage import NonAtomicStore
from fhir_server.storage import get_store_of
from fhir_server.storage.mongo import sessions
from fhir_server.storage.mongo.repository import open_client
from tests.servers import carnet_server
from tests.servers import wire_store
from tests.storage.test_crash import gunicorn_pids
from tests.storage.test_crash import token
from tests.storage.test_crash import transaction
from tests.support import app_config

mongo = pytest.mark.skipif(not os.environ.get("MONGODB_URI"), reason="MongoDB adapter leg only (MONGODB_URI)")


@mongo
def test_the_stand_in_runs_transactions_and_the_adapter_uses_them(app):
    store = get_store_of(app)
    assert getattr(store, "transactions", None) is True  # MongoRepository only
    seen: list[object] = []
    with app.app_context(), pytest.raises(RuntimeError), store.atomic():
        store.write("Patient", "tx1", {"resourceType": "Patient"}, method="PUT")
        seen.append(sessions.current_session.get())
        assert store.current("Patient", "tx1") is not None  # reads inside see the block's writes
        raise RuntimeError("abort")
    assert seen[0] is not None  # the write ran in the block's session
    assert store.current("Patient", "tx1") is None
    assert store.version("Patient", "tx1", 1) is None  # no history without its resource


@mongo
def test_a_transaction_bundle_failing_late_leaves_nothing(app, client, system):
    entries = [
        {
            "request": {"method": "PUT", "url": f"Patient/late{i}"},
            "resource": {"resourceType": "Patient", "id": f"late{i}"},
        }
        for i in range(5)
    ]
    entries.append(
        {
            "request": {"method": "PUT", "url": "Patient/late0", "ifMatch": 'W/"7"'},
            "resource": {"resourceType": "Patient", "id": "late0"},
        }
    )
    answer = client.post(
        "/fhir", json={"resourceType": "Bundle", "type": "transaction", "entry": entries}, headers=system
    )
    assert answer.status_code >= 400
    assert client.get("/fhir/Patient/late1", headers=system).status_code == 404


def test_a_deployment_without_transactions_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.setattr("fhir_server.storage.mongo.repository.supports_transactions", lambda client, db: False)
    config = app_config(tmp_path) | {"MONGODB_URI": "mongoeco://", "MONGODB_DATABASE": "standalone"}
    config.pop("DATABASE_FILE", None)
    monkeypatch.delenv("ACCEPT_NON_ATOMIC_BUNDLES", raising=False)
    with pytest.raises(NonAtomicStore, match="ACCEPT_NON_ATOMIC_BUNDLES"):
        create_app(config)
    app = create_app(config | {"ACCEPT_NON_ATOMIC_BUNDLES": True})
    try:
        rest = app.test_client().get("/fhir/metadata").get_json()["rest"][0]
        assert rest["documentation"] == NON_ATOMIC
    finally:
        get_store_of(app).drop()
        get_store_of(app).close()


def test_the_capability_statement_is_silent_on_an_atomic_store(client):
    assert "documentation" not in client.get("/fhir/metadata").get_json()["rest"][0]


def test_the_probe_detects_transactions_on_the_stand_in():
    client = open_client("mongoeco://")
    try:
        assert sessions.supports_transactions(client, client["probe"]) is True
    finally:
        client.close()


ENTRIES = 400


@pytest.mark.gunicorn
@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_mid_transaction_on_the_wire_stand_in_leaves_all_or_nothing(tmp_path, seed):
    rnd = random.Random(seed)
    with wire_store(tmp_path / "wire") as uri:
        env = {**os.environ, "MONGODB_URI": uri, "CARNET_MONGODB_DATABASE": f"crash{seed}"}
        with carnet_server(tmp_path, env=env) as base:
            headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
            port = int(base.split(":")[2].split("/")[0])
            answer: dict[str, object] = {}
            bundle = transaction(f"w{seed}")
            bundle["entry"] = bundle["entry"][:ENTRIES]

            def post() -> None:
                try:
                    answer["status"] = requests.post(base, json=bundle, headers=headers, timeout=120).status_code
                except requests.RequestException as exc:
                    answer["error"] = exc

            poster = threading.Thread(target=post)
            poster.start()
            time.sleep(rnd.uniform(0.3, 1.5))
            for pid in gunicorn_pids(port):
                os.kill(pid, signal.SIGKILL)
            poster.join(timeout=60)
    # the stand-in keeps a dead client's transaction open (MongoDB aborts it after
    # transactionLifetimeLimitSeconds, 60 s): restart it on the same file, which rolls it back
    with wire_store(tmp_path / "wire") as uri:
        env = {**os.environ, "MONGODB_URI": uri, "CARNET_MONGODB_DATABASE": f"crash{seed}"}
        with carnet_server(tmp_path, env=env) as base:
            headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
            total = requests.get(f"{base}/Patient", params={"_summary": "count"}, headers=headers, timeout=60).json()[
                "total"
            ]
            assert total in (0, ENTRIES), f"killed mid-transaction: {total} of {ENTRIES} Patients stored"
            if answer.get("status") == 200:
                assert total == ENTRIES
            history = requests.get(
                f"{base}/Patient/_history", params={"_count": "0"}, headers=headers, timeout=60
            ).json()["total"]
            assert history == total
            again = requests.post(f"{base}/Patient", json={"resourceType": "Patient"}, headers=headers, timeout=60)
            assert again.status_code == 201

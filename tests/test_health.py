"""/healthz and /readyz, and a store failure answered as 503 + OperationOutcome (never a 500).
Real failures of each store (locked, full disk, MongoDB gone): tests/storage/test_unavailable.py."""

from __future__ import annotations

import time

from fhir_server.storage import StoreUnavailable
from fhir_server.storage import get_store_of


def outcome(resp) -> dict:
    body = resp.get_json()
    assert body["resourceType"] == "OperationOutcome", body
    return body


def test_healthz_and_readyz_answer_without_a_token(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"


def test_readyz_is_503_with_retry_after_when_the_store_fails(app, client, monkeypatch):
    store = get_store_of(app)

    def down() -> None:
        raise StoreUnavailable("gone")

    monkeypatch.setattr(store, "ping", down)
    resp = client.get("/readyz")
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert outcome(resp)["issue"][0]["code"] == "transient"


def test_readyz_is_503_when_the_store_is_slow(app, client, monkeypatch):
    app.config["READY_TIMEOUT_S"] = 0.2
    monkeypatch.setattr(get_store_of(app), "ping", lambda: time.sleep(1))
    resp = client.get("/readyz")
    assert resp.status_code == 503 and "did not answer" in outcome(resp)["issue"][0]["diagnostics"]
    time.sleep(1)  # let the pinger finish before the next test


def test_a_store_failure_is_a_503_operation_outcome(app, client, system, monkeypatch):
    store = get_store_of(app)

    def down(*args, **kwargs):
        raise StoreUnavailable("disk full")

    monkeypatch.setattr(store, "write", down)
    resp = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=system)
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert outcome(resp)["issue"][0]["code"] == "transient"
    monkeypatch.undo()
    assert client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=system).status_code == 201

"""Real store failures answer 503 + OperationOutcome with Retry-After (never a 500, never a half
write) and the server recovers by itself: a locked SQLite file, a full disk (a tmpfs data
directory), the MongoDB stand-in's wire server stopped under a running `carnet serve`.
Unit twin (simulated failures): tests/test_health.py.

Not tested: an unreadable SQLite file — these tests run as root, whom file permissions do not stop."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from fhir_server.app import create_app
from fhir_server.storage import get_store_of
from tests.servers import carnet_server
from tests.servers import free_port
from tests.storage.test_crash import token
from tests.support import bearer

sqlite_only = pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="embedded SQLite leg only")


def is_503(resp) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.get_json()["resourceType"] == "OperationOutcome"


def count(client, headers) -> int:
    return client.get("/fhir/Patient", query_string={"_summary": "count"}, headers=headers).get_json()["total"]


@sqlite_only
def test_a_locked_sqlite_file_answers_503_then_recovers(tmp_path):
    db = tmp_path / "carnet.db"
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tmp_path), "DATABASE_FILE": str(db), "SQLITE_BUSY_TIMEOUT_MS": 300}
    )
    try:
        client, headers = app.test_client(), bearer(app)
        assert client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers).status_code == 201
        before = count(client, headers)
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        try:
            is_503(client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers))
            is_503(client.get("/fhir/Patient", headers=headers))  # a read writes its AuditEvent: refused whole
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert count(client, headers) == before  # nothing of the refused requests was kept
        assert client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers).status_code == 201
    finally:
        get_store_of(app).close()


@contextmanager
def tmpfs(path: Path, size: str):
    path.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN): {made.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    filler = path / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


@sqlite_only
def test_a_full_disk_answers_503_without_a_half_write_then_recovers(tmp_path):
    with tmpfs(tmp_path / "small", "4m") as data:
        app = create_app({"TESTING": True, "DATA_DIR": str(data), "DATABASE_FILE": str(data / "carnet.db")})
        try:
            client, headers = app.test_client(), bearer(app)
            assert client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=headers).status_code == 201
            before = count(client, headers)
            filler = fill(data)
            big = {
                "resourceType": "Patient",
                "text": {
                    "status": "generated",
                    "div": '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * 400_000 + "</div>",
                },
            }
            is_503(client.post("/fhir/Patient", json=big, headers=headers))
            filler.unlink()
            assert count(client, headers) == before
            history = client.get("/fhir/Patient/_history", query_string={"_count": "0"}, headers=headers).get_json()
            assert history["total"] == before  # no version without its resource
            assert client.post("/fhir/Patient", json=big, headers=headers).status_code == 201
        finally:
            get_store_of(app).close()


@contextmanager
def wire_store_on(data_dir: Path, port: int):
    proc = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "store", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("mongodb://")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.gunicorn
def test_the_mongodb_store_stopped_under_a_running_server_answers_503_then_recovers(tmp_path):
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true&serverSelectionTimeoutMS=1000"
    env = {**os.environ, "MONGODB_URI": uri, "CARNET_MONGODB_DATABASE": f"down{uuid.uuid4().hex[:6]}"}
    store_dir = tmp_path / "wire"
    with wire_store_on(store_dir, port):
        server = carnet_server(tmp_path, env=env)
        base = server.__enter__()
    try:
        # the stand-in is stopped now, under the running server
        headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
        for resp in (
            requests.get(f"{base}/Patient", headers=headers, timeout=30),
            requests.post(f"{base}/Patient", json={"resourceType": "Patient"}, headers=headers, timeout=30),
            requests.get(base.removesuffix("/fhir") + "/readyz", timeout=30),
        ):
            assert resp.status_code == 503, resp.text[:300]
            assert int(resp.headers["Retry-After"]) > 0 and resp.json()["resourceType"] == "OperationOutcome"
        assert requests.get(base.removesuffix("/fhir") + "/healthz", timeout=10).status_code == 200
        with wire_store_on(store_dir, port):
            deadline = time.monotonic() + 30
            while requests.get(base.removesuffix("/fhir") + "/readyz", timeout=30).status_code != 200:
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.3)
            created = requests.post(f"{base}/Patient", json={"resourceType": "Patient"}, headers=headers, timeout=30)
            assert created.status_code == 201
            assert (
                requests.get(f"{base}/Patient/{created.json()['id']}", headers=headers, timeout=30).status_code == 200
            )
    finally:
        server.__exit__(None, None, None)

"""`carnet load` killed with SIGKILL at random points resumes: a re-run with the same state file
loads the rest, every resource is stored, none twice beyond the batch in flight at the kill, and
the history has no gap. Straight into a data directory (the loader process killed), and through
a server (the server killed, then restarted). Embedded SQLite; the MongoDB adapter's crash test
is test_mongo_transactions.py."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fhir_server.indexing import index_resource
from fhir_server.storage.sqlite.repository import SqliteRepository
from tests.servers import carnet_server
from tests.servers import embedded_env
from tests.storage.test_crash import gunicorn_pids
from tests.storage.test_crash import token

pytestmark = [
    pytest.mark.gunicorn,
    pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="embedded SQLite leg"),
]
PATIENTS = 3000
CHUNK = 100


def ndjson(path: Path) -> Path:
    path.write_text(
        "".join(
            json.dumps({"resourceType": "Patient", "id": f"load-{i}", "name": [{"family": f"Load{i}"}]}) + "\n"
            for i in range(PATIENTS)
        )
    )
    return path


def load(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "load", *args],
        env=embedded_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check(db: Path) -> None:
    repo = SqliteRepository(str(db), index_resource)
    try:
        versions: dict[str, list[int]] = {}
        for v in repo.versions("Patient"):
            versions.setdefault(v.id, []).append(v.vid)
        assert set(versions) == {f"load-{i}" for i in range(PATIENTS)}  # every resource stored
        for vids in versions.values():
            assert vids == list(range(1, len(vids) + 1))  # no gap
        again = [id_ for id_, vids in versions.items() if len(vids) > 1]
        assert len(again) <= CHUNK, (
            f"{len(again)} resources loaded twice: {sorted(again, key=lambda s: int(s[5:]))[:3]}..."
        )  # only the batch in flight
    finally:
        repo.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_of_the_loader_then_resume(tmp_path, seed):
    data, state, source = tmp_path / "data", tmp_path / "state.json", ndjson(tmp_path / "p.ndjson")
    args = (str(source), "--data-dir", str(data), "--state", str(state), "--chunk", str(CHUNK))
    proc = load(*args)
    time.sleep(random.Random(seed).uniform(2.0, 4.0))  # start-up ~1.5 s, then ~1,000 resources/s
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    resumed = load(*args)
    _out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err[-2000:]
    check(data / "carnet.db")


def test_kill_9_of_the_server_under_the_loader_then_resume(tmp_path):
    data, state, source = tmp_path / "data", tmp_path / "state.json", ndjson(tmp_path / "p.ndjson")
    with carnet_server(data, env=embedded_env()) as base:
        port = int(base.split(":")[2].split("/")[0])
        proc = load(str(source), "--url", base, "--token", token(data), "--state", str(state), "--chunk", str(CHUNK))
        time.sleep(2.5)
        for pid in gunicorn_pids(port):
            os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=120)  # it reports the failures of what could not be posted
    with carnet_server(data, env=embedded_env(), port=port) as base:  # the same URL: the same target in the state
        resumed = load(str(source), "--url", base, "--token", token(data), "--state", str(state), "--chunk", str(CHUNK))
        _out, err = resumed.communicate(timeout=180)
        assert resumed.returncode == 0, err[-2000:]
    check(data / "carnet.db")

"""A FHIR transaction survives ``kill -9`` all or nothing on the embedded store: real `carnet serve`
processes, killed at random points of a big transaction, then restarted on the same data."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.servers import carnet_server
from tests.servers import embedded_env

pytestmark = pytest.mark.gunicorn
ENTRIES = 3000
MARK = "urn:carnet:crash"


def token(data_dir: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", "token", "--data-dir", str(data_dir), "--scope", "system/*.cruds"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def transaction(run: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "request": {"method": "POST", "url": "Patient"},
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": MARK, "value": f"{run}-{i}"}],
                    "name": [{"family": f"Crash{i}"}],
                },
            }
            for i in range(ENTRIES)
        ],
    }


def gunicorn_pids(port: int) -> list[int]:
    out = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True, text=True).stdout.split()
    pids = [int(p) for p in out]
    children = subprocess.run(["pgrep", "-P", ",".join(map(str, pids))], capture_output=True, text=True).stdout.split()
    return pids + [int(c) for c in children]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_in_the_middle_of_a_transaction_leaves_all_or_nothing(tmp_path, seed):
    rnd = random.Random(seed)
    env = embedded_env()
    with carnet_server(tmp_path, env=env) as base:
        headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
        port = int(base.split(":")[2].split("/")[0])
        before = requests.get(f"{base}/Patient", params={"_summary": "count"}, headers=headers).json()["total"]
        answer: dict[str, object] = {}

        def post() -> None:
            try:
                answer["status"] = requests.post(
                    base, json=transaction(f"r{seed}"), headers=headers, timeout=120
                ).status_code
            except requests.RequestException as exc:
                answer["error"] = exc

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(rnd.uniform(0.2, 1.5))  # a 3,000-entry transaction takes ~2 s here
        for pid in gunicorn_pids(port):
            os.kill(pid, signal.SIGKILL)
        poster.join(timeout=60)
    with carnet_server(tmp_path, env=env) as base:
        headers = {"Authorization": f"Bearer {token(tmp_path)}", "Content-Type": "application/fhir+json"}
        total = requests.get(f"{base}/Patient", params={"_summary": "count"}, headers=headers).json()["total"]
        ours = total - before
        assert ours in (0, ENTRIES), f"killed mid-transaction: {ours} of {ENTRIES} Patients stored"
        if answer.get("status") == 200:
            assert ours == ENTRIES  # acknowledged means stored
        history = requests.get(f"{base}/Patient/_history", params={"_count": "0"}, headers=headers).json()["total"]
        assert history - before == ours  # no version without its resource, none lost
        # the store still takes writes after the crash
        again = requests.post(f"{base}/Patient", json={"resourceType": "Patient"}, headers=headers)
        assert again.status_code == 201

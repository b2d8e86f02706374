"""Bulk Data system export benchmark against a real `carnet serve` (embedded SQLite store).

For each size, loads that many generated resources (bench/dataset.py: patients with documents and
allergies), kicks off ``[base]/$export``, polls the status URL until the manifest answers, and
prints resources/s (the resources in the files over the time from kick-off to manifest) and the
server's peak RSS (VmHWM of the server process and its workers). Usage:
    .venv/bin/python bench/export.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import carnet_server  # noqa: E402
from tests.servers import cli_token  # noqa: E402
from tests.servers import embedded_env  # noqa: E402
from tests.servers import server_port  # noqa: E402


def preload(data_dir: Path, count: int) -> int:
    """``count`` resources: patients with two documents and one allergy each (4 per patient)."""
    from bench.dataset import load
    from bench.dataset import records
    from fhir_server.app import create_app
    from fhir_server.storage import get_store_of

    app = create_app({"DATA_DIR": str(data_dir)})
    store = get_store_of(app)
    try:
        return load(store, records(count // 4, docs_per_patient=2, allergies_per_patient=1))
    finally:
        store.close()


def peak_rss_kib(pid: int) -> tuple[int, int]:
    """(largest, summed) VmHWM over the server process and its children, in KiB."""
    pids = [pid] + [
        int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    peaks = []
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        peaks += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")]
    return max(peaks, default=0), sum(peaks)


def server_pid(port: int) -> int:
    out = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True, text=True).stdout.split()
    return min(int(p) for p in out)


def measure(size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        t0 = time.perf_counter()
        loaded = preload(data_dir, size)
        print(f"{size:>7} requested: loaded {loaded} resources in {time.perf_counter() - t0:.1f} s", flush=True)
        env = embedded_env()
        with carnet_server(data_dir, workers=1, env=env) as base:
            pid = server_pid(server_port(base))
            token = cli_token(data_dir, "--scope", "system/*.rs")
            auth = {"Authorization": f"Bearer {token}"}
            before = peak_rss_kib(pid)
            start = time.perf_counter()
            kick = requests.get(f"{base}/$export", headers={**auth, "Prefer": "respond-async"}, timeout=60)
            kick.raise_for_status()
            status = kick.headers["Content-Location"]
            while True:
                resp = requests.get(status, headers=auth, timeout=60)
                if resp.status_code == 200:
                    break
                resp.raise_for_status()
                time.sleep(0.2)
            elapsed = time.perf_counter() - start
            manifest = resp.json()
            exported = sum(o["count"] for o in manifest["output"])
            size_bytes = sum(len(requests.get(o["url"], headers=auth, timeout=600).content) for o in manifest["output"])
            largest, summed = peak_rss_kib(pid)
            print(
                f"{size:>7}: exported {exported} resources ({size_bytes / 1e6:.1f} MB NDJSON) in {elapsed:.2f} s = "
                f"{exported / elapsed:,.0f} resources/s; server peak RSS {largest / 1024:.0f} MiB "
                f"(all processes {summed / 1024:.0f} MiB; {before[0] / 1024:.0f} MiB before the export)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    for size in parser.parse_args().sizes:
        measure(size)


if __name__ == "__main__":
    main()

"""CRUD benchmark against a real default `carnet serve` (gunicorn gthread, one worker per core,
the embedded SQLite store, or the MongoDB adapter on its stand-in with ``--mongodb``).

Prints creates/s, reads/s, p50/p95 latency and server CPU per request, beside a hello-JSON Flask
app under gunicorn gthread with 2 workers × 4 threads (the ceiling), measured in the same run,
and the read throughput ratio. Usage:
    .venv/bin/python bench/crud.py [--creates 2000] [--reads 4000] [--preload 50000] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import carnet_server  # noqa: E402
from tests.servers import cli_token  # noqa: E402
from tests.servers import embedded_env  # noqa: E402
from tests.servers import free_port  # noqa: E402
from tests.servers import server_port  # noqa: E402
from tests.servers import wire_store  # noqa: E402

HELLO_APP = """
from flask import Flask
app = Flask(__name__)
@app.get("/hello")
def hello():
    return {"resourceType": "OperationOutcome", "issue": []}
"""


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its children (the gunicorn master and workers)."""
    total = 0.0
    pids = [pid] + [
        int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def server_pid(port: int) -> int:
    out = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True, text=True).stdout.split()
    return min(int(p) for p in out)


def run(label: str, n: int, threads: int, call: Callable[[requests.Session, int], None], pid: int) -> float:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            call(session, i)
            with lock:
                latencies.append(time.perf_counter() - start)

    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<10} {n / elapsed:8.0f} req/s   p50 {q[49] * 1000:6.2f} ms   p95 {q[94] * 1000:6.2f} ms"
        f"   server CPU {cpu / n * 1e6:7.0f} µs/req",
        flush=True,
    )
    return n / elapsed


def hello_ceiling(n: int, threads: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(HELLO_APP)
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-k",
                "gthread",
                "--threads",
                "4",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "hello:app",
            ],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    requests.get(f"http://127.0.0.1:{port}/hello", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            return run(
                "hello", n, threads, lambda s, i: s.get(f"http://127.0.0.1:{port}/hello").raise_for_status(), proc.pid
            )
        finally:
            proc.terminate()
            proc.wait()


def preload(data_dir: Path, count: int) -> None:
    """Bulk-load ``count`` resources (patients with a document each) into the store under ``data_dir``."""
    from bench.dataset import load
    from bench.dataset import records
    from fhir_server.app import create_app
    from fhir_server.storage import get_store_of

    app = create_app({"DATA_DIR": str(data_dir)})
    store = get_store_of(app)
    load(store, records(count // 2, docs_per_patient=1, allergies_per_patient=0))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=4000)
    parser.add_argument("--preload", type=int, default=0, help="resources loaded before measuring")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=0, help="carnet serve --workers (default: one per core)")
    parser.add_argument("--mongodb", action="store_true", help="the MongoDB adapter on its stand-in (carnet store)")
    args = parser.parse_args()
    ceiling = hello_ceiling(args.reads, args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        if args.preload:
            t0 = time.perf_counter()
            preload(data_dir, args.preload)
            print(f"preloaded {args.preload} Patients in {time.perf_counter() - t0:.1f} s")
        env = embedded_env()
        standin = wire_store(data_dir) if args.mongodb else nullcontext(None)
        with (
            standin as uri,
            carnet_server(data_dir, workers=args.workers, env={**env, **({"MONGODB_URI": uri} if uri else {})}) as base,
        ):
            port = server_port(base)
            pid = server_pid(port)
            token = cli_token(data_dir, "--scope", "system/*.cruds")
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
            ids: list[str] = []

            def create(session: requests.Session, i: int) -> None:
                resp = session.post(
                    f"{base}/Patient",
                    headers=headers,
                    json={
                        "resourceType": "Patient",
                        "name": [{"family": f"Bench{i}", "given": ["Anne"]}],
                        "gender": "female",
                    },
                )
                resp.raise_for_status()
                ids.append(resp.json()["id"])

            def read(session: requests.Session, i: int) -> None:
                session.get(f"{base}/Patient/{ids[i % len(ids)]}", headers=headers).raise_for_status()

            run("create", args.creates, args.threads, create, pid)
            reads = run("read", args.reads, args.threads, read, pid)
            label = "MongoDB adapter on the mongoeco stand-in" if args.mongodb else "SQLite"
            print(f"read throughput / hello-JSON ({label}): {reads / ceiling:.2f}x")


if __name__ == "__main__":
    main()

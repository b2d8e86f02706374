"""Transaction ingest benchmark against a real `carnet serve` (gunicorn gthread, embedded store).

Posts generated transaction Bundles (a Patient then nine Observations pointing to it by urn:uuid,
repeated) of each ``--sizes`` entries, then the Synthea set (first/ before the patients) through
`carnet load`'s poster. Prints resources/s of wall time and per server CPU-second (one vCPU busy:
a transaction runs on one thread), beside the published anchors. Usage:
    .venv/bin/python bench/ingest.py [--sizes 1000 10000] [--synthea DIR | --no-synthea]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crud import cpu_seconds  # noqa: E402
from fhir_server import loader  # noqa: E402
from tests.servers import carnet_server  # noqa: E402
from tests.servers import cli_token  # noqa: E402
from tests.servers import embedded_env  # noqa: E402
from tests.servers import server_port  # noqa: E402

SYNTHEA = ROOT.parent / "shared" / "data" / "synthea"
#: published transaction ingest, resources/s per vCPU
ANCHORS = {"Aidbox": 335, "HAPI": 277, "Medplum": 95}


def server_pid(port: int) -> int:
    """The gunicorn master serving ``port`` (the oldest process whose command line names it)."""
    found = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and f"--port\x00{port}\x00".encode() in _cmdline(p)
    ]
    return min(found)


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


def generated(size: int) -> dict[str, Any]:
    """A transaction of ``size`` entries: per ten, a Patient and nine Observations referencing it."""
    entries: list[dict[str, Any]] = []
    while len(entries) < size:
        patient = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {
                "fullUrl": patient,
                "request": {"method": "POST", "url": "Patient"},
                "resource": {
                    "resourceType": "Patient",
                    "name": [{"family": f"Bench{len(entries)}", "given": ["Anne"]}],
                    "gender": "female",
                    "birthDate": "1970-01-01",
                },
            }
        )
        for i in range(min(9, size - len(entries))):
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                    "request": {"method": "POST", "url": "Observation"},
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": "vital-signs",
                                    }
                                ]
                            }
                        ],
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                        "subject": {"reference": patient},
                        "effectiveDateTime": f"2026-01-{i + 1:02d}T08:00:00Z",
                        "valueQuantity": {
                            "value": 60 + i,
                            "unit": "/min",
                            "system": "http://unitsofmeasure.org",
                            "code": "/min",
                        },
                    },
                }
            )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def report(label: str, resources: int, seconds: float, cpu: float) -> None:
    per_cpu = resources / cpu if cpu else 0.0
    print(
        f"{label:<22} {resources:6d} resources  {seconds:7.1f} s  {resources / seconds:7.1f} /s wall"
        f"  {per_cpu:7.1f} /s per server CPU-second"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--synthea", type=Path, default=SYNTHEA)
    parser.add_argument("--no-synthea", action="store_true")
    args = parser.parse_args()
    print("anchors (per vCPU): " + ", ".join(f"{k} ≈ {v}" for k, v in ANCHORS.items()))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = embedded_env()
        with carnet_server(data_dir, env=env) as base:
            pid = server_pid(server_port(base))
            token = cli_token(data_dir, "--scope", "system/*.cruds")
            post = loader.http_poster(base, token)
            for size in args.sizes:
                bundle = generated(size)
                cpu0, t0 = cpu_seconds(pid), time.perf_counter()
                status, body = post(bundle)
                if status != 200:
                    raise SystemExit(f"transaction of {size} failed: HTTP {status}: {str(body)[:500]}")
                report(f"transaction {size}", size, time.perf_counter() - t0, cpu_seconds(pid) - cpu0)
            if not args.no_synthea:
                cpu0, t0 = cpu_seconds(pid), time.perf_counter()
                state = loader.State(data_dir / "load.json", base)
                done = loader.load([args.synthea / "first", args.synthea], post, state, stream=io.StringIO())
                if done.failures:
                    raise SystemExit("Synthea failures:\n" + "\n".join(done.failures))
                report("Synthea (loader)", done.resources, time.perf_counter() - t0, cpu_seconds(pid) - cpu0)


if __name__ == "__main__":
    main()

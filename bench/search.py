"""Search benchmark: generated patients with documents and allergies, stored as the server stores
them (``Repository.restore``: search values and access attributes computed as on a write).

    .venv/bin/python bench/search.py --patients 10000 --patients 100000 [--runs 20] [--adapter mongodb]

Prints, per query kind, the CPU time per query (this process runs the whole search: it is the
server's CPU), p95 latency, and at the end each query's CPU growth from the smallest to the
largest size. ``--adapter sqlite`` (default) runs the embedded store on a file; ``mongodb`` runs
the MongoDB adapter on its in-process stand-in (mongoeco), or on ``--uri``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from consent.predicate import ALLOW
from consent.predicate import AnyOf
from fhir_server import searchset
from fhir_server.indexing import index_resource
from fhir_server.storage import Scoped
from fhir_server.storage import Stored
from fhir_server.storage import open_repository
from search import registry as registry_module

INS = "urn:oid:1.2.250.1.213.1.4.8"
LOINC = "http://loinc.org"
BASE = "http://bench/fhir"
FAMILIES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "García",
    "Müller",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
]
GIVEN = ["Jean", "Marie", "Pierre", "Anne", "Hélène", "Zoé", "Luc", "Élodie", "François", "Chloé"]
DOC_TYPES = ["34112-3", "11502-2", "60591-5", "REMB", "EXPPAT_3"]


def nir(i: int) -> str:
    return f"{1 + i % 2}{70 + i % 30:02d}{1 + i % 12:02d}{i:010d}"


def patient(i: int, rnd: random.Random) -> dict[str, Any]:
    fam = f"{rnd.choice(FAMILIES)}{'' if i % 3 else rnd.randint(1, 500)}"
    return {
        "resourceType": "Patient",
        "id": f"p{i}",
        "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z"},
        "identifier": [{"system": INS, "value": nir(i)}],
        "name": [{"family": fam, "given": [rnd.choice(GIVEN), rnd.choice(GIVEN)]}],
        "gender": rnd.choice(["male", "female"]),
        "birthDate": f"{rnd.randint(1930, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        "address": [
            {
                "line": [f"{rnd.randint(1, 200)} rue de la Paix"],
                "city": rnd.choice(["Paris", "Lyon", "Saint-Étienne"]),
                "postalCode": f"{rnd.randint(1000, 95999):05d}",
            }
        ],
        "generalPractitioner": [{"reference": f"Practitioner/dr{i % 100}"}],
    }


def document(i: int, j: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": f"d{i}-{j}",
        "status": "current",
        "subject": {"reference": f"Patient/p{i}"},
        "author": [{"reference": f"Practitioner/dr{(i + j) % 100}"}],
        "type": {"coding": [{"system": LOINC, "code": rnd.choice(DOC_TYPES)}]},
        "date": f"{rnd.randint(2015, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T10:00:00+01:00",
        "content": [{"attachment": {"contentType": "application/pdf", "url": f"Binary/b{i}-{j}"}}],
    }


def allergy(i: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": f"a{i}",
        "patient": {"reference": f"Patient/p{i}"},
        "code": {
            "coding": [{"system": "http://snomed.info/sct", "code": rnd.choice(["764146007", "91935009", "300913006"])}]
        },
        "criticality": rnd.choice(["low", "high"]),
    }


def practitioner(k: int) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": f"dr{k}", "name": [{"family": f"Docteur{k}"}]}


def load(repo: Any, n: int, docs_per: int, rnd: random.Random) -> float:
    """Store the records by batches of 2,000; returns the seconds taken."""
    t0 = time.perf_counter()
    batch: list[Stored] = []

    def add(r: dict[str, Any]) -> None:
        batch.append(Stored(r["resourceType"], r["id"], 1, "2026-01-01T00:00:00.000000Z", False, r, {}, "POST"))
        if len(batch) >= 2000:
            repo.restore(batch)
            batch.clear()

    for k in range(100):
        add(practitioner(k))
    for i in range(n):
        add(patient(i, rnd))
        for j in range(docs_per):
            add(document(i, j, rnd))
        add(allergy(i, rnd))
    repo.restore(batch)
    return time.perf_counter() - t0


def measure(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median CPU ms, p95 wall ms) over ``runs`` calls after a warm-up."""
    fn()
    cpu, wall = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    wall.sort()
    return statistics.median(cpu) * 1000, wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))] * 1000


def open_store(args: argparse.Namespace, tmp: str) -> Any:
    if args.adapter == "sqlite":
        return open_repository({"DATA_DIR": tmp}, index_resource)
    return open_repository(
        {"MONGODB_URI": args.uri or "mongoeco://", "MONGODB_DATABASE": "carnet_bench"}, index_resource
    )


def bench(n: int, args: argparse.Namespace, reg: Any, results: dict[str, dict[int, float]]) -> None:
    """Load ``n`` patients (with documents and allergies), then time each query kind."""
    rnd = random.Random(42)
    tmp = tempfile.TemporaryDirectory()
    repo = open_store(args, tmp.name)
    if args.adapter == "mongodb":
        repo.drop()
    elapsed = load(repo, n, args.docs_per_patient, rnd)
    total_docs = n * (2 + args.docs_per_patient) + 100
    print(
        f"\n== {args.adapter}{' (mongoeco stand-in)' if args.adapter == 'mongodb' and not args.uri else ''}: "
        f"{n} patients, {total_docs} resources, loaded in {elapsed:.1f} s ({total_docs / elapsed:.0f}/s)",
        flush=True,
    )
    q = random.Random(7)

    def run(type_: str, params: list[tuple[str, str]], policy_for: Any = None) -> bytes:
        bundle, _ = searchset.search(
            Scoped(repo, policy_for or (lambda t: ALLOW)), reg, [type_], params, BASE, path=type_
        )
        return orjson.dumps(bundle)

    def narrowed() -> bytes:
        only = AnyOf("patient", (f"Patient/p{q.randrange(n)}",))
        return run("DocumentReference", [], policy_for=lambda t: only)

    queries: dict[str, Callable[[], Any]] = {
        "token (Patient?identifier=INS|nir)": lambda: run("Patient", [("identifier", f"{INS}|{nir(q.randrange(n))}")]),
        "string (Patient?family=prefix of a rare name)": lambda: run(
            "Patient", [("family", f"{q.choice(FAMILIES)}{q.randint(1, 500)}")]
        ),
        "date range (Patient?birthdate=ge..&lt..)": lambda: run(
            "Patient", [("birthdate", "ge1980-01-01"), ("birthdate", "lt1980-03-01")]
        ),
        "chained (DocumentReference?subject:Patient.identifier=)": lambda: run(
            "DocumentReference", [("subject:Patient.identifier", f"{INS}|{nir(q.randrange(n))}")]
        ),
        "_include (DocumentReference?subject=&_include=subject)": lambda: run(
            "DocumentReference", [("subject", f"Patient/p{q.randrange(n)}"), ("_include", "DocumentReference:subject")]
        ),
        "sorted page (Patient?family=&_sort=-birthdate)": lambda: run(
            "Patient", [("family", f"{q.choice(FAMILIES)}{q.randint(1, 500)}"), ("_sort", "-birthdate")]
        ),
        "date (Patient?birthdate=YYYY-MM-DD)": lambda: run(
            "Patient", [("birthdate", f"{q.randint(1930, 2020)}-{q.randint(1, 12):02d}-{q.randint(1, 28):02d}")]
        ),
        "broad: every match counted (DocumentReference?type=34112-3)": lambda: run(
            "DocumentReference", [("type", f"{LOINC}|34112-3")]
        ),
        "broad: whole type sorted (Patient?_sort=birthdate)": lambda: run("Patient", [("_sort", "birthdate")]),
        "consent-narrowed (DocumentReference, policy = one patient)": narrowed,
    }
    only = set(args.only.split(",")) if args.only else None
    print(f"{'query':62} {'CPU ms':>8} {'p95 ms':>9}")
    for label, fn in queries.items():
        if only and not any(o in label for o in only):
            continue
        cpu, p95 = measure(fn, args.runs)
        results.setdefault(label, {})[n] = cpu
        print(f"{label:62} {cpu:8.2f} {p95:9.2f}", flush=True)
    repo.close()
    tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, action="append")
    ap.add_argument("--docs-per-patient", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--adapter", choices=["sqlite", "mongodb"], default="sqlite")
    ap.add_argument("--uri", help="with --adapter mongodb: a MongoDB URI (default: the in-process stand-in)")
    ap.add_argument("--only", help="comma-separated fragments of the query kinds to run")
    args = ap.parse_args(argv)
    reg = registry_module.load()
    sizes = args.patients or [10000]
    results: dict[str, dict[int, float]] = {}
    for n in sizes:
        bench(n, args, reg, results)
    if len(sizes) > 1:
        lo, hi = min(sizes), max(sizes)
        print(f"\nCPU growth {lo} -> {hi} patients (target <= 1.5x)")
        for label, by_size in results.items():
            if lo in by_size and hi in by_size and by_size[lo]:
                print(f"{label:62} {by_size[hi] / by_size[lo]:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

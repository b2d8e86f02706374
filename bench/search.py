"""Search benchmark: generated patients with documents and allergies, stored as the server stores
them (idx from search.extract, acl from search.compartment), bulk-inserted with insert_many.

    .venv/bin/python bench/search.py --patients 10000 [--patients 100000] [--runs 20] [--uri mongodb://…]

Prints, per query kind, queries per second and p95 latency. Runs in process on mongoeco (SQLite,
in memory) unless --uri points at a MongoDB.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consent.predicate import ALLOW  # noqa: E402
from consent.predicate import AnyOf  # noqa: E402
from fhir_server import searching  # noqa: E402
from search import compartment  # noqa: E402
from search import extract  # noqa: E402
from search import paging  # noqa: E402
from search import registry as registry_module  # noqa: E402

INS = "urn:oid:1.2.250.1.213.1.4.8"
LOINC = "http://loinc.org"
BASE = "http://bench/fhir"
FAMILIES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefèvre", "Michel", "García", "Müller", "Faure", "André", "Mercier", "Blanc"]
GIVEN = ["Jean", "Marie", "Pierre", "Anne", "Hélène", "Zoé", "Luc", "Élodie", "François", "Chloé"]
DOC_TYPES = ["34112-3", "11502-2", "60591-5", "REMB", "EXPPAT_3"]


def nir(i: int) -> str:
    return f"{1 + i % 2}{70 + i % 30:02d}{1 + i % 12:02d}{i:010d}"


def patient(i: int, rnd: random.Random) -> dict[str, Any]:
    fam = f"{rnd.choice(FAMILIES)}{'' if i % 3 else rnd.randint(1, 500)}"
    return {
        "resourceType": "Patient", "id": f"p{i}", "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z"},
        "identifier": [{"system": INS, "value": nir(i)}],
        "name": [{"family": fam, "given": [rnd.choice(GIVEN), rnd.choice(GIVEN)]}],
        "gender": rnd.choice(["male", "female"]),
        "birthDate": f"{rnd.randint(1930, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        "address": [{"line": [f"{rnd.randint(1, 200)} rue de la Paix"], "city": rnd.choice(["Paris", "Lyon", "Saint-Étienne"]),
                     "postalCode": f"{rnd.randint(1000, 95999):05d}"}],
        "generalPractitioner": [{"reference": f"Practitioner/dr{i % 100}"}],
    }


def document(i: int, j: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference", "id": f"d{i}-{j}", "status": "current",
        "subject": {"reference": f"Patient/p{i}"}, "author": [{"reference": f"Practitioner/dr{(i + j) % 100}"}],
        "type": {"coding": [{"system": LOINC, "code": rnd.choice(DOC_TYPES)}]},
        "date": f"{rnd.randint(2015, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T10:00:00+01:00",
        "content": [{"attachment": {"contentType": "application/pdf", "url": f"Binary/b{i}-{j}"}}],
    }


def allergy(i: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance", "id": f"a{i}", "patient": {"reference": f"Patient/p{i}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": rnd.choice(["764146007", "91935009", "300913006"])}]},
        "criticality": rnd.choice(["low", "high"]),
    }


def practitioner(k: int) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": f"dr{k}", "name": [{"family": f"Docteur{k}"}]}


def stored(reg: Any, r: dict[str, Any]) -> dict[str, Any]:
    t = r["resourceType"]
    return {"_id": r["id"], "resource": r, "vid": 1, "ts": "2026-01-01T00:00:00.000000Z", "deleted": False,
            "idx": extract.index_values(reg, t, r), "acl": {"patients": compartment.patient_refs(reg, t, r)}}


def load(db: Any, reg: Any, n: int, docs_per: int, rnd: random.Random) -> dict[str, float]:
    timings: dict[str, float] = {}
    batch: dict[str, list[dict[str, Any]]] = {"Patient": [], "DocumentReference": [], "AllergyIntolerance": []}
    extract_s = insert_s = 0.0

    def flush() -> None:
        nonlocal insert_s
        t0 = time.perf_counter()
        for t, docs in batch.items():
            if docs:
                db[t].insert_many(docs)
                docs.clear()
        insert_s += time.perf_counter() - t0

    db["Practitioner"].insert_many([stored(reg, practitioner(k)) for k in range(100)])
    for i in range(n):
        t0 = time.perf_counter()
        batch["Patient"].append(stored(reg, patient(i, rnd)))
        for j in range(docs_per):
            batch["DocumentReference"].append(stored(reg, document(i, j, rnd)))
        batch["AllergyIntolerance"].append(stored(reg, allergy(i, rnd)))
        extract_s += time.perf_counter() - t0
        if len(batch["Patient"]) >= 2000:
            flush()
    flush()
    timings["extract_s"] = extract_s
    timings["insert_s"] = insert_s
    return timings


def measure(fn: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return len(times) / sum(times), p95 * 1000, statistics.median(times) * 1000


def open_db(uri: str | None) -> tuple[Any, Any]:
    if uri:
        import pymongo

        client: Any = pymongo.MongoClient(uri)
        client.drop_database("carnet_bench")
    else:
        from mongoeco import MongoClient
        from mongoeco.engines.sqlite import SQLiteEngine

        client = MongoClient(SQLiteEngine(":memory:"))
    return client, client["carnet_bench"]


def bench(n: int, args: argparse.Namespace, reg: Any) -> None:
    """Load ``n`` patients (with documents and allergies), then time each query kind."""
    rnd = random.Random(42)
    client, db = open_db(args.uri)
    types = ["Patient", "DocumentReference", "AllergyIntolerance", "Practitioner"]
    if not args.no_indexes:
        for t in types:
            db[t].create_index([("ts", 1)])
            db[t].create_index([("acl.patients", 1)])
        searching.ensure_indexes(db, reg, types)
    t0 = time.perf_counter()
    timings = load(db, reg, n, args.docs_per_patient, rnd)
    total_docs = n * (2 + args.docs_per_patient) + 100
    elapsed = time.perf_counter() - t0
    print(f"\n== {n} patients, {total_docs} resources: loaded in {elapsed:.1f}s "
          f"(extract {timings['extract_s']:.1f}s = {total_docs / timings['extract_s']:.0f}/s, "
          f"insert_many {timings['insert_s']:.1f}s = {total_docs / timings['insert_s']:.0f}/s)", flush=True)
    q = random.Random(7)

    def run(type_: str, params: list[tuple[str, str]], policy_for: Any = None) -> dict[str, Any]:
        return searching.search(db, reg, [type_], params, policy_for or (lambda t: ALLOW), BASE, path=type_)

    deep = n // 2

    def narrowed() -> dict[str, Any]:
        only = AnyOf("patients", (f"Patient/p{q.randrange(n)}",))
        return run("DocumentReference", [], policy_for=lambda t: only)

    queries: dict[str, Callable[[], Any]] = {
        "token (Patient?identifier=INS|nir)": lambda: run("Patient", [("identifier", f"{INS}|{nir(q.randrange(n))}")]),
        "token, full page + total (DocumentReference?type=34112-3)": lambda: run(
            "DocumentReference", [("type", f"{LOINC}|34112-3")]),
        "string (Patient?family=prefix)": lambda: run("Patient", [("family", q.choice(FAMILIES)[:4])]),
        "date range (Patient?birthdate=ge..&lt..)": lambda: run(
            "Patient", [("birthdate", "ge1980-01-01"), ("birthdate", "lt1980-03-01")]),
        "chained (DocumentReference?subject:Patient.identifier=)": lambda: run(
            "DocumentReference", [("subject:Patient.identifier", f"{INS}|{nir(q.randrange(n))}")]),
        "_include (DocumentReference?subject=&_include=subject)": lambda: run(
            "DocumentReference", [("subject", f"Patient/p{q.randrange(n)}"), ("_include", "DocumentReference:subject")]),
        f"sorted deep page (Patient?_sort=birthdate, offset {deep})": lambda: run(
            "Patient", [("_sort", "birthdate"), ("_count", "20"), ("_page", paging.encode(deep))]),
        "consent-narrowed (DocumentReference, policy = one patient)": narrowed,
    }
    only = set(args.only.split(",")) if args.only else None
    print(f"{'query':62} {'q/s':>8} {'p95 ms':>9} {'median':>8}")
    runs = args.runs if n <= 20000 else max(3, args.runs // 4)
    for label, fn in queries.items():
        if only and not any(o in label for o in only):
            continue
        qps, p95, med = measure(fn, runs)
        print(f"{label:62} {qps:8.1f} {p95:9.1f} {med:8.1f}", flush=True)
    client.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, action="append")
    ap.add_argument("--docs-per-patient", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--uri", help="a MongoDB URI (default: mongoeco in process, in memory)")
    ap.add_argument("--no-indexes", action="store_true")
    ap.add_argument("--only", help="comma-separated fragments of the query kinds to run")
    args = ap.parse_args(argv)
    reg = registry_module.load()
    for n in args.patients or [10000]:
        bench(n, args, reg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

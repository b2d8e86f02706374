"""Consent-filtered searches by a granted practitioner vs the same searches by a system client.

The policy is compiled into the query, so the ratio is the price of consent: server CPU per
request (this process runs the whole request through the Flask test client), median. Usage:
    .venv/bin/python bench/consent.py [--patients 25000] [--repeat 5]
(25k patients with 2 documents and 1 allergy each, plus grants: ≈ 100k resources)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dataset import load  # noqa: E402
from bench.dataset import records  # noqa: E402
from fhir_server.app import create_app  # noqa: E402
from fhir_server.storage import get_store_of  # noqa: E402
from tests.support import bearer  # noqa: E402

QUERIES = [
    "/fhir/DocumentReference?type=http://loinc.org|11502-2&_count=20",
    "/fhir/DocumentReference?subject=Patient/p100",
    "/fhir/AllergyIntolerance?code=373270004&_count=20",
    "/fhir/Patient?family=mart&_count=20",
    "/fhir/DocumentReference?date=ge2020-01-01&_count=20&_sort=-date",
]


def timed(client: FlaskClient, url: str, headers: dict[str, str], repeat: int) -> tuple[float, int]:
    times: list[float] = []
    total = 0
    for _ in range(repeat):
        start = time.process_time()
        resp = client.get(url + "&_total=accurate", headers=headers)
        times.append(time.process_time() - start)
        assert resp.status_code == 200, resp.get_json()
        total = resp.get_json().get("total", 0)
    return statistics.median(times), total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=25000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": tmp})
        store = get_store_of(app)
        start = time.perf_counter()
        count = load(store, records(args.patients))
        print(f"loaded {count} resources in {time.perf_counter() - start:.1f} s")
        client = app.test_client()
        system = bearer(app)
        granted = bearer(app, fhir_user="Practitioner/bench", scope="user/*.rs")
        ratios = []
        print(f"{'query (CPU per request)':<62} {'system':>10} {'granted':>10} {'ratio':>6}")
        for url in QUERIES:
            sys_t, sys_n = timed(client, url, system, args.repeat)
            gr_t, gr_n = timed(client, url, granted, args.repeat)
            ratios.append(gr_t / sys_t)
            print(
                f"{url:<62} {sys_t * 1000:8.1f}ms {gr_t * 1000:8.1f}ms {gr_t / sys_t:6.2f}   (totals {sys_n} vs {gr_n})"
            )
        print(f"median ratio granted/system: {statistics.median(ratios):.2f}")
        store.close()


if __name__ == "__main__":
    main()

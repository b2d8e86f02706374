"""`carnet load` (fhir_server.loader): Synthea's bundles and NDJSON files, resumable, failures reported."""
from __future__ import annotations

import argparse
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from fhir_server import loader
from fhir_server.storage import get_store
from tests.servers import free_port
from tests.support import SYNTHEA
from tests.support import bearer
from tests.support import unpacked

#: the two smallest patients (tests/fixtures/synthea): the full set runs in bench/ingest.py
PATIENTS = ["Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
            "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json"]


def run(app, paths: list[Path], state: Path, **kw) -> tuple[loader.Report, str]:
    stream = io.StringIO()
    report = loader.load(paths, loader.app_poster(app), loader.State(state), stream=stream, **kw)
    return report, stream.getvalue()


def entries(path: Path) -> int:
    return len(json.loads(path.read_text())["entry"])


def test_synthea_loads_and_every_resource_reads_and_searches(app, client, system, tmp_path):
    synthea = unpacked(SYNTHEA, tmp_path / "synthea")
    paths = [synthea / "first", *(synthea / p for p in PATIENTS)]
    report, progress = run(app, paths, tmp_path / "state.json")
    expected = sum(entries(p) for p in (synthea / "first").glob("*.json")) + sum(entries(synthea / p) for p in PATIENTS)
    assert report.failures == [] and report.resources == expected
    assert "100%" in progress and f"{expected} resources" in progress
    with app.app_context():
        db = get_store().db
        stored = {t: list(db[t].find({}, {"resource": 1})) for t in db.list_collection_names()
                  if t[0].isupper() and t not in ("AuditEvent", "StructureDefinition")}
    assert sum(len(docs) for docs in stored.values()) == expected
    for type_, docs in stored.items():
        for doc in docs:
            read = client.get(f"/fhir/{type_}/{doc['_id']}", headers=system)
            assert read.status_code == 200 and read.get_json() == doc["resource"]
        for start in range(0, len(docs), 100):
            ids = [d["_id"] for d in docs[start:start + 100]]
            found = client.get(f"/fhir/{type_}?_id={','.join(ids)}&_count=100", headers=system).get_json()
            assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted(ids), type_
    for patient in stored["Patient"]:
        ref = f"Patient/{patient['_id']}"
        for type_, code in (("Observation", "subject"), ("Encounter", "patient"), ("Immunization", "patient"),
                            ("Claim", "patient"), ("ExplanationOfBenefit", "patient")):
            mine = [d for d in stored.get(type_, []) if ref in json.dumps(d["resource"])]
            found = client.get(f"/fhir/{type_}?{code}={ref}&_summary=count", headers=system).get_json()
            assert found["total"] == len(mine) > 0, (type_, ref)


@pytest.fixture
def data(tmp_path) -> Path:
    """A directory for the files to load (tmp_path itself holds the app's data directory)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_a_second_run_skips_what_was_loaded(app, data, tmp_path):
    ndjson = data / "patients.ndjson"
    ndjson.write_text("\n".join(json.dumps({"resourceType": "Patient", "id": f"p{i}", "gender": "other"})
                                for i in range(5)) + "\n")
    state = tmp_path / "state.json"
    first, _ = run(app, [data], state, chunk=2)
    assert (first.resources, first.skipped, first.failures) == (5, 0, [])
    assert json.loads(state.read_text())["done"] == [f"{ndjson}#{i}" for i in range(3)]
    second, _ = run(app, [data], state, chunk=2)
    assert (second.resources, second.skipped) == (0, 3)
    with app.app_context():
        assert get_store().db["Patient"].count_documents({}) == 5


def test_failures_are_reported_with_their_reason(app, tmp_path):
    bad = {"resourceType": "Patient", "gender": "robot"}
    (tmp_path / "lines.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "ok"}) + "\n"
                                           + json.dumps({**bad, "id": "bad"}) + "\n")
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient"},
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:b", "resource": bad, "request": {"method": "POST", "url": "Patient"}}]}
    (tmp_path / "tx.json").write_text(json.dumps(transaction))
    state = tmp_path / "state" / "load.json"
    state.parent.mkdir()
    report, _ = run(app, [tmp_path / "lines.ndjson", tmp_path / "tx.json"], state)
    assert report.resources == 1
    batch_failure, tx_failure = report.failures
    assert batch_failure.startswith(f"{tmp_path / 'lines.ndjson'}#0: entry 1 (Patient/bad): 422")
    assert "Patient.gender" in batch_failure
    assert tx_failure.startswith(f"{tmp_path / 'tx.json'}: HTTP 422: Bundle.entry[1] (urn:uuid:b)")
    assert json.loads(state.read_text())["done"] == [f"{tmp_path / 'lines.ndjson'}#0"]  # the transaction is retried
    again, _ = run(app, [tmp_path / "lines.ndjson", tmp_path / "tx.json"], state)
    assert again.skipped == 1 and len(again.failures) == 1


def test_an_unreadable_ndjson_line_fails_alone(app, client, system, tmp_path):
    lines = tmp_path / "mixed.ndjson"
    lines.write_text(json.dumps({"resourceType": "Patient", "id": "before"}) + "\n{not json\n\n[1]\n"
                     + json.dumps({"resourceType": "Patient", "id": "after"}) + "\n")
    report, _ = run(app, [lines], tmp_path / "load.json")
    assert report.resources == 2
    assert [f.split(": ")[0] for f in report.failures] == [f"{lines}:2", f"{lines}:4"]
    assert report.failures[1].endswith("not a FHIR resource")
    assert all(client.get(f"/fhir/Patient/{id_}", headers=system).status_code == 200 for id_ in ("before", "after"))


def test_other_bundles_and_single_resources_load_as_batches(app, data, tmp_path):
    (data / "one.json").write_text(json.dumps({"resourceType": "Organization", "id": "org", "name": "Clinique"}))
    collection = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": {"resourceType": "Practitioner", "id": "dr"}},
                            {"resource": {"resourceType": "Practitioner"}}]}
    (data / "collection.json").write_text(json.dumps(collection))
    (data / "notes.txt").write_text("ignored")
    (data / "settings.json").write_text(json.dumps({"not": "fhir"}))
    report, _ = run(app, [data], tmp_path / "state.json")
    assert report.resources == 3
    assert report.failures == [f"{(data / 'settings.json').resolve()}: not a FHIR resource"]
    with app.app_context():
        db = get_store().db
        assert db["Organization"].find_one({"_id": "org"}) and db["Practitioner"].find_one({"_id": "dr"})
        assert db["Practitioner"].count_documents({}) == 2


@pytest.fixture
def served(app) -> Iterator[str]:
    """The app on a real socket (werkzeug's threaded server), its FHIR base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/fhir"
    server.shutdown()


def test_the_command_posts_to_a_server(app, served, tmp_path, capsys):
    (tmp_path / "one.json").write_text(json.dumps({"resourceType": "Patient", "id": "over-http"}))
    parser = argparse.ArgumentParser()
    loader.add_parser(parser.add_subparsers())
    token = bearer(app)["Authorization"].split()[1]
    state = tmp_path / "state.json"
    args = parser.parse_args(["load", str(tmp_path / "one.json"), "--url", served, "--token", token,
                              "--state", str(state)])
    assert args.func(args) == 0
    assert "1 resources in" in capsys.readouterr().out
    with app.app_context():
        assert get_store().db["Patient"].find_one({"_id": "over-http"})
    refused = parser.parse_args(["load", str(tmp_path / "one.json"), "--url", served, "--token", "nonsense",
                                 "--state", str(tmp_path / "other.json")])
    assert refused.func(refused) == 1
    assert "HTTP 401" in capsys.readouterr().out


def test_the_command_stops_cleanly_without_a_server(tmp_path, capsys):
    (tmp_path / "one.json").write_text(json.dumps({"resourceType": "Patient"}))
    parser = argparse.ArgumentParser()
    loader.add_parser(parser.add_subparsers())
    down = parser.parse_args(["load", str(tmp_path / "one.json"), "--url", f"http://127.0.0.1:{free_port()}/fhir",
                              "--state", str(tmp_path / "state.json")])
    assert down.func(down) == 2
    assert "re-run to resume" in capsys.readouterr().err
    missing = parser.parse_args(["load", str(tmp_path / "none.json"), "--url", "http://127.0.0.1:1/fhir"])
    assert missing.func(missing) == 2
    assert "none.json: no such file or directory" in capsys.readouterr().err

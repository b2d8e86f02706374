"""`carnet load` (fhir_server.loader): Synthea's bundles and NDJSON files, resumable per target and file
content, failures reported and retried."""

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
from fhir_server.storage import no_policy
from search.plan import TRUE
from tests.servers import free_port
from tests.support import SYNTHEA
from tests.support import bearer
from tests.support import unpacked

#: the two smallest patients (tests/fixtures/synthea): the full set runs in bench/ingest.py
PATIENTS = [
    "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
    "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json",
]


def run(app, paths: list[Path], state: Path, target: str = "server", **kw) -> tuple[loader.Report, str]:
    stream = io.StringIO()
    report = loader.load(paths, loader.app_poster(app), loader.State(state, target), stream=stream, **kw)
    return report, stream.getvalue()


def patients(app) -> list[str]:
    with app.app_context():
        return sorted(s.id for s in get_store().find("Patient", TRUE, no_policy))


def lines(path: Path, resources: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))
    return path


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
        store = get_store()
        stored = {
            t: store.find(t, TRUE, no_policy)
            for t in store.types()
            if t not in ("AuditEvent", "StructureDefinition", "OperationDefinition", "CodeSystem", "ValueSet")
        }
    assert sum(len(docs) for docs in stored.values()) == expected
    for type_, docs in stored.items():
        for doc in docs:
            read = client.get(f"/fhir/{type_}/{doc.id}", headers=system)
            assert read.status_code == 200 and read.get_json() == doc.resource
        for start in range(0, len(docs), 100):
            ids = [d.id for d in docs[start : start + 100]]
            found = client.get(f"/fhir/{type_}?_id={','.join(ids)}&_count=100", headers=system).get_json()
            assert sorted(e["resource"]["id"] for e in found["entry"]) == sorted(ids), type_
    for patient in stored["Patient"]:
        ref = f"Patient/{patient.id}"
        for type_, code in (
            ("Observation", "subject"),
            ("Encounter", "patient"),
            ("Immunization", "patient"),
            ("Claim", "patient"),
            ("ExplanationOfBenefit", "patient"),
        ):
            mine = [d for d in stored.get(type_, []) if ref in json.dumps(d.resource)]
            found = client.get(f"/fhir/{type_}?{code}={ref}&_summary=count", headers=system).get_json()
            assert found["total"] == len(mine) > 0, (type_, ref)


@pytest.fixture
def data(tmp_path) -> Path:
    """A directory for the files to load (tmp_path itself holds the app's data directory)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def test_a_second_run_skips_what_was_loaded(app, data, tmp_path):
    ndjson = lines(
        data / "patients.ndjson", [{"resourceType": "Patient", "id": f"p{i}", "gender": "other"} for i in range(5)]
    )
    state = tmp_path / "state.json"
    first, _ = run(app, [data], state, chunk=2)
    assert (first.resources, first.skipped, first.failures) == (5, 0, [])
    assert json.loads(state.read_text()) == {"targets": {"server": {loader.digest(ndjson): [1, 2, 3, 4, 5]}}}
    second, _ = run(app, [data], state, chunk=2)
    assert (second.resources, second.skipped, second.failures) == (0, 5, [])
    with app.app_context():
        found = get_store().find("Patient", TRUE, no_policy)
        assert len(found) == 5
        assert {s.vid for s in found} == {1}  # nothing posted again


def test_the_state_is_kept_per_target(app, make_app, data, tmp_path):
    """Loading the same file into a second server loads it there too; each target resumes alone."""
    lines(data / "patients.ndjson", [{"resourceType": "Patient", "id": f"p{i}"} for i in range(3)])
    other = make_app()
    state = tmp_path / "state.json"
    assert run(app, [data], state, "http://one/fhir")[0].resources == 3
    assert run(other, [data], state, "http://two/fhir")[0].resources == 3
    assert patients(other) == ["p0", "p1", "p2"]
    again = run(other, [data], state, "http://two/fhir")[0]
    assert (again.resources, again.skipped) == (0, 3)
    assert set(json.loads(state.read_text())["targets"]) == {"http://one/fhir", "http://two/fhir"}


def test_the_state_is_kept_per_file_content(app, data, tmp_path):
    """A renamed file is the same file; a file whose content changed loads again."""
    first = lines(data / "a.ndjson", [{"resourceType": "Patient", "id": "a"}])
    state = tmp_path / "state.json"
    assert run(app, [first], state)[0].resources == 1
    renamed = first.rename(data / "renamed.ndjson")
    assert run(app, [renamed], state)[0].skipped == 1
    lines(renamed, [{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}])
    changed = run(app, [renamed], state)[0]
    assert (changed.resources, changed.skipped) == (2, 0)
    assert patients(app) == ["a", "b"]


def test_failed_entries_and_lines_are_retried_the_others_not(make_app, data, tmp_path):
    """The first server refuses the Practitioners (a required profile they lack); the next run, on
    the same target fixed (a fresh store here), posts those alone: the Patients loaded are not sent again."""
    fr_core = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"
    strict = make_app(REQUIRED_PROFILES={"Practitioner": [fr_core]})
    lines(
        data / "mixed.ndjson",
        [
            {"resourceType": "Patient", "id": "p1"},
            {"resourceType": "Practitioner", "id": "dr1"},
            {"resourceType": "Patient", "id": "p2"},
        ],
    )
    (data / "batch.json").write_text(
        json.dumps(
            loader.as_batch([{"resourceType": "Practitioner", "id": "dr2"}, {"resourceType": "Patient", "id": "p3"}])
        )
    )
    state = tmp_path / "state.json"
    first, _ = run(strict, [data], state)
    assert first.resources == 3
    assert [f.split(" (")[0] for f in first.failures] == [
        f"{data / 'batch.json'}: entry 0",
        f"{data / 'mixed.ndjson'}:2",
    ]
    fixed = make_app()
    second, _ = run(fixed, [data], state)
    assert (second.resources, second.skipped, second.failures) == (2, 3, [])
    assert patients(fixed) == []
    with fixed.app_context():
        assert sorted(s.id for s in get_store().find("Practitioner", TRUE, no_policy)) == ["dr1", "dr2"]
    third, _ = run(fixed, [data], state)
    assert (third.resources, third.skipped) == (0, 5)


def test_failures_are_reported_with_their_reason(app, tmp_path):
    bad = {"resourceType": "Patient", "gender": "robot"}
    (tmp_path / "lines.ndjson").write_text(
        json.dumps({"resourceType": "Patient", "id": "ok"}) + "\n" + json.dumps({**bad, "id": "bad"}) + "\n"
    )
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:a",
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            },
            {"fullUrl": "urn:uuid:b", "resource": bad, "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    (tmp_path / "tx.json").write_text(json.dumps(transaction))
    state = tmp_path / "state" / "load.json"
    state.parent.mkdir()
    report, _ = run(app, [tmp_path / "lines.ndjson", tmp_path / "tx.json"], state)
    assert report.resources == 1
    batch_failure, tx_failure = report.failures
    assert batch_failure.startswith(f"{tmp_path / 'lines.ndjson'}:2 (Patient/bad): 422")
    assert "Patient.gender" in batch_failure
    assert tx_failure.startswith(f"{tmp_path / 'tx.json'}: HTTP 422: Bundle.entry[1] (urn:uuid:b)")
    digest = loader.digest(tmp_path / "lines.ndjson")
    assert json.loads(state.read_text())["targets"]["server"] == {digest: [1]}  # line 2 and the transaction: retried
    again, _ = run(app, [tmp_path / "lines.ndjson", tmp_path / "tx.json"], state)
    assert again.skipped == 1
    assert [f.split(":")[0] for f in again.failures] == [str(tmp_path / "lines.ndjson"), str(tmp_path / "tx.json")]


def test_an_unreadable_ndjson_line_fails_alone(app, client, system, tmp_path):
    lines = tmp_path / "mixed.ndjson"
    lines.write_text(
        json.dumps({"resourceType": "Patient", "id": "before"})
        + "\n{not json\n\n[1]\n"
        + json.dumps({"resourceType": "Patient", "id": "after"})
        + "\n"
    )
    report, _ = run(app, [lines], tmp_path / "load.json")
    assert report.resources == 2
    assert [f.split(": ")[0] for f in report.failures] == [f"{lines}:2", f"{lines}:4"]
    assert report.failures[1].endswith("not a FHIR resource")
    assert all(client.get(f"/fhir/Patient/{id_}", headers=system).status_code == 200 for id_ in ("before", "after"))


def test_other_bundles_and_single_resources_load_as_batches(app, data, tmp_path):
    (data / "one.json").write_text(json.dumps({"resourceType": "Organization", "id": "org", "name": "Clinique"}))
    collection = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Practitioner", "id": "dr"}},
            {"resource": {"resourceType": "Practitioner"}},
        ],
    }
    (data / "collection.json").write_text(json.dumps(collection))
    (data / "notes.txt").write_text("ignored")
    (data / "settings.json").write_text(json.dumps({"not": "fhir"}))
    report, _ = run(app, [data], tmp_path / "state.json")
    assert report.resources == 3
    assert report.failures == [f"{data / 'settings.json'}: not a FHIR resource"]
    with app.app_context():
        store = get_store()
        assert store.current("Organization", "org") and store.current("Practitioner", "dr")
        assert store.count("Practitioner", TRUE, no_policy) == 2


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
    args = parser.parse_args(
        ["load", str(tmp_path / "one.json"), "--url", served, "--token", token, "--state", str(state)]
    )
    assert args.func(args) == 0
    assert "1 resources in" in capsys.readouterr().out
    with app.app_context():
        assert get_store().current("Patient", "over-http")
    refused = parser.parse_args(
        [
            "load",
            str(tmp_path / "one.json"),
            "--url",
            served,
            "--token",
            "nonsense",
            "--state",
            str(tmp_path / "other.json"),
        ]
    )
    assert refused.func(refused) == 1
    assert "HTTP 401" in capsys.readouterr().out


def test_the_command_stops_cleanly_without_a_server(tmp_path, capsys):
    (tmp_path / "one.json").write_text(json.dumps({"resourceType": "Patient"}))
    parser = argparse.ArgumentParser()
    loader.add_parser(parser.add_subparsers())
    down = parser.parse_args(
        [
            "load",
            str(tmp_path / "one.json"),
            "--url",
            f"http://127.0.0.1:{free_port()}/fhir",
            "--state",
            str(tmp_path / "state.json"),
        ]
    )
    assert down.func(down) == 2
    assert "re-run to resume" in capsys.readouterr().err
    missing = parser.parse_args(["load", str(tmp_path / "none.json"), "--url", "http://127.0.0.1:1/fhir"])
    assert missing.func(missing) == 2
    assert "none.json: no such file or directory" in capsys.readouterr().err

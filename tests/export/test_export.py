"""Bulk Data $export (https://hl7.org/fhir/uv/bulkdata/export.html): kick-off, polling, manifest,
files, cancel; a user-level caller's export holds exactly what that caller could search."""

from __future__ import annotations

import json
import time

import pytest

from tests.bundles.world import GP
from tests.bundles.world import NURSE
from tests.bundles.world import PATIENT
from tests.bundles.world import STRANGER
from tests.bundles.world import headers
from tests.bundles.world import seed
from tests.support import bearer

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
RECORD = {
    "Patient/ins-adulte",
    "Consent/autorisation-praticien",
    "DocumentReference/compte-rendu",
    "DocumentReference/masque-ps",
    "DocumentReference/directives-anticipees",
    "DocumentReference/bilan",
    "AllergyIntolerance/penicilline",
    "RelatedPerson/contact-urgence",
}
NURSE_SEES = {"Patient/ins-adulte", "DocumentReference/bilan", "AllergyIntolerance/penicilline"}


@pytest.fixture
def world(client, system) -> None:
    seed(client, system)


def local(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def kick_off(client, caller, path="/fhir/Patient/$export", query="") -> str:
    resp = client.get(f"{path}{query}", headers={**caller, **ASYNC})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return local(resp.headers["Content-Location"])


def finished(client, caller, status_url: str) -> dict:
    for _ in range(200):
        resp = client.get(status_url, headers=caller)
        if resp.status_code == 200:
            return resp.get_json()
        assert resp.status_code == 202, resp.get_data(as_text=True)
        assert resp.headers["X-Progress"] and resp.headers["Retry-After"]
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


def exported(client, caller, manifest: dict) -> set[str]:
    out = set()
    for item in manifest["output"]:
        resp = client.get(local(item["url"]), headers={**caller, "Accept": "application/fhir+ndjson"})
        assert resp.status_code == 200 and resp.mimetype == "application/fhir+ndjson"
        lines = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
        assert len(lines) == item["count"] and {r["resourceType"] for r in lines} == {item["type"]}
        out |= {f"{r['resourceType']}/{r['id']}" for r in lines}
    return out


def test_kick_off_poll_manifest_and_files(client, system, world):
    status = kick_off(client, system)
    manifest = finished(client, system, status)
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    assert manifest["request"].endswith("/fhir/Patient/$export") and manifest["error"] == []
    assert exported(client, system, manifest) == RECORD
    assert len({o["type"] for o in manifest["output"]}) == len(manifest["output"])


def test_system_export_with_type_since_and_type_filter(client, system, world):
    manifest = finished(
        client, system, kick_off(client, system, "/fhir/$export", "?_type=Practitioner,PractitionerRole")
    )
    assert exported(client, system, manifest) == {
        "Practitioner/medecin-traitant",
        "PractitionerRole/medecin-traitant-role",
        "PractitionerRole/infirmier-role",
        "Practitioner/infirmier",
        "Practitioner/biologiste",
        "Practitioner/praticien-bloque",
    }
    query = "?_type=DocumentReference&_typeFilter=DocumentReference%3Fdescription%3Aexact%3DBilan%2520visible"
    manifest = finished(client, system, kick_off(client, system, "/fhir/$export", query))
    assert exported(client, system, manifest) == {"DocumentReference/bilan"}
    manifest = finished(client, system, kick_off(client, system, "/fhir/$export", "?_since=2999-01-01"))
    assert manifest["output"] == []


def test_kick_off_needs_respond_async_and_a_known_format(client, system, world):
    assert client.get("/fhir/$export", headers=system).status_code == 400
    bad = client.get("/fhir/$export?_outputFormat=text/csv", headers={**system, **ASYNC})
    assert bad.status_code == 400
    assert client.get("/fhir/$export?_type=Nope", headers={**system, **ASYNC}).status_code == 400


@pytest.mark.parametrize("who,seen", [(STRANGER, set()), (NURSE, NURSE_SEES), (GP, RECORD)])
def test_a_user_export_holds_what_that_user_could_search(app, client, world, who, seen):
    """A practitioner without access exports nothing of the record; a granted one that record
    minus the masked documents; the attending physician all of it."""
    caller = headers(app, who)
    manifest = finished(client, caller, kick_off(client, caller))
    assert exported(client, caller, manifest) == seen


def test_consent_is_read_when_the_job_runs(app, client, system, world, monkeypatch):
    """The job rebuilds the caller's access when it runs: a grant withdrawn after the kick-off,
    before the job ran, is honoured (nothing cached at kick-off)."""
    from fhir_server.export import jobs

    start = jobs.ensure_worker
    monkeypatch.setattr(jobs, "ensure_worker", lambda app_: None)
    nurse = headers(app, NURSE)
    status = kick_off(client, nurse)
    assert client.get(status, headers=nurse).status_code == 202
    assert client.delete("/fhir/Consent/autorisation-praticien", headers=system).status_code == 204
    monkeypatch.setattr(jobs, "ensure_worker", start)
    manifest = finished(client, nurse, status)
    assert exported(client, nurse, manifest) == set()


def test_only_the_token_that_started_the_job_reads_it(app, client, system, world):
    status = kick_off(client, system)
    manifest = finished(client, system, status)
    other = bearer(app)  # another token, even with the same rights
    assert client.get(status, headers=other).status_code == 404
    for item in manifest["output"]:
        assert client.get(local(item["url"]), headers=other).status_code == 404
    assert client.delete(status, headers=other).status_code == 404
    assert client.get(status, headers=system).status_code == 200


def test_delete_cancels_and_removes_the_files(app, client, system, world):
    status = kick_off(client, system)
    manifest = finished(client, system, status)
    files = list(
        (app.config["DATA_DIR"] and __import__("pathlib").Path(app.config["DATA_DIR"]) / "exports").glob("*/*")
    )
    assert files
    assert client.delete(status, headers=system).status_code == 202
    assert client.get(status, headers=system).status_code == 404
    assert client.get(local(manifest["output"][0]["url"]), headers=system).status_code == 404
    assert not any(f.exists() for f in files)


def test_group_export(client, system, world):
    client.put("/fhir/Patient/other", json={"resourceType": "Patient", "id": "other"}, headers=system)
    group = {
        "resourceType": "Group",
        "id": "cohort",
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": PATIENT}}],
    }
    assert client.put("/fhir/Group/cohort", json=group, headers=system).status_code == 201
    manifest = finished(client, system, kick_off(client, system, "/fhir/Group/cohort/$export"))
    assert exported(client, system, manifest) == RECORD | {"Group/cohort"}  # in the compartment by member
    assert client.get("/fhir/Group/nope/$export", headers={**system, **ASYNC}).status_code == 404


def test_jobs_expire_with_their_files(make_app):
    app = make_app(EXPORT_RETENTION_HOURS=0)
    client, system = app.test_client(), bearer(app)
    status = kick_off(client, system, "/fhir/$export")
    time.sleep(0.05)
    assert client.get(status, headers=system).status_code == 404
    from pathlib import Path

    assert not any((Path(app.config["DATA_DIR"]) / "exports").glob("*/*.ndjson"))


def test_the_export_is_traced(client, system, world):
    manifest = finished(client, system, kick_off(client, system))
    assert manifest["output"]
    traces = client.get("/fhir/AuditEvent?_count=200", headers=system).get_json()
    described = [e["resource"]["entity"] for e in traces["entry"]]
    named = {d["what"]["reference"].split("/_history")[0] for entities in described for d in entities if "what" in d}
    assert "DocumentReference/masque-ps" in named


def test_the_capability_statement_declares_bulk_export(client):
    statement = client.get("/fhir/metadata").get_json()
    rest = statement["rest"][0]
    assert {
        "name": "export",
        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
    }.items() <= rest["operation"][0].items()
    by_type = {r["type"]: r for r in rest["resource"]}
    assert any(
        op["name"] == "export" and op["definition"].endswith("/patient-export")
        for op in by_type["Patient"]["operation"]
    )
    assert any(op["name"] == "export" for op in by_type["Group"]["operation"])
    assert "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data" in statement["instantiates"]

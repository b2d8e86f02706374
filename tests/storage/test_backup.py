"""`carnet backup` while a real server takes writes, then `carnet restore` into another data
directory: the restored store serves the same resources, versions, consents and audit trail, and
the snapshot holds whole transactions only."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests

from fhir_server.indexing import index_resource
from fhir_server.storage.sqlite.repository import SqliteRepository
from tests.servers import carnet_server
from tests.servers import embedded_env
from tests.storage.test_crash import token

pytestmark = [
    pytest.mark.gunicorn,
    pytest.mark.skipif(
        bool(os.environ.get("MONGODB_URI")),
        reason="embedded SQLite only: MongoDB is backed up with mongodump (docs/operations.md)",
    ),
]
BATCH = 40
MARK = "urn:carnet:backup"


def carnet(*args: str) -> subprocess.CompletedProcess[str]:
    env = embedded_env()
    return subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def batch(n: int) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "request": {"method": "POST", "url": "Patient"},
                "resource": {"resourceType": "Patient", "identifier": [{"system": MARK, "value": f"{n}-{i}"}]},
            }
            for i in range(BATCH)
        ],
    }


def everything(path: Path) -> dict:
    repo = SqliteRepository(str(path), index_resource)
    try:
        versions = {t: [(v.id, v.vid, v.ts, v.deleted, v.json()) for v in repo.versions(t)] for t in repo.types()}
        records = {n: sorted(map(str, repo.documents(n).find({}))) for n in repo.record_names()}
        return {"versions": versions, "records": records}
    finally:
        repo.close()


def test_backup_while_writing_then_restore_serves_the_same_store(tmp_path):
    data, snapshot, other = tmp_path / "d1", tmp_path / "snap.db", tmp_path / "d2"
    env = embedded_env()
    with carnet_server(data, env=env) as base:
        headers = {"Authorization": f"Bearer {token(data)}", "Content-Type": "application/fhir+json"}
        patient = requests.post(
            f"{base}/Patient", json={"resourceType": "Patient", "active": True}, headers=headers, timeout=30
        ).json()
        requests.put(
            f"{base}/Patient/{patient['id']}", json={**patient, "gender": "female"}, headers=headers, timeout=30
        ).raise_for_status()
        requests.put(
            f"{base}/Practitioner/blocked",
            json={"resourceType": "Practitioner", "id": "blocked"},
            headers=headers,
            timeout=30,
        ).raise_for_status()  # references are checked
        consent = {
            "resourceType": "Consent",
            "status": "active",
            "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
            "scope": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{patient['id']}"},
            "provision": {
                "type": "deny",
                "actor": [
                    {
                        "role": {
                            "coding": [
                                {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}
                            ]
                        },
                        "reference": {"reference": "Practitioner/blocked"},
                    }
                ],
            },
        }
        assert requests.post(f"{base}/Consent", json=consent, headers=headers, timeout=30).status_code == 201
        stop = threading.Event()
        written = []

        def write() -> None:
            n = 0
            while not stop.is_set():
                resp = requests.post(base, json=batch(n), headers=headers, timeout=60)
                written.append(resp.status_code)
                n += 1

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while len(written) < 2:
                threading.Event().wait(0.05)
            made = carnet("backup", "--data-dir", str(data), "--out", str(snapshot))
        finally:
            stop.set()
            writer.join(timeout=60)
        assert made.returncode == 0, made.stderr
    restored = carnet("restore", "--data-dir", str(other), "--from", str(snapshot))
    assert restored.returncode == 0, restored.stderr
    again = carnet("restore", "--data-dir", str(other), "--from", str(snapshot))
    assert again.returncode == 1 and "not empty" in again.stderr
    assert carnet("restore", "--data-dir", str(other), "--from", str(snapshot), "--force").returncode == 0
    snap = everything(snapshot)
    assert snap == everything(other / "carnet.db")
    assert snap["versions"]["Consent"] and snap["versions"]["AuditEvent"]
    marked = [v for v in snap["versions"]["Patient"] if MARK.encode() in v[4]]
    assert len(marked) % BATCH == 0  # whole transactions only
    with carnet_server(other, env=env) as base:
        headers = {"Authorization": f"Bearer {token(other)}"}
        history = requests.get(f"{base}/Patient/{patient['id']}/_history", headers=headers, timeout=30).json()
        assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
        assert requests.get(f"{base}/Consent", headers=headers, timeout=30).json()["total"] == 1


def test_backup_and_restore_refuse_on_mongodb(tmp_path):
    env = {**os.environ, "MONGODB_URI": "mongodb://127.0.0.1:1"}
    out = subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", "backup", "--data-dir", str(tmp_path), "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 2 and "mongodump" in out.stderr

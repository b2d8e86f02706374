"""Closing, reopening and purging a record (fhir_server.dmp.retention, Patient/$close, $reopen,
`carnet purge`). Rule 1 (closed record) itself: tests/consent/test_engine.py."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from fhir_server.dmp import cli as dmp_cli
from fhir_server.dmp import retention
from fhir_server.dmp.emergency import SESSIONS
from fhir_server.storage import get_store
from fhir_server.storage import no_policy
from search.plan import TRUE
from tests.dmp.world import GP
from tests.dmp.world import P
from tests.dmp.world import seed
from tests.dmp.world import token
from tests.support import bearer
from tests.support import shared_store

pytestmark = pytest.mark.usefixtures("world")
GUARDIAN = "RelatedPerson/representant-legal"


def close(client, headers, patient="ins-adulte", reason="déménagement à l'étranger", erase=None):
    parameter = [{"name": "reason", "valueString": reason}] if reason is not None else []
    if erase is not None:
        parameter.append({"name": "erase", "valueBoolean": erase})
    body = {"resourceType": "Parameters", "parameter": parameter}
    return client.post(f"/fhir/Patient/{patient}/$close", json=body, headers=headers)


def reopen(client, headers, patient="ins-adulte"):
    return client.post(f"/fhir/Patient/{patient}/$reopen", headers=headers)


def reads(client, headers, path="DocumentReference/compte-rendu"):
    return client.get(f"/fhir/{path}", headers=headers).status_code


@pytest.mark.parametrize(
    ("caller", "patient", "expected"),
    [
        (P, "ins-adulte", 200),
        (GUARDIAN, "ins-mineur", 200),
        (None, "ins-adulte", 200),  # system client
        (GP, "ins-adulte", 403),  # professionals never close a record
        ("Patient/ins-mineur", "ins-adulte", 403),  # another patient
        (GUARDIAN, "ins-adulte", 403),  # not this record's representative
        (GUARDIAN, "unknown", 403),  # the same answer whether the record exists or not
        ("Patient/unknown", "unknown", 404),  # one's own record, missing
        (None, "unknown", 404),
    ],
)
def test_who_closes(app, client, caller, patient, expected):
    headers = bearer(app, fhir_user=caller) if caller else bearer(app)
    assert close(client, headers, patient).status_code == expected


def test_closing_records_the_closure_and_shuts_professionals_out(app, client, clock):
    patient = token(app, P)
    assert reads(client, token(app, GP)) == 200
    resp = close(client, patient, erase=False)
    closed = resp.get_json()
    assert closed["active"] is False and closed["meta"]["versionId"] == "2"
    (closure,) = [e for e in closed["extension"] if e["url"] == retention.CLOSURE]
    parts = {p["url"]: p for p in closure["extension"]}
    assert parts["raisonFermeture"]["valueString"] == "déménagement à l'étranger"
    assert parts["motifFermeture"]["valueCoding"]["code"] == "patient-demande"
    assert parts["dateFermeture"]["valueDateTime"] == "2026-11-21T13:00:00.000000Z"
    assert not any(e["url"] == retention.ERASURE for e in closed["extension"])
    assert reads(client, token(app, GP)) == 404
    assert reads(client, token(app, GP), "Patient/ins-adulte") == 404
    assert reads(client, patient) == 200  # the holder keeps reading their record
    assert close(client, patient).status_code == 409


@pytest.mark.parametrize(
    "body,diagnostics",
    [
        (None, "The body must be a Parameters resource"),
        ({"resourceType": "Patient"}, "The body must be a Parameters resource"),
        ({"resourceType": "Parameters"}, "$close needs a reason"),
        ({"resourceType": "Parameters", "parameter": [{"name": "reason"}]}, "Parameter 'reason' must appear once"),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "  "}]},
            "$close needs a reason",
        ),
    ],
)
def test_a_reason_is_required(app, client, body, diagnostics):
    resp = client.post("/fhir/Patient/ins-adulte/$close", json=body, headers=token(app, P))
    assert resp.status_code == 400
    assert resp.get_json()["issue"][0]["diagnostics"].startswith(diagnostics)
    assert reads(client, token(app, GP)) == 200


def test_reopening_restores_access(app, client):
    patient = token(app, P)
    assert reopen(client, patient).status_code == 409  # not closed
    close(client, patient, erase=True)
    reopened = reopen(client, patient).get_json()
    assert reopened["active"] is True and "extension" not in reopened
    assert reads(client, token(app, GP)) == 200
    assert reopen(client, token(app, GP)).status_code == 403


def due(app, years, **options):
    with app.app_context():
        return retention.due(get_store(), app.config["CLOCK"]() + timedelta(days=365 * years + 3), **options)


@pytest.mark.parametrize(
    ("erase", "years", "options", "why"),
    [
        (False, 9, {}, None),
        (False, 10, {}, "retention over (10 years)"),
        (True, 0, {}, "erasure requested"),
        (False, 0, {"patient": P, "early": True}, "early deletion"),
        (False, 0, {"patient": P}, None),
        (False, 10, {"patient": "Patient/ins-mineur"}, None),
    ],
)
def test_what_is_due(app, client, clock, erase, years, options, why):
    close(client, token(app, P), erase=erase)
    found = due(app, years, **options)
    assert [(r.patient, r.why) for r in found] == ([(P, why)] if why else [])


def test_an_open_record_is_never_due(app, clock):
    assert due(app, 20) == due(app, 0, patient=P, early=True) == []


def test_purging_removes_the_record_and_keeps_the_others(app, client, clock):
    emergency = token(app, "Practitioner/urgentiste", "BTG", "urgence")
    assert reads(client, emergency, "Patient/ins-adulte") == 200  # an emergency window opens
    close(client, token(app, P))
    client.get("/fhir/Patient/ins-adulte", headers=emergency)
    (record,) = due(app, 10)
    assert record.documents["DocumentReference"] == 3 and record.documents["Patient"] == 1
    assert record.documents["history"] >= 5
    with app.app_context():
        store = get_store()
        assert store.documents(SESSIONS).count_documents({"patient": P}) == 1
        retention.purge(store, record)
        assert "DocumentReference" not in store.held(P)
        assert not [s for s in store.find("DocumentReference", TRUE, no_policy) if s.acl.get("patient") == P]
        assert store.current("DocumentReference", "compte-rendu") is None
        assert store.count_versions("DocumentReference", ["compte-rendu"]) == 0
        assert store.history("DocumentReference", "compte-rendu", None, no_policy, 0, 10) == (0, [])
        assert store.documents(SESSIONS).count_documents({"patient": P}) == 0
        assert store.current("Patient", "ins-mineur") is not None
        assert [s.id for s in store.find("RelatedPerson", TRUE, no_policy)] == ["representant-legal"]
    assert reopen(client, bearer(app)).status_code == 404


def test_carnet_purge(tmp_path, make_app, monkeypatch, capsys):
    app = make_app(**shared_store(tmp_path, monkeypatch))  # a store the command opens again
    client, system = app.test_client(), bearer(app)
    seed(client, system)
    assert close(client, system, erase=True).status_code == 200
    monkeypatch.setenv("CARNET_DATA_DIR", str(tmp_path))

    def purge(**options):
        args = {"data_dir": str(tmp_path), "patient": None, "early": False, "apply": False} | options
        return dmp_cli.purge_command(argparse.Namespace(**args)), capsys.readouterr().out

    assert purge(early=True)[0] == 2
    assert purge(patient="Patient/ins-mineur", early=True)[0] == 1  # open: never purged
    status, out = purge()
    assert status == 0 and out.startswith(f"would purge {P} (closed ") and "erasure requested" in out
    status, out = purge(apply=True)
    assert status == 0 and out.startswith(f"purged {P}")
    assert purge() == (0, "")

"""`carnet migrate`: a store written by the former embedded engine (mongoeco files, read through the
MongoDB adapter) moves into the SQLite store with every version, time and server record; the
server then serves it as before."""

from __future__ import annotations

from pathlib import Path

from fhir_server.cli import main
from fhir_server.indexing import index_resource
from fhir_server.storage import TRUE
from fhir_server.storage import no_policy
from fhir_server.storage import opened_store
from tests.support import bearer


def old_store(data_dir: Path) -> None:
    config = {"MONGODB_URI": f"mongoeco://{data_dir / 'carnet.sqlite'}", "MONGODB_DATABASE": "carnet"}
    with opened_store(config, index_resource) as old:
        old.write(
            "Patient",
            "p1",
            {
                "resourceType": "Patient",
                "name": [{"family": "Ancien"}],
                "generalPractitioner": [{"reference": "Practitioner/gp"}],
            },
            method="PUT",
        )
        old.write(
            "Patient",
            "p1",
            {
                "resourceType": "Patient",
                "name": [{"family": "Ancienne"}],
                "generalPractitioner": [{"reference": "Practitioner/gp"}],
            },
            method="PUT",
        )
        old.write(
            "Observation",
            "o1",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": "Patient/p1"},
            },
            method="POST",
        )
        old.write("Observation", "o1", None, method="DELETE")
        old.documents("auth_users").insert_many([{"_id": "lea", "fhir_user": "Patient/p1"}])


def test_migrate_an_old_data_dir_into_sqlite(tmp_path, capsys, make_app):
    old_store(tmp_path)
    assert main(["migrate", "--from-data-dir", str(tmp_path), "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "Patient: 2" in out.out and "Observation: 2" in out.out and "auth_users: 1" in out.out
    assert "4/4" in out.err  # the progress bar ends full
    with opened_store({"DATA_DIR": str(tmp_path)}, index_resource) as new:
        assert [(s.id, s.vid, s.deleted) for s in new.versions("Patient")] == [("p1", 1, False), ("p1", 2, False)]
        observation, user = new.current("Observation", "o1"), new.documents("auth_users").find_one({"_id": "lea"})
        assert observation is not None and observation.deleted
        assert user is not None and user["fhir_user"] == "Patient/p1"
        assert new.linked_records(["Practitioner/gp"]) == {"Patient/p1"}  # consent links rebuilt
        assert [s.id for s in new.find("Patient", TRUE, no_policy)] == ["p1"]
    app = make_app(DATA_DIR=str(tmp_path), DATABASE_FILE=None)
    client = app.test_client()
    read = client.get("/fhir/Patient/p1", headers=bearer(app))
    assert (
        read.status_code == 200
        and read.headers["ETag"] == 'W/"2"'
        and read.get_json()["name"][0]["family"] == "Ancienne"
    )
    as_gp = bearer(app, fhir_user="Practitioner/gp", scope="user/*.rs")
    assert client.get("/fhir/Patient?family=ancienne", headers=as_gp).get_json()["total"] == 1
    assert client.get("/fhir/Observation/o1", headers=bearer(app)).status_code == 410


def test_migrate_refuses_a_non_empty_target_and_bad_sources(tmp_path, capsys):
    old_store(tmp_path)
    with opened_store({"DATA_DIR": str(tmp_path)}, index_resource) as new:
        new.write("Patient", "there", {"resourceType": "Patient"}, method="PUT")
    assert main(["migrate", "--from-data-dir", str(tmp_path), "--data-dir", str(tmp_path)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["migrate", "--from-data-dir", str(tmp_path / "nothing"), "--data-dir", str(tmp_path)]) == 1
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 2

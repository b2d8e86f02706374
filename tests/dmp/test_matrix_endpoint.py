"""The access matrix in force: served read-only to anyone, checked when the app starts. Its rows:
tests/consent/test_matrix.py."""

from __future__ import annotations

import json

import pytest

from consent.matrix import MATRIX_FILE
from consent.matrix import MatrixError


def test_anyone_reads_the_matrix(client):
    resp = client.get("/dmp/access-matrix")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == json.loads(MATRIX_FILE.read_text())


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_is_read_only(client, system, method):
    assert getattr(client, method)("/dmp/access-matrix", headers=system).status_code == 405


def test_a_configured_matrix_is_served(tmp_path, make_app):
    raw = json.loads(MATRIX_FILE.read_text())
    raw["rows"] = raw["rows"][:2]
    (tmp_path / "matrix.json").write_text(json.dumps(raw))
    app = make_app(ACCESS_MATRIX_FILE=str(tmp_path / "matrix.json"))
    assert len(app.test_client().get("/dmp/access-matrix").get_json()["rows"]) == 2


def test_a_bad_matrix_stops_the_start(tmp_path, make_app):
    raw = json.loads(MATRIX_FILE.read_text())
    raw["rows"][0]["profession"] = "77"
    (tmp_path / "matrix.json").write_text(json.dumps(raw))
    with pytest.raises(MatrixError, match="rows\\[0\\]: profession '77'"):
        make_app(ACCESS_MATRIX_FILE=str(tmp_path / "matrix.json"))

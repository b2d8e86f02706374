"""The Flask side: init_app, /.well-known/jwks.json, authenticate_request."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from fhir_server import auth
from fhir_server.auth.accounts import Db
from fhir_server.auth.keys import load_or_create_key
from fhir_server.errors import Unauthorized


@pytest.fixture
def app(tmp_path: Path, db: Db) -> Flask:
    app = Flask(__name__)
    app.config.update(DATA_DIR=str(tmp_path))
    auth.init_app(app, db)
    return app


def test_init_app_creates_the_key(app: Flask, tmp_path: Path) -> None:
    assert (tmp_path / "auth" / "signing-key.jwk.json").exists()


def test_jwks_json(app: Flask, tmp_path: Path) -> None:
    response = app.test_client().get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    (key,) = response.get_json()["keys"]
    assert key["kid"] == load_or_create_key(tmp_path).kid and "d" not in key


def test_authenticate_request(app: Flask, tmp_path: Path) -> None:
    token = auth.mint_token(
        tmp_path,
        fhir_user="Patient/1",
        scope="patient/*.rs",
        purpose=None,
        reason=None,
        ttl=60,
        sub=None,
        issuer="carnet",
        audience="http://localhost/fhir",
    )
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        assert auth.authenticate_request().ref == "Patient/1"  # aud: the request's base URL
    with (
        app.test_request_context(headers={"Authorization": f"Bearer {token}"}),
        pytest.raises(Unauthorized),
    ):
        auth.authenticate_request("http://elsewhere/fhir")
    with app.test_request_context(), pytest.raises(Unauthorized):
        auth.authenticate_request()


def test_exported_members() -> None:
    assert sorted(auth.__all__) == sorted(name for name in auth.__all__ if hasattr(auth, name))

"""Shared fixtures: an app on a fresh store (embedded, or MONGODB_URI when set), a client, tokens."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.auth import mint_token
from fhir_server.auth.issuers import AuthConfig

SHARED = Path(__file__).resolve().parent.parent / "shared"


def app_config(data_dir: Path) -> dict[str, Any]:
    config: dict[str, Any] = {"TESTING": True, "DATA_DIR": str(data_dir)}
    if os.environ.get("MONGODB_URI"):
        config["MONGODB_URI"] = os.environ["MONGODB_URI"]
        config["MONGODB_DATABASE"] = f"carnet_test_{uuid.uuid4().hex[:12]}"
    else:
        config["DATABASE_FILE"] = ":memory:"
    return config


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(app_config(tmp_path))
    yield app
    store = app.extensions["carnet.store"]
    if app.config.get("MONGODB_URI"):
        store.client.drop_database(app.config["MONGODB_DATABASE"])
    store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(app: Flask, fhir_user: str | None = None, scope: str | None = None, **claims: Any) -> dict[str, str]:
    """Authorization headers for a token minted by ``app``'s own key."""
    config = AuthConfig.from_mapping(app.config)
    if scope is None:
        scope = "system/*.cruds" if fhir_user is None else "user/*.cruds"
    token = mint_token(
        config.data_dir, fhir_user=fhir_user, scope=scope, purpose=claims.get("purpose"),
        reason=claims.get("reason"), ttl=claims.get("ttl", 600), sub=claims.get("sub"),
        issuer=config.issuer, audience=config.audience,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def system(app: Flask) -> dict[str, str]:
    """Headers of a system client with full access."""
    return bearer(app)

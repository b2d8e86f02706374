"""Shared fixtures: an app on a fresh store (embedded, or MONGODB_URI when set), a client, tokens."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from tests.support import app_config
from tests.support import bearer


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


@pytest.fixture
def system(app: Flask) -> dict[str, str]:
    """Headers of a system client with full access."""
    return bearer(app)

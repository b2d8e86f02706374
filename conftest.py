"""Shared fixtures: an app on a fresh store (embedded SQLite, or the MongoDB adapter when MONGODB_URI
is set: ``mongoeco://`` for its in-process stand-in), a client, tokens."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.storage import get_store_of
from tests.support import app_config
from tests.support import bearer


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Apps on fresh stores under tmp_path with extra settings (None removes one); closed after."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        config = app_config(tmp_path) | settings
        app = create_app({key: value for key, value in config.items() if value is not None})
        made.append(app)
        return app

    yield make
    for app in made:
        store = get_store_of(app)
        if app.config.get("MONGODB_URI"):
            store.drop()
        store.close()  # an unclosed mongoeco client is finalised on a GC thread and can deadlock


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def system(app: Flask) -> dict[str, str]:
    """Headers of a system client with full access."""
    return bearer(app)

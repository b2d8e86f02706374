"""Fixtures of the bundle tests: the bundle and operation routes registered when the app factory
does not do it yet."""
from __future__ import annotations

import pytest
from flask import Flask

from fhir_server import bundles
from fhir_server.operations import routes


@pytest.fixture(autouse=True)
def wired(app: Flask) -> None:
    if "bundles" not in app.blueprints:
        bundles.init_app(app)
    if "operations" not in app.blueprints:
        routes.init_app(app)

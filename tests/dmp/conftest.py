"""Fixtures of the DMP HTTP tests: a settable clock (``CLOCK``), the dmp blueprint registered when
the app factory does not do it yet, and the seeded world (tests/dmp/world.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.dmp.world import DEPOSIT
from tests.dmp.world import seed
from tests.support import Clock


@pytest.fixture
def clock(app: Flask) -> Clock:
    moment = Clock(DEPOSIT + timedelta(days=1))
    app.config["CLOCK"] = moment
    return moment


@pytest.fixture
def world(clock: Clock, client: FlaskClient, system: dict[str, str]) -> None:
    seed(client, system)

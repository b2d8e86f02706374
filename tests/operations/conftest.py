"""Fixtures of the operation tests: the routes registered (as for the bundle tests) and the consent world."""
from __future__ import annotations

import pytest

from tests.bundles.conftest import wired  # noqa: F401
from tests.bundles.world import seed


@pytest.fixture
def world(client, system) -> None:
    seed(client, system)

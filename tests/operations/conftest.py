"""Fixtures of the operation tests: the consent world."""

from __future__ import annotations

import pytest

from tests.bundles.world import seed


@pytest.fixture
def world(client, system) -> None:
    seed(client, system)

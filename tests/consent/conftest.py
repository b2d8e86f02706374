"""Fixtures for the consent tests: the French examples (tests/fixtures/examples-fr)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support import EXAMPLES_FR

EXAMPLES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(EXAMPLES_FR.glob("*.json"))}


@pytest.fixture
def fr() -> dict[str, dict[str, Any]]:
    """Each example by file stem (``Consent-blocage-praticien``…), fresh for every test."""
    return copy.deepcopy(EXAMPLES)

"""Fixtures for the consent tests: the French examples (tests/consent/data, from shared/examples-fr)."""
from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest

DATA = pathlib.Path(__file__).parent / "data"
EXAMPLES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}


@pytest.fixture
def fr() -> dict[str, dict[str, Any]]:
    """Each example by file stem (``Consent-blocage-praticien``…), fresh for every test."""
    return copy.deepcopy(EXAMPLES)

"""Every official R4 example of the supported types and every French example validates clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.validation import validate
from tests.support import R4
from tests.support import SYNTHEA
from tests.support import examples
from tests.support import read_json

BUNDLES = sorted(R4.glob("Bundle-*.json")) + sorted(SYNTHEA.rglob("*.json.gz"))


@pytest.mark.parametrize("path", examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_is_valid(path: Path) -> None:
    resource = json.loads(path.read_text())
    assert validate(resource, resource["resourceType"]) == []


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name[:40])
def test_bundle_and_every_entry_is_valid(path: Path) -> None:
    """Transaction/batch examples and Synthea bundles: many types beyond the core ones."""
    bundle = read_json(path)
    assert validate(bundle, "Bundle") == []

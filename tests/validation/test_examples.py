"""Every official R4 example of the supported types and every French example validates clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_server.validation import validate

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLES = sorted((SHARED / "fhir-r4" / "examples").glob("*.json")) + sorted((SHARED / "examples-fr").glob("*.json"))
BUNDLES = sorted((SHARED / "fhir-r4").glob("Bundle-*.json")) + sorted((SHARED / "data" / "synthea").rglob("*.json"))


@pytest.mark.skipif(not EXAMPLES, reason="../shared is not present")
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_is_valid(path: Path) -> None:
    resource = json.loads(path.read_text())
    assert validate(resource, resource["resourceType"]) == []


@pytest.mark.skipif(not BUNDLES, reason="../shared is not present")
@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.name[:40])
def test_bundle_and_every_entry_is_valid(path: Path) -> None:
    """Transaction/batch examples and Synthea bundles: many types beyond the core ones."""
    bundle = json.loads(path.read_text())
    assert validate(bundle, "Bundle") == []

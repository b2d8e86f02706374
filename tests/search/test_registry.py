"""The registry shipped with the package (search.registry) and its generator.

The registry is generated from the official R4 definitions by tools/generate_registry.py (their
copy for this test: tests/fixtures/fhir-r4); the server only reads search/data/registry.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import search
from search import fulltext
from search import registry as registry_module
from tests.support import R4
from tests.support import unpacked

SERVED = [
    "Patient",
    "DocumentReference",
    "AllergyIntolerance",
    "Consent",
    "RelatedPerson",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "AuditEvent",
]
RESOURCE_LEVEL = ["_id", "_lastUpdated", "_tag", "_security", "_profile", "_source"]


def test_every_r4_type(registry):
    assert len(registry.types()) == 146
    for t in registry.types():
        assert set(RESOURCE_LEVEL) <= set(registry.params(t)), t


@pytest.mark.parametrize("type_", SERVED)
def test_served_types_have_their_parameters(registry, type_):
    assert len(registry.params(type_)) > len(RESOURCE_LEVEL)


def test_shapes(registry):
    p = registry.params("Patient")
    assert p["name"].type == "string" and p["name"].routes[0].type == "HumanName"
    assert p["birthdate"].type == "date" and not p["birthdate"].multi
    assert p["general-practitioner"].targets == ("Organization", "Practitioner", "PractitionerRole")
    assert p["_lastUpdated"].field == "ts" and p["_id"].field == "_id"
    d = registry.params("DocumentReference")
    assert d["patient"].routes[0].steps[0].is_type == ("Patient",)  # shared clinical-patient
    assert d["patient"].url.endswith("clinical-patient")
    rel = d["relationship"]
    assert rel.type == "composite" and [c.type for c in rel.components] == ["token", "reference"]
    email = registry.params("Patient")["email"].routes[0].steps[0]
    assert email.key == "telecom" and email.eq == ("system", "email")
    onset = registry.params("Condition")["onset-date"]
    assert {r.steps[0].key for r in onset.routes} == {"onsetDateTime", "onsetPeriod"}


def test_unsupported_kinds_are_not_advertised(registry):
    for t in registry.types():
        for code, p in registry.params(t).items():
            assert p.type != "special" and code not in ("_query", "_filter")
            # full text is served where its values are indexed (search/fulltext.py, issue 13)
            assert code not in ("_text", "_content") or t in fulltext.TYPES


def test_patient_compartment(registry):
    assert registry.patient_compartment["DocumentReference"] == ("subject", "author")
    assert registry.patient_compartment["AllergyIntolerance"] == ("patient", "recorder", "asserter")
    assert "Practitioner" not in registry.patient_compartment


def test_load_is_cached():
    assert registry_module.load() is registry_module.load()


def test_data_ships_inside_the_package():
    assert Path(search.__file__).parent in registry_module.DATA.parents


def test_generator_reproduces_the_shipped_table(tmp_path):
    from tools import generate_registry

    unpacked(R4, tmp_path / "fhir-r4")
    built = json.loads(json.dumps(generate_registry.build(tmp_path)))
    shipped = json.loads(registry_module.DATA.read_text())
    assert built["types"] == shipped["types"]
    assert built["compartments"] == shipped["compartments"]

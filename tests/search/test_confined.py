"""Which searches confine every match to named records (so a request loads only their consent
states): ``searchset.confined_records``. Integration: the leak probes (tests/leaks) and the DMP
suites run these searches by every kind of caller."""

from __future__ import annotations

import pytest

from fhir_server.searchset import confined_records


@pytest.mark.parametrize(
    ("type_", "params", "records"),
    [
        ("DocumentReference", [("subject", "Patient/p1")], {"Patient/p1"}),
        ("DocumentReference", [("subject:Patient", "p1,p2")], {"Patient/p1", "Patient/p2"}),
        ("AllergyIntolerance", [("patient", "p1"), ("code", "x")], {"Patient/p1"}),
        ("Patient", [("_id", "p1,p2")], {"Patient/p1", "Patient/p2"}),
        ("DocumentReference", [("type", "x"), ("subject", "Patient/p3")], {"Patient/p3"}),
    ],
)
def test_confining_criteria(registry, type_, params, records):
    assert confined_records(registry, type_, params) == frozenset(records)


@pytest.mark.parametrize(
    ("type_", "params"),
    [
        ("DocumentReference", []),
        ("DocumentReference", [("type", "x")]),
        ("DocumentReference", [("subject", "p1")]),  # a bare id on subject may name a Group
        ("DocumentReference", [("subject", "http://other/fhir/Patient/p1")]),
        ("DocumentReference", [("subject", "Patient/p1"), ("_include", "DocumentReference:author")]),
        ("DocumentReference", [("subject", "Patient/p1"), ("_revinclude", "Provenance:target")]),
        ("Patient", [("_id", "p1"), ("_has:DocumentReference:subject:type", "x")]),
        ("DocumentReference", [("subject.name", "x")]),
        ("DocumentReference", [("subject:missing", "false")]),
        ("Patient", [("name", "x")]),
    ],
)
def test_unconfined_searches(registry, type_, params):
    assert confined_records(registry, type_, params) is None

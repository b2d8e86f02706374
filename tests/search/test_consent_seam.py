"""The consent seam: a restrictive Policy is ANDed into the main query and into every include,
chain and _has query, so totals, pages and includes only ever show permitted resources.

Unit twin: test_compile.py (predicate compilation against consent.predicate.evaluate)."""

from __future__ import annotations

import pytest

from consent.predicate import ALLOW
from consent.predicate import DENY
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from fhir_server import searchset
from fhir_server.storage import Scoped

from . import dataset

CLINICAL = {
    "Patient",
    "DocumentReference",
    "AllergyIntolerance",
    "Consent",
    "RelatedPerson",
    "AuditEvent",
    "Observation",
}
ONLY_P1_UNMASKED = And((AnyOf("patients", ("Patient/p1",)), Not(AnyOf("labels", ("MASQUE_PS",)))))


def restrictive(type_: str):
    if type_ in CLINICAL:
        return ONLY_P1_UNMASKED
    return DENY if type_ == "Practitioner" else ALLOW


@pytest.fixture
def guarded(store):
    for r in dataset.RESOURCES:
        labels = ["MASQUE_PS"] if r["id"] == "d2" else []
        store.load(r, acl={"labels": labels})
    return store


def test_totals_and_pages_only_count_permitted(guarded):
    b = guarded.bundle("DocumentReference", "_count=1", policy_for=restrictive)
    assert b["total"] == 1 and [e["fullUrl"][-2:] for e in b["entry"]] == ["d1"]
    assert "next" not in {link["relation"] for link in b["link"]}
    assert guarded.bundle("Patient", "", policy_for=restrictive)["total"] == 1
    assert guarded.bundle("Patient", "gender=male", policy_for=restrictive)["total"] == 0
    assert guarded.bundle("Practitioner", "", policy_for=restrictive)["total"] == 0
    assert guarded.bundle("Patient", "_summary=count", policy_for=restrictive)["total"] == 1


def test_includes_are_filtered_by_the_target_policy(guarded):
    inc = guarded.ids(
        "DocumentReference",
        "_include=DocumentReference:subject&_include=DocumentReference:author",
        mode="include",
        policy_for=restrictive,
    )
    assert inc == ["Patient/p1"]  # Practitioner/dr1 is denied
    rev = guarded.ids(
        "Patient",
        "_revinclude=DocumentReference:subject&_revinclude=AllergyIntolerance:patient",
        mode="include",
        policy_for=restrictive,
    )
    assert sorted(rev) == ["AllergyIntolerance/a1", "DocumentReference/d1"]  # d2 is masked
    it = guarded.ids(
        "Patient",
        "_include=Patient:organization&_include:iterate=Organization:partof",
        mode="include",
        policy_for=restrictive,
    )
    assert it == ["Organization/org2", "Organization/org1"]


def test_chains_only_see_permitted_targets(guarded):
    def docs_open(t):
        return ALLOW if t == "DocumentReference" else restrictive(t)

    assert guarded.ids("DocumentReference", "subject.name=dupont", policy_for=docs_open) == []
    assert guarded.ids("DocumentReference", "subject.name=helene", policy_for=docs_open) == [
        "DocumentReference/d1",
        "DocumentReference/d2",
    ]
    assert guarded.ids("PractitionerRole", "practitioner.identifier=810001", policy_for=restrictive) == []


def test_has_only_sees_permitted_sources(guarded):
    def patients_open(t):
        return ALLOW if t == "Patient" else restrictive(t)

    assert guarded.ids("Patient", "_has:DocumentReference:subject:type=34112-3", policy_for=patients_open) == [
        "Patient/p1"
    ]
    assert (
        guarded.ids("Patient", "_has:DocumentReference:subject:type=11502-2", policy_for=patients_open) == []
    )  # masked d2
    nested = "_has:Patient:organization:_has:DocumentReference:subject:type=11502-2"
    assert guarded.ids("Organization", nested, policy_for=patients_open) == []


def test_system_search_and_conditional_matches(guarded):
    b = guarded.bundle(["Patient", "Practitioner", "DocumentReference"], "", policy_for=restrictive)
    assert b["total"] == 2 and sorted(e["fullUrl"][len(dataset.BASE) + 1 :] for e in b["entry"]) == [
        "DocumentReference/d1",
        "Patient/p1",
    ]
    got = searchset.find_matches(Scoped(guarded.repo, restrictive), guarded.registry, "Patient", "gender=male")
    assert got == []


def test_empty_or_and_not_policies(guarded):
    unlabelled = lambda t: Empty("labels")  # noqa: E731
    assert "DocumentReference/d2" not in guarded.ids("DocumentReference", "", policy_for=unlabelled)
    assert guarded.bundle("DocumentReference", "", policy_for=unlabelled)["total"] == 2
    either = lambda t: Or((AnyOf("patients", ("Patient/p2",)), AnyOf("labels", ("MASQUE_PS",))))  # noqa: E731
    assert guarded.ids("DocumentReference", "", policy_for=either) == ["DocumentReference/d2", "DocumentReference/d3"]
    assert guarded.bundle("DocumentReference", "", policy_for=lambda t: DENY)["total"] == 0

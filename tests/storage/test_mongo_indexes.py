"""Every query the MongoDB adapter compiles starts with a predicate a declared index covers
(storage/mongo/indexes.py): after ``deleted: false``, some top-level term of the filter is on an
indexed field (or, for a plain listing, the ``_id`` sort walks its index)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from urllib.parse import parse_qsl

import pytest

from consent.predicate import ALLOW
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from fhir_server.storage.mongo.indexes import covered
from fhir_server.storage.mongo.plans import Translator
from search import registry as search_registry
from search.compile import compile_criteria
from search.parse import parse

#: the compiler's now (only ``ap`` dates read it)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRACTITIONER = Or(
    (
        And((Empty("patients"), Empty("patient"))),
        And((AnyOf("patient", ("Patient/a", "Patient/b")), Not(AnyOf("labels", ("MASQUE_PS",))))),
    )
)
QUERIES = [
    ("Patient", "identifier=urn:oid:1.2.250.1.213.1.4.8|123"),
    ("Patient", "family=dup&given=anne"),
    ("Patient", "birthdate=ge1980-01-01&birthdate=lt1981-01-01"),
    ("Patient", "gender=female"),
    ("Patient", "name:contains=ar"),
    ("Patient", "_id=p1"),
    ("Patient", "_lastUpdated=gt2026-01-01"),
    ("DocumentReference", "subject=Patient/p1&type=http://loinc.org|11502-2"),
    ("DocumentReference", "subject:Patient.identifier=urn:oid:1.2.250.1.213.1.4.8|123"),
    ("DocumentReference", "date=ge2020-01-01&_sort=-date"),
    ("Observation", "value-quantity=gt5|http://unitsofmeasure.org|mg"),
    ("Observation", "code-value-quantity=http://loinc.org|8480-6$gt100"),
    ("Patient", "_has:DocumentReference:subject:type=11502-2"),
    ("AllergyIntolerance", "code:missing=false"),
    ("Consent", "patient=Patient/p1&status=active"),
    ("Practitioner", "name=martin"),
]


def top_level_terms(flt):
    return flt["$and"] if list(flt) == ["$and"] else [flt]


def served(term) -> bool:
    """A term an index answers: an indexed field, or an $or / $nor-free $or whose every branch is served."""
    if list(term) == ["$or"]:
        return all(served(t) or any(served(u) for u in top_level_terms(t)) for t in term["$or"])
    if list(term) == ["$and"]:
        return any(served(t) for t in term["$and"])
    return any(not key.startswith("$") and covered(key) for key in term)


@pytest.mark.parametrize("policy", [ALLOW, PRACTITIONER], ids=["system", "practitioner"])
@pytest.mark.parametrize(("type_", "query"), QUERIES)
def test_every_compiled_query_starts_with_an_indexed_predicate(type_, query, policy):
    registry = search_registry.load()
    req = parse(registry, [type_], parse_qsl(query))
    where = compile_criteria(registry, type_, req.criteria[type_], now=NOW)
    flt = Translator(lambda t: policy, lambda *a: ["x"]).live(type_, where)
    rest = [t for t in top_level_terms(flt) if t != {"deleted": False}]
    assert rest and any(served(t) for t in rest), flt


def test_a_plain_listing_walks_the_id_index():
    flt = Translator(lambda t: ALLOW, lambda *a: []).live(
        "Patient", compile_criteria(search_registry.load(), "Patient", (), now=NOW)
    )
    assert flt == {"deleted": False}  # sorted by _id (always last in the sort): the _id index serves the page


def test_the_check_rejects_an_unindexed_query():
    assert not served({"resource.name.family": "x"}) and not served({"$or": [{"acl.patient": "a"}, {"vid": 2}]})

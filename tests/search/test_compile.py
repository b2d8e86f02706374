"""Compiling criteria to the backend-neutral plan (search.compile, search.plan) and translating
plans and consent predicates in each adapter.

The predicate translations of both adapters are checked against ``consent.predicate.evaluate``
(the reference semantics) on real stores. Integration twin: tests/search/test_consent_seam.py."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consent.predicate import ALLOW
from consent.predicate import DENY
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from consent.predicate import evaluate
from fhir_server.storage import Stored
from fhir_server.storage import no_policy
from fhir_server.storage.mongo.plans import Translator as MongoTranslator
from fhir_server.storage.sqlite.plans import Translator as SqlTranslator
from search.compile import compile_criteria
from search.compile import sort_keys
from search.parse import SortKey
from search.parse import parse
from search.plan import FALSE
from search.plan import TRUE
from search.plan import Attr
from search.plan import Cmp
from search.plan import SortBy
from search.plan import Value
from search.plan import and_
from search.plan import not_
from search.plan import or_

from .conftest import ADAPTERS
from .conftest import open_store

VALUES = ["a", "b", "c"]
ACLS: list[dict[str, Any]] = [
    {},
    {"labels": []},
    {"labels": ["a"]},
    {"labels": ["a", "b"]},
    {"labels": ["c"]},
    {"patients": ["a"], "labels": ["b"]},
    {"patients": [], "labels": ["c", "a"]},
    {"patients": ["b"]},
]


def test_builders():
    assert and_() == TRUE and or_() == FALSE
    leaf = Value("x", "token", Cmp("", "eq", "1"))
    assert and_(leaf, TRUE) == leaf and and_(leaf, FALSE) == FALSE
    assert or_(leaf, FALSE) == leaf and or_(leaf, TRUE) == TRUE
    assert not_(not_(leaf)) == leaf and not_(TRUE) == FALSE


leaf = st.one_of(
    st.builds(AnyOf, st.sampled_from(["patients", "labels"]), st.lists(st.sampled_from(VALUES), max_size=2).map(tuple)),
    st.builds(Empty, st.sampled_from(["patients", "labels"])),
)
predicates = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(And, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Or, st.lists(inner, max_size=3).map(tuple)),
        st.builds(Not, inner),
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module", params=ADAPTERS)
def acl_store(request, tmp_path_factory):
    repo = open_store(request.param, tmp_path_factory.mktemp("acl"))
    repo.restore(
        [
            Stored(
                "Basic", str(i), 1, "2024-01-01T00:00:00.000000Z", False, {"resourceType": "Basic", "id": str(i)}, acl
            )
            for i, acl in enumerate(ACLS)
        ]
    )
    stored = {s.id: s.acl for s in repo.find("Basic", TRUE, no_policy)}
    yield repo, stored
    repo.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(predicate=predicates)
def test_translated_predicate_matches_evaluate(acl_store, predicate):
    repo, acls = acl_store
    expected = {id_ for id_, acl in acls.items() if evaluate(predicate, acl)}
    assert {s.id for s in repo.find("Basic", Attr(predicate), no_policy)} == expected
    assert {s.id for s in repo.find("Basic", TRUE, lambda t: predicate)} == expected
    assert repo.count("Basic", TRUE, lambda t: predicate) == len(expected)


def test_user_input_only_becomes_values(registry):
    hostile = "a'); DROP TABLE resource; --"
    req = parse(registry, ["Patient"], [("family:contains", hostile), ("identifier", "$where|{}")])
    where = compile_criteria(registry, "Patient", req.criteria["Patient"], now=datetime(2026, 1, 1, tzinfo=UTC))
    assert where == and_(
        Value("family", "string", Cmp("", "contains", "a'); drop table resource; --")),
        Value("identifier", "token", Cmp("", "eq", "$where|{}")),
    )
    sql = SqlTranslator(no_policy)
    text = sql.live("Patient", where, "r")
    assert "DROP" not in text and "$where" not in text
    assert "a'); drop table resource; --" in sql.params and "$where|{}" in sql.params
    flt = MongoTranslator(no_policy, lambda *a: []).live("Patient", where)
    assert flt == {
        "$and": [
            {"deleted": False},
            {"idx.family": {"$regex": r"a'\);\ drop\ table\ resource;\ \-\-"}},
            {"idx.identifier": "$where|{}"},
        ]
    }


def test_policies_deny_and_allow_in_both_translations():
    assert MongoTranslator(lambda t: DENY, lambda *a: []).live("Patient", TRUE)["_id"] == {"$in": []}
    assert MongoTranslator(lambda t: ALLOW, lambda *a: []).live("Patient", TRUE) == {"deleted": False}
    assert SqlTranslator(lambda t: DENY).live("Patient", TRUE, "r").endswith("AND 0")


def test_sort_keys(registry):
    assert sort_keys(registry, "Patient", ()) == ()
    assert sort_keys(registry, "Patient", (SortKey("birthdate", True), SortKey("_lastUpdated"))) == (
        SortBy("birthdate", "date", True),
        SortBy("ts", "column", False),
    )

"""Compiling criteria and consent predicates to MongoDB filters (search.compile).

The predicate compiler is checked against ``consent.predicate.evaluate`` (the reference
semantics) on a real mongoeco collection. Integration twin: tests/search/test_consent_seam.py."""
from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from mongoeco import MongoClient
from mongoeco.engines.sqlite import SQLiteEngine

from consent.predicate import ALLOW
from consent.predicate import DENY
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Or
from consent.predicate import evaluate
from search.compile import NEVER
from search.compile import and_
from search.compile import criteria_filter
from search.compile import or_
from search.compile import policy_filter
from search.compile import sort_spec
from search.parse import SortKey
from search.parse import parse

VALUES = ["a", "b", "c"]
ACLS = [
    {}, {"labels": None}, {"labels": []}, {"labels": ["a"]}, {"labels": ["a", "b"]}, {"labels": "c"},
    {"patients": ["a"], "labels": ["b"]}, {"patients": [], "labels": ["c", "a"]}, {"patients": "b"},
]


def test_builders():
    assert and_() == {} and or_() == NEVER
    assert and_({"a": 1}, {}) == {"a": 1}
    assert and_({"a": 1}, NEVER) == NEVER
    assert or_({"a": 1}, NEVER) == {"a": 1}
    assert or_({"a": 1}, {}) == {}


def test_predicates_compile_as_specified():
    assert policy_filter(ALLOW) == {}
    assert policy_filter(DENY) == NEVER
    assert policy_filter(AnyOf("patients", ("Patient/1", "Patient/2"))) == {"acl.patients": {"$in": ["Patient/1", "Patient/2"]}}
    assert policy_filter(Empty("labels")) == {"$or": [{"acl.labels": None}, {"acl.labels": {"$size": 0}}]}
    assert policy_filter(Not(AnyOf("labels", ("X",)))) == {"$nor": [{"acl.labels": "X"}]}
    assert policy_filter(AnyOf("labels", ("X",)), "cacl") == {"cacl.labels": "X"}


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

_client = MongoClient(SQLiteEngine(":memory:"))
_col = _client["pred"]["docs"]
_col.insert_many([{"_id": str(i), "acl": acl} for i, acl in enumerate(ACLS)])


@settings(max_examples=150, deadline=None)
@given(predicates)
def test_compiled_predicate_matches_evaluate(predicate):
    expected = {str(i) for i, acl in enumerate(ACLS) if evaluate(predicate, acl)}
    got = {d["_id"] for d in _col.find(policy_filter(predicate))}
    assert got == expected, policy_filter(predicate)


def test_user_input_only_becomes_values(registry):
    req = parse(registry, ["Patient"], [("family:contains", "a.*(b"), ("identifier", "$where|{}")])
    flt = criteria_filter(registry, "Patient", req.criteria["Patient"], lambda t: ALLOW, lambda *a: [])
    assert flt == {"$and": [{"deleted": False}, {"idx.family": {"$regex": r"a\.\*\(b"}},
                            {"idx.identifier": "$where|{}"}]}

    def keys(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                yield from keys(v)
        elif isinstance(node, list):
            for v in node:
                yield from keys(v)

    assert all(not k.startswith("$") or k in {"$and", "$or", "$nor", "$regex", "$in", "$exists"} for k in keys(flt))


def test_sort_spec_ends_with_id(registry):
    assert sort_spec(registry, "Patient", ()) == [("_id", 1)]
    assert sort_spec(registry, "Patient", (SortKey("birthdate", True), SortKey("_lastUpdated"))) == [
        ("idx.birthdate.lo", -1), ("ts", 1), ("_id", 1)]

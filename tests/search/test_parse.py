"""Parsing a search into a SearchRequest (search.parse, search.values).

Integration twin: tests/search/test_searching.py."""

from __future__ import annotations

import pytest

from search import paging
from search.errors import SearchError
from search.parse import Include
from search.parse import SortKey
from search.parse import parse
from search.values import DateValue
from search.values import QuantityValue
from search.values import TokenValue
from search.values import split_escaped
from search.values import unescape


def one(registry, type_, name, value):
    return parse(registry, [type_], [(name, value)]).criteria[type_][0]


def test_or_values_and_escapes(registry):
    c = one(registry, "Patient", "family", r"dupont,le\,roux")
    assert c.values == ("dupont", "le,roux")
    assert split_escaped(r"a\|b|c", "|") == [r"a\|b", "c"] and unescape(r"a\|b\\") == "a|b\\"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("male", TokenValue(None, "male", False)),
        ("http://s|male", TokenValue("http://s", "male", True)),
        ("|male", TokenValue(None, "male", True)),
        ("http://s|", TokenValue("http://s", None, True)),
        (r"urn:x|a\|b", TokenValue("urn:x", "a|b", True)),
    ],
)
def test_token_forms(registry, value, expected):
    assert one(registry, "Patient", "gender", value).values == (expected,)


@pytest.mark.parametrize("value, prefix", [("1980", "eq"), ("ge1980", "ge"), ("sa1980-01-02", "sa"), ("ap2020", "ap")])
def test_date_prefixes(registry, value, prefix):
    v = one(registry, "Patient", "birthdate", value).values[0]
    assert isinstance(v, DateValue) and v.prefix == prefix


def test_quantity(registry):
    v = one(registry, "Observation", "value-quantity", "gt5.4|http://unitsofmeasure.org|mg").values[0]
    assert v == QuantityValue("gt", 5.4, 5.35, 5.45, "http://unitsofmeasure.org", "mg")
    assert one(registry, "Observation", "value-quantity", "5.4").values[0].system is None


def test_chain_and_has(registry):
    c = one(registry, "DocumentReference", "subject:Patient.organization.name", "acme")
    assert c.chain[0][0] == "Patient" and c.chain[0][1].chain[0][0] == "Organization"
    untyped = one(registry, "DocumentReference", "subject.name", "x")
    assert {t for t, _ in untyped.chain} == {"Patient", "Practitioner"}  # targets having "name"
    h = one(registry, "Patient", "_has:DocumentReference:subject:_has:AuditEvent:entity:type", "rest")
    assert h.has.type == "DocumentReference" and h.has.inner.has.type == "AuditEvent"


def test_result_parameters(registry):
    req = parse(
        registry,
        ["Patient"],
        [
            ("_sort", "-birthdate,family"),
            ("_count", "5"),
            ("_page", paging.encode(10)),
            ("_include", "Patient:general-practitioner:Practitioner"),
            ("_revinclude:iterate", "DocumentReference:subject"),
            ("_total", "none"),
            ("_summary", "true"),
            ("_elements", "name,gender"),
        ],
    )
    assert req.sort == (SortKey("birthdate", True), SortKey("family", False))
    assert (req.count, req.offset, req.total, req.summary, req.elements) == (5, 10, "none", "true", ("name", "gender"))
    assert req.includes == (Include("Patient", "general-practitioner", "Practitioner", False),)
    assert req.revincludes == (Include("DocumentReference", "subject", None, True),)
    assert ("_page", paging.encode(10)) not in req.applied
    assert parse(registry, ["Patient"], [("_count", "100000")], max_count=50).count == 50


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("foo", "1", "Unknown search parameter 'foo'"),
        ("name:nope", "x", "Unsupported modifier ':nope'"),
        ("birthdate", "19800", "Invalid value '19800' for search parameter 'birthdate'"),
        ("birthdate", "xx1980", "Invalid value 'xx1980'"),
        ("gender", "a|b|c", "Invalid value 'a|b|c'"),
        ("name:missing", "maybe", "Invalid value 'maybe'"),
        ("_count", "-1", "Invalid value '-1' for search parameter '_count'"),
        ("_sort", "nope", "Invalid value 'nope' for search parameter '_sort'"),
        ("_include", "Patient:name", "Invalid value 'Patient:name'"),
        ("_summary", "maybe", "Invalid value 'maybe'"),
        ("_page", "garbage", "Invalid value 'garbage' for search parameter '_page'"),
        ("gender.name", "x", "not a reference parameter"),
        ("subject:Patient.foo", "x", "Unknown chained search parameter"),
        ("_has:Observation:nope:code", "x", "not a reference parameter of Observation"),
        ("a.b.c.d.e", "x", "Unknown search parameter"),
        ("general-practitioner.organization.partof.partof.name", "x", "limited to 3 levels"),
        ("_text", "x", "Unsupported search parameter '_text'"),
        ("identifier:of-type", "a|b", "Invalid value 'a|b'"),
        ("gender:of-type", "a|b|c", "applies to identifiers only"),
    ],
)
def test_errors_name_parameter_and_value(registry, name, value, fragment):
    type_ = "DocumentReference" if name.startswith("subject") else "Patient"
    with pytest.raises(SearchError) as err:
        parse(registry, [type_], [(name, value)])
    assert fragment in err.value.message
    assert err.value.param is not None


def test_lenient_ignores_unknown_only(registry):
    req = parse(registry, ["Patient"], [("foo", "1"), ("gender", "male"), ("_text", "x")], lenient=True)
    assert [n for n, _ in req.ignored] == ["foo", "_text"]
    assert req.applied == (("gender", "male"),)
    with pytest.raises(SearchError):
        parse(registry, ["Patient"], [("birthdate", "bad")], lenient=True)


def test_system_search_needs_common_parameters(registry):
    req = parse(registry, ["Patient", "Practitioner"], [("name", "x"), ("_lastUpdated", "gt2020")])
    assert set(req.criteria) == {"Patient", "Practitioner"}
    with pytest.raises(SearchError):
        parse(registry, ["Patient", "Organization"], [("birthdate", "1980")])

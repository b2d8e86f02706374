"""Result parameters end to end: _sort, _count and paging links, _total, _include /
_revinclude (:iterate, *), _summary, _elements, errors and lenient handling, find_matches,
and the one-query rule. Unit twins: test_parse.py, test_paging.py."""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest

from consent.predicate import ALLOW
from fhir_server import searchset
from fhir_server.errors import BadRequest
from fhir_server.storage import Scoped
from search import paging
from search.plan import Cmp
from search.plan import Refers
from search.plan import Value

from .conftest import as_sent
from .dataset import BASE


def links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


def follow(store, type_, url):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/{type_}"
    return store.bundle(type_, parse_qsl(parts.query))


def test_sort_several_keys_and_direction(loaded):
    assert loaded.ids("Patient", "_sort=birthdate") == [
        "Patient/p1",
        "Patient/p5",
        "Patient/p2",
        "Patient/p3",
        "Patient/p4",
    ]
    assert loaded.ids("Patient", "_sort=-birthdate") == [
        "Patient/p4",
        "Patient/p3",
        "Patient/p2",
        "Patient/p5",
        "Patient/p1",
    ]
    assert loaded.ids("Patient", "_sort=gender,-birthdate") == [
        "Patient/p5",
        "Patient/p3",
        "Patient/p1",
        "Patient/p2",
        "Patient/p4",
    ]  # missing first, then female…
    assert loaded.ids("Patient", "_sort=-_lastUpdated,_id")[:3] == ["Patient/p3", "Patient/p2", "Patient/p1"]
    assert loaded.ids("DocumentReference", "_sort=type") == [
        "DocumentReference/d2",
        "DocumentReference/d1",
        "DocumentReference/d3",
    ]  # ties by _id


def test_paging_walks_everything_once_with_exact_totals(loaded):
    first = loaded.bundle("Patient", "_sort=family&_count=2")
    assert first["total"] == 5 and len(first["entry"]) == 2
    rel = links(first)
    assert set(rel) == {"self", "first", "next", "last"}
    seen = [e["fullUrl"] for e in first["entry"]]
    page, pages = first, 1
    while "next" in links(page):
        page = follow(loaded, "Patient", links(page)["next"])
        assert page["total"] == 5
        assert "previous" in links(page)
        seen += [e["fullUrl"] for e in page["entry"]]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert seen == [f"{BASE}/{r}" for r in loaded.ids("Patient", "_sort=family&_count=50")]
    again = follow(loaded, "Patient", links(first)["next"])
    assert [e["fullUrl"] for e in again["entry"]] == seen[2:4]  # links are stable
    last = follow(loaded, "Patient", rel["last"])
    assert [e["fullUrl"] for e in last["entry"]] == seen[4:]


def test_links_carry_what_was_applied(loaded):
    b = loaded.bundle("Patient", "gender=female&_sort=-birthdate&_count=1")
    query = dict(parse_qsl(urlsplit(links(b)["next"]).query))
    assert query["gender"] == "female" and query["_sort"] == "-birthdate" and query["_count"] == "1"
    assert paging.decode(query["_page"]) == 1
    assert "_page" not in links(b)["self"]


def test_page_tokens_are_validated(loaded):
    with pytest.raises(BadRequest) as err:
        loaded.bundle("Patient", "_page=abc")
    assert "_page" in err.value.diagnostics and "'abc'" in err.value.diagnostics


def test_total_modes(loaded):
    none = loaded.bundle("Patient", "_total=none&_count=2")
    assert "total" not in none and "next" in links(none) and "last" not in links(none)
    assert loaded.bundle("Patient", "_total=estimate")["total"] == 5
    assert loaded.bundle("Patient", "_total=accurate")["total"] == 5
    count = loaded.bundle("Patient", "gender=female&_summary=count")
    assert count["total"] == 2 and count["entry"] == []
    assert loaded.bundle("Patient", "_count=0")["entry"] == []


def test_include_and_revinclude(loaded):
    b = loaded.bundle(
        "DocumentReference", "_id=d1&_include=DocumentReference:subject&_include=DocumentReference:author"
    )
    modes = {e["fullUrl"][len(BASE) + 1 :]: e["search"]["mode"] for e in b["entry"]}
    assert modes == {"DocumentReference/d1": "match", "Patient/p1": "include", "Practitioner/dr1": "include"}
    assert b["total"] == 1
    typed = loaded.ids("DocumentReference", "_id=d2&_include=DocumentReference:author:Practitioner", mode="include")
    assert typed == []  # d2's author is a Patient
    star = loaded.ids("DocumentReference", "_id=d1&_include=*", mode="include")
    assert sorted(star) == ["Patient/p1", "Practitioner/dr1"]
    rev = loaded.ids(
        "Patient", "_id=p1&_revinclude=DocumentReference:subject&_revinclude=AllergyIntolerance:patient", mode="include"
    )
    assert sorted(rev) == ["AllergyIntolerance/a1", "DocumentReference/d1", "DocumentReference/d2"]


def test_include_iterate(loaded):
    plain = loaded.ids(
        "DocumentReference", "_id=d1&_include=DocumentReference:subject&_include=Patient:organization", mode="include"
    )
    assert plain == ["Patient/p1"]  # Patient:organization only applies to matches without :iterate
    it = loaded.ids(
        "DocumentReference",
        "_id=d1&_include=DocumentReference:subject"
        "&_include:iterate=Patient:organization&_include:iterate=Organization:partof",
        mode="include",
    )
    assert it == ["Patient/p1", "Organization/org2", "Organization/org1"]
    rev = loaded.ids(
        "Organization",
        "_id=org2&_revinclude=Patient:organization&_revinclude:iterate=DocumentReference:subject",
        mode="include",
    )
    assert sorted(rev) == ["DocumentReference/d1", "DocumentReference/d2", "Patient/p1"]


def test_summary_and_elements(loaded):
    full = loaded.bundle("Patient", "_id=p1")["entry"][0]["resource"]
    true = loaded.bundle("Patient", "_id=p1&_summary=true")["entry"][0]["resource"]
    assert "name" in true and "telecom" in true and "contact" not in true
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in true["meta"][
        "tag"
    ]
    assert {"system": "http://t", "code": "vip"} in true["meta"]["tag"]
    assert "SUBSETTED" not in str(full)  # the stored resource is untouched
    doc = {**full, "text": {"status": "generated", "div": "<div>x</div>"}}
    from search.elements import shape

    assert set(shape(loaded.registry, "Patient", doc, "text", None)) == {"resourceType", "id", "meta", "text"}
    assert "text" not in shape(loaded.registry, "Patient", doc, "data", None)
    dr = loaded.bundle("DocumentReference", "_id=d1&_summary=text")["entry"][0]["resource"]
    assert set(dr) == {"resourceType", "id", "meta", "status", "content"}  # mandatory elements stay
    el = loaded.bundle("Patient", "_id=p3&_elements=birthDate,deceased")["entry"][0]["resource"]
    assert set(el) == {"resourceType", "id", "meta", "birthDate", "deceasedDateTime"}


def test_unknown_parameter_is_a_400_naming_it(loaded):
    with pytest.raises(BadRequest) as err:
        loaded.bundle("Patient", "foo=1")
    assert "'foo'" in err.value.diagnostics and err.value.issues[0]["expression"] == ["foo"]
    with pytest.raises(BadRequest) as err:
        loaded.bundle("Patient", "birthdate=1980-99")
    assert "'birthdate'" in err.value.diagnostics and "'1980-99'" in err.value.diagnostics


def test_lenient_ignores_and_says_so(loaded):
    b = loaded.bundle("Patient", "foo=1&gender=female", lenient=True)
    assert b["total"] == 2
    outcome = [e for e in b["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1 and outcome[0]["resource"]["resourceType"] == "OperationOutcome"
    assert "foo" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert "foo" not in links(b)["self"] and "gender=female" in links(b)["self"]


def test_find_matches(loaded):
    allow = Scoped(loaded.repo, lambda t: ALLOW)
    got = searchset.find_matches(allow, loaded.registry, "Patient", "family=dupont")
    assert [s.id for s in got] == ["p2"]  # the deleted one never matches
    two = searchset.find_matches(allow, loaded.registry, "Patient", [("gender", "female,male")], limit=2)
    assert len(two) == 2 and two[0].resource["resourceType"] == "Patient"
    with pytest.raises(BadRequest):
        searchset.find_matches(allow, loaded.registry, "Patient", "nope=1")


def test_instant_bound():
    assert searchset.instant_bound("2024-01-01T10:00:00+01:00", "_since") == "2024-01-01T09:00:00.000000Z"
    with pytest.raises(BadRequest):
        searchset.instant_bound("yesterday", "_since")


class Recorder:
    """A repository that records every read: (type, method, plan)."""

    def __init__(self, repo):
        self.repo, self.calls = repo, []

    def find(self, type_, where, policy_for, **kwargs):
        self.calls.append((type_, "find", where))
        return self.repo.find(type_, where, policy_for, **kwargs)

    def count(self, type_, where, policy_for):
        self.calls.append((type_, "count", where))
        return self.repo.count(type_, where, policy_for)

    def references(self, *args):
        return self.repo.references(*args)


def test_one_query_per_search(loaded):
    """A page is one statement; its total another with the very same plan, only when the page does not tell."""
    rec = Recorder(loaded.repo)
    allow = Scoped(rec, lambda t: ALLOW)  # type: ignore[arg-type]  # a recording proxy of the calls searches make
    b, _ = searchset.search(
        allow,
        loaded.registry,
        ["Patient"],
        [("name", "dup"), ("_sort", "family"), ("_count", "1")],
        BASE,
        path="Patient",
    )
    assert [(c, m) for c, m, _ in rec.calls] == [("Patient", "find"), ("Patient", "count")]
    assert rec.calls[0][2] == rec.calls[1][2]  # the count uses the very same plan
    assert b["total"] == 3
    rec.calls.clear()  # a partial first page is its own exact total: no count needed
    b, _ = searchset.search(allow, loaded.registry, ["Patient"], [("name", "dup")], BASE, path="Patient")
    assert [(c, m) for c, m, _ in rec.calls] == [("Patient", "find")] and b["total"] == 3
    rec.calls.clear()  # past the end: count
    far, _ = searchset.search(
        allow, loaded.registry, ["Patient"], [("name", "dup"), ("_page", paging.encode(10))], BASE, path="Patient"
    )
    assert far["total"] == 3 and far["entry"] == [] and [m for _, m, _ in rec.calls] == ["find", "count"]


def test_chains_and_has_run_inside_the_one_query(loaded):
    """A chain is a nested plan the adapter runs in the same query, under each type's policy."""
    rec = Recorder(loaded.repo)
    b, _ = searchset.search(
        Scoped(rec, lambda t: ALLOW),  # type: ignore[arg-type]  # a recording proxy, as above
        loaded.registry,
        ["DocumentReference"],
        [("subject:Patient.organization.name", "service")],
        BASE,
        path="DocumentReference",
    )
    assert [(c, m) for c, m, _ in rec.calls] == [("DocumentReference", "find")]
    assert rec.calls[0][2] == Refers(
        "subject",
        "Patient",
        Refers("organization", "Organization", Value("name", "string", Cmp("", "prefix", "service"))),
    )
    assert {e["resource"]["subject"]["reference"] for e in as_sent(b)["entry"]} == {"Patient/p1"} and b["total"] >= 1

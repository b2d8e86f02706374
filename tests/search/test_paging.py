"""Page tokens and links (search.paging). Integration twin: test_results.py."""

from __future__ import annotations

import pytest

from search import paging


@pytest.mark.parametrize("offset", [0, 1, 20, 123456])
def test_round_trip(offset):
    assert paging.decode(paging.encode(offset)) == offset


@pytest.mark.parametrize("bad", ["", "abc", "eyJ2IjoyLCJvIjoxfQ", paging.encode(5)[:-2] + "!!"])
def test_rejects(bad):
    with pytest.raises(ValueError):
        paging.decode(bad)


def test_links():
    got = {
        link["relation"]: link["url"]
        for link in paging.links("http://x/fhir", "Patient", (("name", "a b"),), 10, 10, 35, True)
    }
    assert got["self"].startswith("http://x/fhir/Patient?name=a+b&_count=10&_page=")
    assert got["first"] == "http://x/fhir/Patient?name=a+b&_count=10"
    assert paging.decode(got["next"].rsplit("=", 1)[1]) == 20
    assert got["previous"] == got["first"]
    assert paging.decode(got["last"].rsplit("=", 1)[1]) == 30
    system = paging.links("http://x/fhir", "", (("_type", "Patient"),), 5, 0, 3, False)
    assert [link["relation"] for link in system] == ["self", "first", "last"]
    assert system[0]["url"] == "http://x/fhir?_type=Patient&_count=5"

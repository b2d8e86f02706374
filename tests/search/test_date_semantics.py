"""Date prefixes on both adapters against the R4 definitions over ranges (search.html#prefix), for a
single-valued parameter and a multi-valued one (all parts on the same value), random values.

Reference semantics, with the stored value's range [lo, hi] and the search range [qlo, qhi]:
eq: contained; ne: not contained; gt: hi > qhi; lt: lo < qlo; ge: gt or eq; le: lt or eq;
sa: lo > qhi; eb: hi < qlo."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from search.normalize import date_range

from .conftest import ADAPTERS
from .conftest import Store
from .conftest import open_store

DATES = st.one_of(
    st.integers(1998, 2002).map(str),
    st.tuples(st.integers(1999, 2001), st.integers(1, 12)).map(lambda t: f"{t[0]}-{t[1]:02d}"),
    st.tuples(st.integers(1999, 2001), st.integers(1, 12), st.integers(1, 28)).map(
        lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"
    ),
    st.tuples(
        st.integers(2000, 2000),
        st.integers(12, 12),
        st.integers(31, 31),
        st.integers(0, 23),
        st.sampled_from(["Z", "+02:00", "-05:00"]),
    ).map(lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:00:00{t[4]}"),
)
PREFIXES = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]


def holds(prefix: str, lo: str, hi: str, qlo: str, qhi: str) -> bool:
    eq = lo >= qlo and hi <= qhi
    return {
        "eq": eq,
        "ne": not eq,
        "gt": hi > qhi,
        "lt": lo < qlo,
        "ge": hi > qhi or eq,
        "le": lo < qlo or eq,
        "sa": lo > qhi,
        "eb": hi < qlo,
    }[prefix]


@pytest.mark.parametrize("adapter", ADAPTERS)
@settings(max_examples=40, deadline=None)
@given(
    st.lists(DATES, min_size=1, max_size=6),
    st.lists(st.lists(DATES, min_size=1, max_size=3), min_size=1, max_size=4),
    st.sampled_from(PREFIXES),
    DATES,
)
def test_prefixes_match_the_definitions(adapter, registry, singles, multis, prefix, query):
    scratch = tempfile.TemporaryDirectory()
    store = Store(registry, open_store(adapter, Path(scratch.name)))
    try:
        store.load(
            *[
                {"resourceType": "Condition", "id": f"c{i}", "subject": {"reference": "Patient/x"}, "onsetDateTime": d}
                for i, d in enumerate(singles)
            ]
        )
        store.load(
            *[
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"a{i}",
                    "patient": {"reference": "Patient/x"},
                    "reaction": [{"manifestation": [{"text": "x"}], "onset": d} for d in ds],
                }
                for i, ds in enumerate(multis)
            ]
        )
        qlo, qhi = date_range(query)
        want_single = sorted(
            f"Condition/c{i}" for i, d in enumerate(singles) if holds(prefix, *date_range(d), qlo, qhi)
        )
        want_multi = sorted(
            f"AllergyIntolerance/a{i}"
            for i, ds in enumerate(multis)
            if any(holds(prefix, *date_range(d), qlo, qhi) for d in ds)
        )
        q = f"{prefix}{query}".replace("+", "%2B")
        assert sorted(store.ids("Condition", f"onset-date={q}&_count=100")) == want_single
        assert sorted(store.ids("AllergyIntolerance", f"onset={q}&_count=100")) == want_multi
    finally:
        store.close()
        scratch.cleanup()

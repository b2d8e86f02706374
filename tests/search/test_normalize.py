"""Normal forms (search.normalize): folding, date ranges by precision and time zone, numbers."""

from __future__ import annotations

import pytest

from search.normalize import MAX_INSTANT
from search.normalize import date_range
from search.normalize import fold
from search.normalize import number_range


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("Ébène", "ebene"),
        ("  DUPONT   Jean ", "dupont jean"),
        ("Çà et là", "ca et la"),
        ("Zoë", "zoe"),
        ("Ångström", "angstrom"),
        ("ﬁnal", "final"),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


@pytest.mark.parametrize(
    "value, lo, hi",
    [
        ("2020", "2020-01-01T00:00:00.000000Z", "2020-12-31T23:59:59.999999Z"),
        ("2020-02", "2020-02-01T00:00:00.000000Z", "2020-02-29T23:59:59.999999Z"),
        ("2021-02", "2021-02-01T00:00:00.000000Z", "2021-02-28T23:59:59.999999Z"),
        ("2020-12-31", "2020-12-31T00:00:00.000000Z", "2020-12-31T23:59:59.999999Z"),
        ("2020-06-01T10:00", "2020-06-01T10:00:00.000000Z", "2020-06-01T10:00:59.999999Z"),
        ("2020-06-01T10:00:05+02:00", "2020-06-01T08:00:05.000000Z", "2020-06-01T08:00:05.999999Z"),
        ("2020-12-31T23:30:00-01:00", "2021-01-01T00:30:00.000000Z", "2021-01-01T00:30:00.999999Z"),
        ("2020-06-01T10:00:05.12Z", "2020-06-01T10:00:05.120000Z", "2020-06-01T10:00:05.129999Z"),
        ("9999", "9999-01-01T00:00:00.000000Z", MAX_INSTANT),
    ],
)
def test_date_range(value, lo, hi):
    assert date_range(value) == (lo, hi)


@pytest.mark.parametrize(
    "bad", ["20", "2020-13", "2020-02-30", "2020-01-01T25:00:00Z", "2020-01-01T10:00:00+15:00", "x"]
)
def test_date_range_rejects(bad):
    with pytest.raises(ValueError):
        date_range(bad)


def test_fixed_width_sorts_as_text():
    """Lower bounds compared as strings order the instants in time, whatever the time zone or year."""
    values = ["2020-06-01T23:00:00-05:00", "2020-06-02T03:59:59Z", "0999-01-01", "2020-06-02"]
    los = [date_range(v)[0] for v in values]
    assert len({len(x) for x in los}) == 1
    in_time = ["0999-01-01", "2020-06-02", "2020-06-02T03:59:59Z", "2020-06-01T23:00:00-05:00"]
    assert sorted(values, key=lambda v: date_range(v)[0]) == in_time


@pytest.mark.parametrize(
    "text, lo, hi", [("100", 99.5, 100.5), ("100.00", 99.995, 100.005), ("1e2", 50, 150), ("0.5", 0.45, 0.55)]
)
def test_number_range(text, lo, hi):
    _, got_lo, got_hi = number_range(text)
    assert got_lo == pytest.approx(lo) and got_hi == pytest.approx(hi)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_number_rejects(bad):
    with pytest.raises(ValueError):
        number_range(bad)

"""Reading the few FHIR R4 JSON elements the consent rules need: codings, references, periods.

See https://hl7.org/fhir/R4/datatypes.html (Coding, CodeableConcept, Reference, Period, dateTime).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

#: a relative literal reference ``Type/id`` (optionally ``/_history/n``): the only form honoured
_REFERENCE = re.compile(r"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?")
_DATETIME = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def codings(value: object) -> Iterator[Mapping[str, Any]]:
    """Every Coding in a Coding, a CodeableConcept, or a list of either."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if "coding" in item:
            yield from (c for c in item["coding"] or [] if isinstance(c, Mapping))
        else:
            yield item


def codes(value: object, systems: frozenset[str]) -> list[str]:
    """The codes of ``value``'s codings whose system is one of ``systems``, in order, deduplicated."""
    found = [c["code"] for c in codings(value) if c.get("system") in systems and isinstance(c.get("code"), str)]
    return list(dict.fromkeys(found))


def reference(value: object) -> str | None:
    """``Type/id`` of a Reference holding a relative literal reference, else None.

    Absolute, contained (``#x``) and logical (identifier-only) references are not honoured: an
    access rule must never match on a reference this server cannot resolve to one of its own.
    """
    if not isinstance(value, Mapping):
        return None
    match = _REFERENCE.fullmatch(str(value.get("reference") or ""))
    return f"{match[1]}/{match[2]}" if match else None


def references(value: object) -> list[str]:
    """``Type/id`` of each honoured Reference in a Reference or a list of them, deduplicated."""
    items = value if isinstance(value, list) else [value]
    return list(dict.fromkeys(r for r in map(reference, items) if r is not None))


def _bounds(value: object) -> tuple[datetime, datetime] | None:
    """[first, next) instants covered by a FHIR date/dateTime/instant at its precision (UTC if no zone)."""
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    tz = UTC if zone in (None, "Z") else datetime.strptime(zone, "%z").tzinfo
    try:
        start = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        return None
    if month is None:
        return start, start.replace(year=start.year + 1)
    if day is None:
        following = start.replace(day=28) + timedelta(days=4)
        return start, following.replace(day=1)
    if hour is None:
        return start, start + timedelta(days=1)
    step = timedelta(microseconds=1) if fraction else timedelta(seconds=1) if second else timedelta(minutes=1)
    return start, start + step


def in_period(period: object, now: datetime) -> bool | None:
    """Whether ``now`` falls within a Period (bounds inclusive at their precision); None if unreadable."""
    if period is None:
        return True
    if not isinstance(period, Mapping):
        return None
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    start, end = period.get("start"), period.get("end")
    lower = _bounds(start) if start is not None else None
    upper = _bounds(end) if end is not None else None
    if (start is not None and lower is None) or (end is not None and upper is None):
        return None
    return (lower is None or lower[0] <= now) and (upper is None or now < upper[1])


def instant(moment: datetime) -> str:
    """``moment`` as a fixed-width UTC instant (``2026-11-20T13:00:00.000000Z``): sorts as a string."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_instant(value: object) -> str | None:
    """A FHIR date/dateTime/instant as a fixed-width UTC instant (its first moment), None if unreadable."""
    bounds = _bounds(value)
    return instant(bounds[0]) if bounds else None

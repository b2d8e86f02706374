"""Normal forms shared by index extraction and query compilation.

Strings fold case and accents (https://hl7.org/fhir/R4/search.html#string); dates become
``[lo, hi]`` ranges by precision, in UTC, as fixed-width ISO strings that sort as text
(https://hl7.org/fhir/R4/search.html#date); numbers carry their implicit precision range
(https://hl7.org/fhir/R4/search.html#number).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal
from decimal import InvalidOperation

__all__ = ["MAX_INSTANT", "MIN_INSTANT", "date_range", "fmt_instant", "fold", "number", "number_range"]

MIN_INSTANT = "0001-01-01T00:00:00.000000Z"
MAX_INSTANT = "9999-12-31T23:59:59.999999Z"

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_SPACES = re.compile(r"\s+")
#: letters NFKD does not decompose (ligatures and stroked letters)
_LETTERS = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "þ": "th",
        "Þ": "TH",
    }
)


def fold(text: str) -> str:
    """Lower case, accents removed (NFKD minus combining marks), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().lower()


def fmt_instant(moment: datetime) -> str:
    """A UTC instant as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (fixed width, sorts as text)."""
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def date_range(text: str) -> tuple[str, str]:
    """``[lo, hi]`` covering a FHIR date / dateTime / instant at its precision.

    A value without a time zone is read as UTC. Raises ValueError when malformed.
    """
    m = _DATE.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a FHIR date, dateTime or instant")
    g = m.groupdict()
    tz = UTC
    if g["tz"] and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        hours, minutes = int(g["tz"][1:3]), int(g["tz"][4:6])
        if hours > 14 or minutes > 59:
            raise ValueError(f"'{text}' has an invalid time zone")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year = int(g["y"])
    try:
        if g["m"] is None:
            lo = datetime(year, 1, 1, tzinfo=tz)
            hi = datetime(year + 1, 1, 1, tzinfo=tz) if year < 9999 else None
        elif g["d"] is None:
            month = int(g["m"])
            lo = datetime(year, month, 1, tzinfo=tz)
            ny, nm = _next_month(year, month)
            hi = datetime(ny, nm, 1, tzinfo=tz) if ny <= 9999 else None
        elif g["H"] is None:
            lo = datetime(year, int(g["m"]), int(g["d"]), tzinfo=tz)
            hi = lo + timedelta(days=1)
        else:
            second = int(g["S"] or 0)
            if second == 60:  # leap second: the schema allows it, datetime does not
                second = 59
            frac = g["f"] or ""
            micro = int((frac + "000000")[:6]) if frac else 0
            lo = datetime(year, int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), second, micro, tzinfo=tz)
            if g["S"] is None:
                step = timedelta(minutes=1)
            elif not frac:
                step = timedelta(seconds=1)
            else:
                step = timedelta(microseconds=10 ** max(0, 6 - len(frac)))
            hi = lo + step
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"'{text}' is not a valid date: {exc}") from None
    try:
        lo_s = fmt_instant(lo)
    except OverflowError:
        lo_s = MIN_INSTANT
    if hi is None:
        return lo_s, MAX_INSTANT
    try:
        hi_s = fmt_instant(hi - timedelta(microseconds=1))
    except OverflowError:
        hi_s = MAX_INSTANT
    return lo_s, hi_s


def number(text: str) -> Decimal:
    """A FHIR decimal from its text; raises ValueError."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not a finite number")
    return value


def number_range(text: str) -> tuple[float, float, float]:
    """(value, lo, hi): the implicit range of a search number by its significant figures
    (``100`` -> [99.5, 100.5), ``100.00`` -> [99.995, 100.005))."""
    value = number(text)
    exponent = value.as_tuple().exponent
    half = Decimal(5) * Decimal(10) ** (int(exponent) - 1) if isinstance(exponent, int) else Decimal(0)
    return float(value), float(value - half), float(value + half)

"""Search parameter values as written in a request, parsed by parameter type.

https://hl7.org/fhir/R4/search.html#escaping (``\\,`` ``\\$`` ``\\|``), #prefix, #token,
#date, #number, #quantity, #composite.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import normalize

__all__ = [
    "PREFIXES",
    "DateValue",
    "NumberValue",
    "OfTypeValue",
    "QuantityValue",
    "TokenValue",
    "split_escaped",
    "unescape",
]

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def split_escaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` not preceded by a backslash; the parts keep their escapes."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in ",$|\\":
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class TokenValue:
    """``code`` (any system), ``system|code``, ``|code`` (no system) or ``system|`` (code None)."""

    system: str | None
    code: str | None
    has_system: bool  # a ``|`` was written


@dataclass(frozen=True)
class OfTypeValue:
    type_system: str
    type_code: str
    value: str


@dataclass(frozen=True)
class DateValue:
    prefix: str
    lo: str
    hi: str


@dataclass(frozen=True)
class NumberValue:
    prefix: str
    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class QuantityValue:
    prefix: str
    value: float
    lo: float
    hi: float
    system: str | None
    code: str | None


Value = str | TokenValue | OfTypeValue | DateValue | NumberValue | QuantityValue | tuple[object, ...]


def _prefix(text: str) -> tuple[str, str]:
    if len(text) > 2 and text[:2] in PREFIXES and not text[2].isalpha():
        return text[:2], text[2:]
    return "eq", text


def token(text: str) -> TokenValue:
    parts = split_escaped(text, "|")
    if len(parts) == 1:
        code = unescape(parts[0])
        if not code:
            raise ValueError("an empty token")
        return TokenValue(None, code, False)
    if len(parts) != 2:
        raise ValueError("a token has at most one '|' (system|code)")
    system, value = unescape(parts[0]) or None, unescape(parts[1]) or None
    if system is None and value is None:
        raise ValueError("'|' alone is not a token")
    return TokenValue(system, value, True)


def of_type(text: str) -> OfTypeValue:
    parts = [unescape(p) for p in split_escaped(text, "|")]
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise ValueError(":of-type takes system|code|value")
    return OfTypeValue(parts[0], parts[1], parts[2])


def date(text: str) -> DateValue:
    prefix, rest = _prefix(text)
    lo, hi = normalize.date_range(rest)
    return DateValue(prefix, lo, hi)


def number(text: str) -> NumberValue:
    prefix, rest = _prefix(text)
    value, lo, hi = normalize.number_range(rest)
    return NumberValue(prefix, value, lo, hi)


def quantity(text: str) -> QuantityValue:
    parts = [unescape(p) for p in split_escaped(text, "|")]
    if len(parts) not in (1, 3):
        raise ValueError("a quantity is number or number|system|code")
    prefix, rest = _prefix(parts[0])
    value, lo, hi = normalize.number_range(rest)
    system = parts[1] or None if len(parts) == 3 else None
    code = parts[2] or None if len(parts) == 3 else None
    return QuantityValue(prefix, value, lo, hi, system, code)


def plain(text: str) -> str:
    value = unescape(text)
    if value == "":
        raise ValueError("an empty value")
    return value

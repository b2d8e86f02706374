"""A search as plain data: the backend-neutral plan each storage adapter translates into its query.

``compile`` turns parsed criteria into a ``Where`` tree; storage adapters (SQL tables, MongoDB
documents) translate it, always ANDing ``deleted = false`` and the consent policy of every type
they touch (main query, chain targets, ``_has`` sources, includes). Leaves name a search
value *key* (a parameter code, or ``code:x`` / ``code:t`` / ``code:ot`` / ``code:i`` for the
exact, text, of-type and identifier forms, ``search.extract``) and the *kind* of its values
(the parameter type), and hold a condition on one value: all of a ``Cond`` holds on the same
value (the same date range, the same quantity), as FHIR requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent.predicate import Predicate

__all__ = [
    "FALSE",
    "TRUE",
    "AllOf",
    "And",
    "Attr",
    "Cmp",
    "Column",
    "Cond",
    "Exists",
    "Not",
    "OneOf",
    "Or",
    "ReferredBy",
    "Refers",
    "SortBy",
    "Value",
    "Where",
    "all_of",
    "and_",
    "not_",
    "one_of",
    "or_",
]

#: comparison operators of a ``Cmp``
OPS = frozenset({"eq", "in", "lt", "le", "gt", "ge", "prefix", "contains", "word"})
#: kinds of search values, i.e. the search parameter types
KINDS = frozenset({"string", "token", "reference", "uri", "date", "number", "quantity", "composite"})


@dataclass(frozen=True)
class Cmp:
    """``part op value`` on one search value.

    ``part``: ``""`` the value itself (strings, numbers); ``lo``/``hi`` a date range's bounds;
    ``v``/``s``/``c``/``u`` a quantity's value, system, code, unit; ``"<n>"`` or ``"<n>.<sub>"``
    a composite's n-th component. ``op``: eq, in (value a tuple), lt, le, gt, ge, prefix
    (starts with), contains (substring), word (a word of the text starts with).
    """

    part: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    terms: tuple[Cond, ...]


@dataclass(frozen=True)
class OneOf:
    terms: tuple[Cond, ...]


Cond = Cmp | AllOf | OneOf


@dataclass(frozen=True)
class Value:
    """Some search value under ``key`` satisfies ``cond``; ``multi``: the parameter may hold
    several values of a structured kind (date, quantity, number)."""

    key: str
    kind: str
    cond: Cond
    multi: bool = False


@dataclass(frozen=True)
class Column:
    """A condition on a stored column: ``id`` (``_id``) or ``ts`` (``_lastUpdated``); date
    conditions name parts ``lo``/``hi``, both meaning the column."""

    name: str
    cond: Cond


@dataclass(frozen=True)
class Exists:
    """The resource has at least one value under ``key`` (``:missing=false``)."""

    key: str
    kind: str


@dataclass(frozen=True)
class Refers:
    """Chain: a reference under ``key`` names a live ``target`` resource matching ``where``
    (and the caller's policy on ``target``)."""

    key: str
    target: str
    where: Where


@dataclass(frozen=True)
class ReferredBy:
    """Reverse chain / include: a live ``source`` resource matching ``where`` (and the caller's
    policy on ``source``) names this resource under its reference ``key``."""

    source: str
    key: str
    where: Where


@dataclass(frozen=True)
class Attr:
    """A condition on the access attributes (``acl``), in the consent predicate language."""

    predicate: Predicate


@dataclass(frozen=True)
class And:
    terms: tuple[Where, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Where, ...]


@dataclass(frozen=True)
class Not:
    term: Where


Where = Value | Column | Exists | Refers | ReferredBy | Attr | And | Or | Not

TRUE: Where = And(())
FALSE: Where = Or(())


@dataclass(frozen=True)
class SortBy:
    """One sort key: a column (``id``, ``ts``) when ``kind`` is ``column``, else the smallest
    (ascending) or largest (descending) search value under ``key`` (a date's ``lo``, a
    quantity's ``v``)."""

    key: str
    kind: str
    descending: bool = False


def and_(*terms: Where) -> Where:
    """Conjunction, flattened, TRUE dropped, FALSE absorbing."""
    flat: list[Where] = []
    for term in terms:
        if term == FALSE:
            return FALSE
        flat.extend(term.terms if isinstance(term, And) else (term,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*terms: Where) -> Where:
    """Disjunction, flattened, FALSE dropped, TRUE absorbing."""
    flat: list[Where] = []
    for term in terms:
        if term == TRUE:
            return TRUE
        flat.extend(term.terms if isinstance(term, Or) else (term,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def not_(term: Where) -> Where:
    if term == TRUE:
        return FALSE
    if term == FALSE:
        return TRUE
    return term.term if isinstance(term, Not) else Not(term)


def all_of(*terms: Cond) -> Cond:
    flat: list[Cond] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, AllOf) else (term,))
    return flat[0] if len(flat) == 1 else AllOf(tuple(flat))


def one_of(*terms: Cond) -> Cond:
    flat: list[Cond] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, OneOf) else (term,))
    return flat[0] if len(flat) == 1 else OneOf(tuple(flat))


def matches(cond: Cond, value: Any) -> bool:
    """Whether one stored search value satisfies ``cond`` (the reference semantics adapters follow;
    SQLite evaluates composite values with it)."""
    if isinstance(cond, AllOf):
        return all(matches(t, value) for t in cond.terms)
    if isinstance(cond, OneOf):
        return any(matches(t, value) for t in cond.terms)
    held = _part(value, cond.part)
    return any(_compare(cond.op, h, cond.value) for h in (held if isinstance(held, list) else [held]))


def _part(value: Any, part: str) -> Any:
    for step in part.split(".") if part else ():
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _compare(op: str, held: Any, wanted: Any) -> bool:
    if held is None:
        return False
    if op == "eq":
        return bool(held == wanted)
    if op == "in":
        return held in wanted
    if op == "prefix":
        return isinstance(held, str) and held.startswith(wanted)
    if op == "contains":
        return isinstance(held, str) and wanted in held
    if op == "word":
        return isinstance(held, str) and (held.startswith(wanted) or f" {wanted}" in held)
    if type(held) is not type(wanted) and not (isinstance(held, (int, float)) and isinstance(wanted, (int, float))):
        return False
    return bool({"lt": held < wanted, "le": held <= wanted, "gt": held > wanted, "ge": held >= wanted}[op])

"""A tiny predicate language over a stored resource's ``acl`` attributes.

The consent engine returns one of these as its Policy; ``search`` compiles it into the database
query (ANDed with the search criteria), so counts and pages only ever cover what may be seen.
Paths are relative to the stored document's ``acl`` field (``"patients"``, ``"labels"``…).
Compilers map: ``AnyOf`` -> ``$in``; ``Empty`` -> absent, null or ``[]``; ``After`` -> ``$gt`` (a
string comparison); ``And``/``Or``/``Not`` -> ``$and``/``$or``/``$nor`` (``And(())`` matches all,
``Or(())`` nothing). See docs/contracts.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnyOf:
    """True when the attribute (a scalar or an array) holds at least one of ``values``."""

    path: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Empty:
    """True when the attribute is absent, null or an empty array."""

    path: str


@dataclass(frozen=True)
class After:
    """True when the attribute (a scalar, or any item of an array) is a string greater than ``instant``.

    Instants are fixed-width UTC strings (``consent.elements.instant``), so string order is time
    order; a missing, null or non-string value is never after anything.
    """

    path: str
    instant: str


@dataclass(frozen=True)
class And:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    term: Predicate


Predicate = AnyOf | Empty | After | And | Or | Not

ALLOW: Predicate = And(())
DENY: Predicate = Or(())


def evaluate(predicate: Predicate, acl: dict[str, object]) -> bool:
    """Evaluate ``predicate`` on one ``acl`` mapping (the reference semantics compilers follow)."""
    if isinstance(predicate, AnyOf):
        value = acl.get(predicate.path)
        held = value if isinstance(value, list) else [value]
        return any(v in predicate.values for v in held if v is not None)
    if isinstance(predicate, Empty):
        value = acl.get(predicate.path)
        return value is None or value == []
    if isinstance(predicate, After):
        value = acl.get(predicate.path)
        held = value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and v > predicate.instant for v in held)
    if isinstance(predicate, And):
        return all(evaluate(t, acl) for t in predicate.terms)
    if isinstance(predicate, Or):
        return any(evaluate(t, acl) for t in predicate.terms)
    return not evaluate(predicate.term, acl)


def and_(*terms: Predicate) -> Predicate:
    """Conjunction, flattened, with ALLOW terms dropped and DENY absorbing."""
    flat: list[Predicate] = []
    for term in terms:
        if term == DENY:
            return DENY
        flat.extend(term.terms if isinstance(term, And) else (term,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def or_(*terms: Predicate) -> Predicate:
    """Disjunction, flattened, with DENY terms dropped and ALLOW absorbing."""
    flat: list[Predicate] = []
    for term in terms:
        if term == ALLOW:
            return ALLOW
        flat.extend(term.terms if isinstance(term, Or) else (term,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))

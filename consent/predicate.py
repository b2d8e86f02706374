"""A tiny predicate language over a stored resource's ``acl`` attributes.

The consent engine returns one of these as its Policy; ``search`` compiles it into the database
query (ANDed with the search criteria), so counts and pages only ever cover what may be seen.
Paths are relative to the stored document's ``acl`` field (``"patients"``, ``"labels"``…).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


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
class And:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    terms: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    term: Predicate


Predicate = Union[AnyOf, Empty, And, Or, Not]

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
    if isinstance(predicate, And):
        return all(evaluate(t, acl) for t in predicate.terms)
    if isinstance(predicate, Or):
        return any(evaluate(t, acl) for t in predicate.terms)
    return not evaluate(predicate.term, acl)

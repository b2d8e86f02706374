"""Consent preview: who would gain and who would lose access to which items of a record if a
proposed Consent were saved (``decide`` on the current state against the state with it)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent.engine import Acl
from consent.engine import Matrix
from consent.engine import decide
from consent.engine import open_matrix
from consent.requester import Requester
from consent.state import PatientState
from consent.state import consent_directives


@dataclass(frozen=True)
class Change:
    """What one actor (a reference, or an emergency mode) would gain and lose: item refs, sorted."""

    actor: str
    gains: tuple[str, ...]
    loses: tuple[str, ...]


def compare(
    actors: Mapping[str, Requester],
    before: PatientState,
    after: PatientState,
    items: Mapping[str, Acl],
    *,
    matrix: Matrix = open_matrix,
    now: datetime | None = None,
) -> list[Change]:
    """The changes, per actor in key order, for the items (``Type/id`` -> acl); unchanged actors omitted."""
    changes = []
    for name in sorted(actors):
        requester, gains, loses = actors[name], list[str](), list[str]()
        for ref in sorted(items):
            was = decide(requester, before, items[ref], matrix=matrix, now=now).allowed
            will = decide(requester, after, items[ref], matrix=matrix, now=now).allowed
            if was != will:
                (gains if will else loses).append(ref)
        if gains or loses:
            changes.append(Change(name, tuple(gains), tuple(loses)))
    return changes


def named_actors(consents: Iterable[Mapping[str, Any]]) -> set[str]:
    """The actors (``Type/id``) the grants and blocks of these Consents name, whatever their periods."""
    return {
        directive.subject
        for consent in consents
        for kind, directive in consent_directives(consent, None)
        if kind in ("grant", "block")
    }

"""The consent-scoped handle: what request code reads the store through.

It binds one caller's policy (resource type -> consent predicate) and passes it to every read, so
the adapter ANDs it, with ``deleted = false``, into each query it runs, nested ones included.
Request code never gets a way to read resources without a policy; the server's own jobs
(timers, retention, reindex) use ``Scoped(repo, no_policy)`` by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.plan import SortBy
from search.plan import Where

from .port import PolicyFor
from .port import Repository
from .port import Stored


@dataclass(frozen=True)
class Scoped:
    """Reads of ``repo`` under ``policy_for``."""

    repo: Repository
    policy_for: PolicyFor

    def find(
        self,
        type_: str | None,
        where: Where,
        *,
        sort: tuple[SortBy, ...] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Stored]:
        return self.repo.find(type_, where, self.policy_for, sort=sort, offset=offset, limit=limit)

    def count(self, type_: str | None, where: Where) -> int:
        return self.repo.count(type_, where, self.policy_for)

    def history(
        self,
        type_: str | None,
        id_: str | None,
        since: str | None,
        offset: int,
        limit: int,
        *,
        at: tuple[str, str] | None = None,
    ) -> tuple[int, list[Stored]]:
        if at is None:
            return self.repo.history(type_, id_, since, self.policy_for, offset, limit)
        return self.repo.history(type_, id_, since, self.policy_for, offset, limit, at=at)

    def references(self, found: list[Stored], codes: list[str]) -> dict[str, list[str]]:
        """The reference values under ``codes`` of resources this caller was given (one type)."""
        if not found:
            return {}
        return self.repo.references(found[0].type, [s.id for s in found], codes)

"""The storage port: what the server asks of a store, whichever adapter serves it.

Two adapters implement ``Repository``: ``sqlite`` (embedded, the default) and ``mongo`` (pymongo,
``MONGODB_URI``). Every read of resources takes a ``policy_for`` (resource type -> consent
predicate) that the adapter ANDs, with ``deleted = false``, into every query it runs, nested ones
included; request code reaches a repository only through ``scoped.Scoped``, which binds the
caller's policy. Layout of each adapter: docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

import orjson

from consent.predicate import ALLOW
from consent.predicate import Predicate
from search.plan import SortBy
from search.plan import Where

from .blobs import Blob

__all__ = [
    "AclOf",
    "Blob",
    "Documents",
    "DuplicateKey",
    "Indexer",
    "PolicyFor",
    "Repository",
    "StoreUnavailable",
    "Stored",
    "no_policy",
]

#: resource type -> the consent predicate its reads go through
PolicyFor = Callable[[str], Predicate]
#: computes (idx, acl) for a resource about to be stored: its search values and access attributes;
#: called ``indexer(type, resource, context=acl_of)`` where ``acl_of("DocumentReference/x")`` gives
#: the current acl of the resource a Binary's securityContext names (None when absent)
Indexer = Callable[..., tuple[dict[str, Any], dict[str, Any]]]
#: reference -> the current access attributes of the resource it names, or None
AclOf = Callable[[str], "dict[str, Any] | None"]


class DuplicateKey(Exception):
    """An insert named a key that already exists."""


class StoreUnavailable(Exception):
    """The store cannot answer (down, locked, disk full): the request may be retried later."""


@dataclass(frozen=True)
class Stored:
    """One stored version: what read, vread, history and search serve.

    ``body`` is the resource as stored: JSON bytes (served as they are) or an already parsed dict.
    """

    type: str
    id: str
    vid: int
    ts: str
    deleted: bool
    body: bytes | dict[str, Any] = field(repr=False)
    acl: dict[str, Any] = field(default_factory=dict)
    method: str = "PUT"
    cacl: dict[str, Any] | None = None  # history: the current version's acl (both must allow)

    @property
    def resource(self) -> dict[str, Any]:
        """The resource as a dict (parsed once)."""
        if isinstance(self.body, bytes):
            object.__setattr__(self, "body", orjson.loads(self.body))
        return self.body  # type: ignore[return-value]

    def fragment(self) -> Any:
        """The resource to embed in a response body: the stored bytes as they are when unparsed."""
        return orjson.Fragment(self.body) if isinstance(self.body, bytes) else self.body

    def json(self) -> bytes:
        """The resource as JSON bytes."""
        return self.body if isinstance(self.body, bytes) else orjson.dumps(self.body)


class Documents(Protocol):
    """A small collection of server records (auth codes and tokens, emergency windows, export
    jobs), keyed by ``_id``: the subset of pymongo's Collection the server uses. Filters hold
    field equality (None matching a missing field), ``$in``, ``$lt``, ``$lte``, ``$gt``,
    ``$gte``; updates ``$set``. ``insert_many`` raises DuplicateKey for a used ``_id``."""

    def find_one(self, filter: Mapping[str, Any], projection: Any = None) -> dict[str, Any] | None: ...

    def find(self, filter: Mapping[str, Any], projection: Any = None) -> Iterable[dict[str, Any]]: ...

    def insert_many(self, docs: list[dict[str, Any]]) -> Any: ...

    def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False) -> Any: ...

    def update_many(self, filter: Mapping[str, Any], update: Mapping[str, Any]) -> Any: ...

    def find_one_and_update(self, filter: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def delete_one(self, filter: Mapping[str, Any]) -> Any: ...

    def delete_many(self, filter: Mapping[str, Any]) -> Any: ...

    def count_documents(self, filter: Mapping[str, Any]) -> int: ...

    def create_index(self, keys: Any) -> Any: ...


class Repository(Protocol):
    """Versioned FHIR resources, their search values and access attributes, and server records."""

    indexer: Indexer
    #: "sqlite" or "mongodb", for the CapabilityStatement and the logs
    kind: str

    def current(self, type_: str, id_: str) -> Stored | None:
        """The current version (a deletion included), whoever may see it: callers check."""

    def version(self, type_: str, id_: str, vid: int) -> Stored | None:
        """Version ``vid``, with ``cacl`` the current version's acl."""

    def history(
        self,
        type_: str | None,
        id_: str | None,
        since: str | None,
        policy_for: PolicyFor,
        offset: int,
        limit: int,
        *,
        at: tuple[str, str] | None = None,
    ) -> tuple[int, list[Stored]]:
        """Versions (of one resource, one type, or every type: each under its own type's policy),
        newest first, that the policy lets through on both their own and the current acl, and their
        count. ``at`` (lo, hi): only the versions current at some point of that period (``_at``)."""

    def find(
        self,
        type_: str | None,
        where: Where,
        policy_for: PolicyFor,
        *,
        sort: tuple[SortBy, ...] = (),
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Stored]:
        """Live resources of ``type_`` (None: every type) matching ``where`` and the policy, sorted
        by ``sort`` then id."""

    def count(self, type_: str | None, where: Where, policy_for: PolicyFor) -> int:
        """How many resources ``find`` would return without paging."""

    def references(self, type_: str, ids: list[str], codes: list[str]) -> dict[str, list[str]]:
        """Search code -> the reference values that the ``type_`` resources ``ids`` hold under it."""

    def write(
        self,
        type_: str,
        id_: str,
        resource: dict[str, Any] | None,
        *,
        method: str,
        expected_vid: int | None = None,
        must_exist: bool = False,
    ) -> Stored:
        """Store the next version (``resource`` None deletes) with its history, search values,
        access attributes and consent links, all or nothing. ``expected_vid``: If-Match (0:
        create); PreconditionFailed when stale."""

    def restore(self, versions: list[Stored]) -> None:
        """Store versions exactly as given (ids, version numbers, times; migrations, backups,
        tests), oldest first per resource, the last becoming current; search values and access
        attributes are computed anew, with the keys of each ``Stored.acl`` given overriding them."""

    def atomic(self) -> AbstractContextManager[None]:
        """Every write inside commits together, or none does (nested blocks join the outer one)."""

    def linked_records(self, actors: list[str]) -> set[str]:
        """The records (``Patient/id``) holding an item whose acl names one of ``actors``."""

    def types(self) -> list[str]:
        """The resource types that have stored resources."""

    def versions(self, type_: str) -> Iterator[Stored]:
        """Every stored version of ``type_``, by id then version (migrations, backups)."""

    def record_names(self) -> list[str]:
        """The names of the server-record collections that hold documents."""

    def reindex(self, type_: str) -> int:
        """Recompute search values, access attributes and links of every ``type_`` resource;
        returns how many changed."""

    def held(self, patient: str) -> dict[str, list[str]]:
        """Type -> ids of every item (deleted ones too) whose primary compartment is ``patient``."""

    def held_ids(self, type_: str) -> list[str]:
        """Every id of ``type_`` (deleted ones too)."""

    def count_versions(self, type_: str, ids: list[str]) -> int:
        """How many versions the history holds for these resources."""

    def purge(self, type_: str, ids: list[str]) -> None:
        """Erase resources with their whole history (retention)."""

    def documents(self, name: str) -> Documents:
        """The server-record collection ``name``."""

    def index(self, type_: str, resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(idx, acl) of ``resource`` as a write would store them now (a Binary's acl follows its
        securityContext DocumentReference, read here)."""

    def refresh(self, type_: str, id_: str) -> None:
        """Recompute the current version's search values (a DocumentReference's ``_content`` once
        the Binary it names holds content), in the current ``atomic()`` block when there is one."""

    def put_blob(self, key: str, chunks: Iterator[bytes]) -> tuple[int, bytes]:
        """Store content under ``key`` (replacing any), chunk by chunk, inside the current
        ``atomic()`` block when there is one; returns (size, SHA-1 digest)."""

    def open_blob(self, key: str) -> Blob | None:
        """The content stored under ``key``, read one chunk at a time; None when there is none."""

    def delete_blob(self, key: str) -> None:
        """Remove the content under ``key`` (nothing when absent)."""

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    def close(self) -> None: ...

    def drop(self) -> None:
        """Remove everything (tests)."""


def no_policy(resource_type: str) -> Predicate:
    """The policy of the server's own jobs (timers, retention, reindex): everything."""
    return ALLOW

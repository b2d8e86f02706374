"""Versioned resource storage on pymongo: a collection per type plus ``history``.

Layout: docs/contracts.md. Uniqueness lives in ``_id`` (history ``_id`` = ``Type/id/vid``): the
history insert of version n+1 is the optimistic-concurrency gate, since only one writer can
insert it; the current document is then replaced by ``_id`` alone (fast on every backend).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Callable

import pymongo
import pymongo.errors
from flask import Flask
from flask import current_app

from .errors import PreconditionFailed

HISTORY = "history"
#: actor reference -> the records (``Patient/id``) whose consent state that actor's requests load
LINKS = "links"
#: a pending history version older than this with no matching current document is an orphan
ORPHAN_SECONDS = 30.0
DUPLICATE_KEY = 11000


def now_instant() -> str:
    """The current time as a fixed-width FHIR instant (sorts as a string)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Stored:
    """One stored version: what read, vread and history serve."""

    type: str
    id: str
    vid: int
    ts: str
    deleted: bool
    resource: dict[str, Any]
    acl: dict[str, Any]
    method: str = "PUT"
    cacl: dict[str, Any] | None = None  # history only: the current version's acl

    @classmethod
    def from_current(cls, type_: str, doc: dict[str, Any]) -> Stored:
        return cls(type_, doc["_id"], doc["vid"], doc["ts"], doc["deleted"], doc["resource"], doc.get("acl", {}))

    @classmethod
    def from_history(cls, doc: dict[str, Any]) -> Stored:
        return cls(
            doc["type"], doc["id"], doc["vid"], doc["ts"], doc["deleted"], doc["resource"],
            doc.get("acl", {}), doc.get("method", "PUT"), doc.get("cacl"),
        )


#: the writes of the atomic block in progress: (type, id, new vid, previous current document)
Journal = list[tuple[str, str, int, dict[str, Any] | None]]
_journal: ContextVar[Journal | None] = ContextVar("carnet_journal", default=None)

#: computes (idx, acl) for a resource about to be stored
Indexer = Callable[[str, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]


def _is_duplicate(exc: pymongo.errors.PyMongoError) -> bool:
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        return True
    if isinstance(exc, pymongo.errors.BulkWriteError):
        return any(e.get("code") == DUPLICATE_KEY for e in exc.details.get("writeErrors", []))
    return False


class Store:
    """Versioned FHIR resources in one pymongo Database."""

    def __init__(
        self,
        client: Any,
        db: Any,
        indexer: Indexer,
        extra_indexes: Callable[[str], list[list[tuple[str, int]]]] = lambda type_: [],
    ) -> None:
        self.client = client
        self.db = db
        self.indexer = indexer
        self.extra_indexes = extra_indexes
        self._atomic_lock = threading.Lock()
        self._indexed: set[str] = set()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All the writes inside happen, or none: on any exception every write is undone.

        Blocks run one at a time. Undo restores each resource's previous current document and
        removes the versions written, so the store reads as before (R4 transaction semantics).
        """
        with self._atomic_lock:
            journal: Journal = []
            token = _journal.set(journal)
            try:
                yield
            except BaseException:
                self._undo(journal)
                raise
            finally:
                _journal.reset(token)

    def _undo(self, journal: Journal) -> None:
        for type_, id_, vid, previous in reversed(journal):
            if previous is None:
                self.db[type_].delete_one({"_id": id_})
            else:
                self.db[type_].replace_one({"_id": id_}, previous)
                self._propagate_acl(type_, id_, previous["vid"] + 1, previous.get("acl", {}))
            self.db[HISTORY].delete_one({"_id": f"{type_}/{id_}/{vid}"})

    def close(self) -> None:
        self.client.close()

    def collection(self, type_: str) -> Any:
        return self.db[type_]

    # reads ---------------------------------------------------------------------------------
    def current(self, type_: str, id_: str) -> Stored | None:
        doc = self.db[type_].find_one({"_id": id_}, {"idx": 0})
        return Stored.from_current(type_, doc) if doc else None

    def version(self, type_: str, id_: str, vid: int) -> Stored | None:
        doc = self.db[HISTORY].find_one({"_id": f"{type_}/{id_}/{vid}"})
        return Stored.from_history(doc) if doc else None

    def history(
        self, query: dict[str, Any], skip: int, limit: int
    ) -> tuple[int, list[Stored]]:
        """Versions matching ``query`` (type/id/ts/acl filters), newest first, and their count."""
        col = self.db[HISTORY]
        total = col.count_documents(query)
        cursor = col.find(query).sort([("ts", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)])
        return total, [Stored.from_history(d) for d in cursor.skip(skip).limit(limit)]

    # writes --------------------------------------------------------------------------------
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
        """Store a new version (``resource`` None deletes) and return it.

        ``expected_vid`` is the If-Match version (412 when stale); without it the write applies
        on top of whatever is current, retrying when another writer got in first.
        """
        self.ensure_indexes(type_)
        for attempt in range(50):
            # a create first just inserts (a duplicate key sends it to the lookup): the embedded
            # engine answers a lookup of an absent _id with a scan of the whole collection
            fresh = expected_vid == 0 and attempt == 0
            cur = None if fresh else self.db[type_].find_one({"_id": id_})
            vid = cur["vid"] if cur else 0
            if expected_vid is not None and vid != expected_vid:
                raise PreconditionFailed(
                    f"version conflict: {type_}/{id_} is at version {vid}, not {expected_vid}"
                )
            if must_exist and cur is None:
                raise LookupError(f"{type_}/{id_}")
            stored = self._next_version(type_, id_, vid + 1, resource, cur, method)
            if stored is not None:
                return stored
            if expected_vid is not None and not fresh:
                raise PreconditionFailed(f"version conflict: {type_}/{id_} was changed concurrently")
            if not fresh:
                time.sleep(0.005)
        raise PreconditionFailed(f"{type_}/{id_} is being changed by other requests; retry")

    def _next_version(
        self,
        type_: str,
        id_: str,
        vid: int,
        resource: dict[str, Any] | None,
        cur: dict[str, Any] | None,
        method: str,
    ) -> Stored | None:
        ts = now_instant()
        deleted = resource is None
        if deleted:
            assert cur is not None
            body = cur["resource"]
            idx, acl = cur.get("idx", {}), cur.get("acl", {})
        else:
            body = dict(resource)  # type: ignore[arg-type]
            body["id"] = id_
            meta = dict(body.get("meta") or {})
            meta["versionId"] = str(vid)
            meta["lastUpdated"] = ts
            body = {"resourceType": body["resourceType"], "id": id_, "meta": meta, **{
                k: v for k, v in body.items() if k not in ("resourceType", "id", "meta")
            }}
            idx, acl = self.indexer(type_, body)
        hist = {
            "_id": f"{type_}/{id_}/{vid}", "type": type_, "id": id_, "vid": vid, "ts": ts,
            "method": method, "deleted": deleted, "resource": body, "acl": acl, "cacl": acl,
        }
        try:
            self.db[HISTORY].insert_many([hist])
        except pymongo.errors.PyMongoError as exc:
            if not _is_duplicate(exc):
                raise
            self._clear_orphan(type_, id_, vid)
            return None
        doc = {"_id": id_, "vid": vid, "ts": ts, "deleted": deleted, "resource": body, "idx": idx, "acl": acl}
        try:
            if cur is None:
                self.db[type_].insert_many([doc])
            else:
                self.db[type_].replace_one({"_id": id_}, doc)
        except BaseException as exc:
            self.db[HISTORY].delete_one({"_id": hist["_id"]})
            if isinstance(exc, pymongo.errors.PyMongoError) and _is_duplicate(exc):
                return None  # the resource exists without that history version: look it up
            raise
        journal = _journal.get()
        if journal is not None:
            journal.append((type_, id_, vid, cur))
        if cur is not None and cur.get("acl") != acl:
            self._propagate_acl(type_, id_, vid, acl)
        if not deleted and (cur is None or _reach(cur.get("acl") or {}) != _reach(acl)):
            self.link(acl)
        return Stored(type_, id_, vid, ts, deleted, body, acl, method)

    def link(self, acl: dict[str, Any]) -> None:
        """Record that ``acl``'s actors reach its record. Links are never removed: a stale one only
        makes a request load a consent state that gives that actor nothing."""
        patient = acl.get("patient")
        if not patient:
            return
        for actor in acl.get("actors") or ():
            self.db[LINKS].update_one({"_id": actor}, {"$addToSet": {"records": patient}}, upsert=True)

    def _propagate_acl(self, type_: str, id_: str, vid: int, acl: dict[str, Any]) -> None:
        """Older versions take the current access attributes as ``cacl``: a version now hidden
        stays hidden in history and vread (DESIGN §5)."""
        for older in range(1, vid):
            self.db[HISTORY].update_one({"_id": f"{type_}/{id_}/{older}"}, {"$set": {"cacl": acl}})

    def _clear_orphan(self, type_: str, id_: str, vid: int) -> None:
        """Remove history version ``vid`` left by a writer that died before updating current."""
        hist = self.db[HISTORY].find_one({"_id": f"{type_}/{id_}/{vid}"}, {"ts": 1})
        cur = self.db[type_].find_one({"_id": id_}, {"vid": 1})
        if hist is None or (cur is not None and cur["vid"] >= vid):
            return
        age = datetime.now(UTC) - datetime.strptime(hist["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if age.total_seconds() > ORPHAN_SECONDS:
            self.db[HISTORY].delete_one({"_id": hist["_id"]})

    def ensure_indexes(self, type_: str) -> None:
        """Create a type collection's indexes, once per process, before its first write."""
        if type_ in self._indexed:
            return
        col = self.db[type_]
        col.create_index([("ts", 1)])
        for keys in self.extra_indexes(type_):
            col.create_index(keys)
        self._indexed.add(type_)

    def reindex(self, type_: str) -> int:
        """Recompute ``idx`` and ``acl`` of every stored ``type_`` resource (after an extraction
        change) and its actor links; returns how many documents were rewritten."""
        count = 0
        for doc in self.db[type_].find({}):
            idx, acl = self.indexer(type_, doc["resource"])
            if idx != doc.get("idx") or acl != doc.get("acl"):
                self.db[type_].replace_one({"_id": doc["_id"]}, {**doc, "idx": idx, "acl": acl})
                self._propagate_acl(type_, doc["_id"], doc["vid"] + 1, acl)
                count += 1
            if not doc.get("deleted"):
                self.link(acl)
        return count

    def ensure_history_indexes(self) -> None:
        hist = self.db[HISTORY]
        hist.create_index([("type", 1), ("id", 1), ("ts", -1)])
        hist.create_index([("type", 1), ("ts", -1)])


def _reach(acl: dict[str, Any]) -> tuple[Any, ...]:
    return acl.get("patient"), acl.get("actors")


# app wiring ----------------------------------------------------------------------------------
def open_client(config: dict[str, Any]) -> Any:
    """A pymongo client: MongoDB at MONGODB_URI, else the embedded store under DATA_DIR."""
    uri = config.get("MONGODB_URI")
    if uri:
        client: Any = pymongo.MongoClient(uri, tz_aware=True)
    else:
        from mongoeco import MongoClient
        from mongoeco.engines.sqlite import SQLiteEngine

        path = config.get("DATABASE_FILE") or ":memory:"
        client = MongoClient(SQLiteEngine(path))
    return client


@contextmanager
def opened_database(config: dict[str, Any]) -> Iterator[Any]:
    """The pymongo Database named by MONGODB_DATABASE, its client closed on exit (CLI commands)."""
    client = open_client(config)
    try:
        yield client[config.get("MONGODB_DATABASE", "carnet")]
    finally:
        client.close()


def init_app(
    app: Flask, indexer: Indexer, extra_indexes: Callable[[str], list[list[tuple[str, int]]]]
) -> Store:
    client = open_client(app.config)
    store = Store(client, client[app.config.get("MONGODB_DATABASE", "carnet")], indexer, extra_indexes)
    store.ensure_history_indexes()
    app.extensions["carnet.store"] = store
    return store


def get_store_of(app: Flask) -> Store:
    return app.extensions["carnet.store"]  # type: ignore[no-any-return]


def get_store() -> Store:
    return get_store_of(current_app)

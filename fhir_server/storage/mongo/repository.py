"""The MongoDB adapter (pymongo, ``MONGODB_URI``): a collection per type plus ``history``,
``links`` and the server-record collections; layout and indexes in docs/contracts.md and
docs/scaling.md.

Uniqueness lives in ``_id`` (history ``_id`` = ``Type/id/vid``): the history insert of version
n+1 is the optimistic-concurrency gate, since only one writer can insert it; the current document
is then replaced by ``_id`` alone.

Where the deployment runs multi-document transactions (replica set, mongos; ``sessions``), every
write (history, current, older versions' ``cacl``, links) is one transaction and ``atomic()`` is
one transaction for the whole block: a crash leaves all or nothing. On a standalone the server
refuses to start unless the operator accepts non-atomic bundles (``ACCEPT_NON_ATOMIC_BUNDLES``);
``atomic()`` then journals the writes of a block and undoes them on an exception, which a crash
of the process defeats.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import partial
from typing import Any

import pymongo
import pymongo.errors

from consent.predicate import ALLOW
from consent.predicate import DENY
from search.plan import SortBy
from search.plan import Where

from ... import search_bounds
from ...clock import instant
from ...clock import now
from ...errors import PreconditionFailed
from ..blobs import CHUNK_SIZE
from ..blobs import Blob
from ..blobs import ContentIndexing
from ..blobs import write_chunks
from ..port import DuplicateKey
from ..port import Indexer
from ..port import PolicyFor
from ..port import Stored
from ..port import StoreUnavailable
from .plans import NEVER
from .plans import Filter
from .plans import Translator
from .plans import and_
from .plans import or_
from .plans import policy_filter
from .plans import sort_spec
from .sessions import SessionDatabase
from .sessions import current_session
from .sessions import is_transient
from .sessions import supports_transactions
from .sessions import transaction
from .sessions import when_free

HISTORY = "history"
#: Binary content in GridFS's layout (pymongo's GridFSBucket refuses mongoeco's Database, so the
#: adapter writes the two collections itself; real MongoDB's GridFS tools read them)
FILES, CHUNKS = "fs.files", "fs.chunks"
_PROJECTION = {"idx": 0}
#: actor reference -> the records (``Patient/id``) whose consent state that actor's requests load
LINKS = "links"
#: a pending history version older than this with no matching current document is an orphan
ORPHAN_SECONDS = 30.0
DUPLICATE_KEY = 11000


#: the server-record collections (auth, emergency windows, jobs) next to the resource ones
RECORD_PREFIXES = ("auth_", "emergency_", "export_")


def from_current(type_: str, doc: dict[str, Any]) -> Stored:
    return Stored(type_, doc["_id"], doc["vid"], doc["ts"], doc["deleted"], doc["resource"], doc.get("acl", {}))


def from_history(doc: dict[str, Any]) -> Stored:
    return Stored(
        doc["type"],
        doc["id"],
        doc["vid"],
        doc["ts"],
        doc["deleted"],
        doc["resource"],
        doc.get("acl", {}),
        doc.get("method", "PUT"),
        doc.get("cacl"),
    )


#: the writes of the atomic block in progress: (type, id, new vid, previous current document)
Journal = list[tuple[str, str, int, dict[str, Any] | None]]
_journal: ContextVar[Journal | None] = ContextVar("carnet_journal", default=None)


def _is_duplicate(exc: pymongo.errors.PyMongoError) -> bool:
    if isinstance(exc, pymongo.errors.DuplicateKeyError):
        return True
    if isinstance(exc, pymongo.errors.BulkWriteError):
        return any(e.get("code") == DUPLICATE_KEY for e in exc.details.get("writeErrors", []))
    return False


class MongoRepository(ContentIndexing):
    """The ``Repository`` port on one pymongo Database."""

    kind = "mongodb"

    def __init__(
        self,
        client: Any,
        db: Any,
        indexer: Indexer,
        index_keys: Callable[[str], list[list[tuple[str, int]]]] = lambda type_: [[("ts", 1)]],
        transactions: bool | None = None,
    ) -> None:
        self.client = client
        self.raw_db = db
        self.db = SessionDatabase(db)
        #: whether writes and ``atomic()`` run as multi-document transactions (None: detect)
        self.transactions = supports_transactions(client, db) if transactions is None else transactions
        #: mongoeco runs one transaction at a time per engine: serialise them in this process
        self._serial = type(client).__module__.startswith("mongoeco")
        self._tx_lock = threading.RLock()
        self.indexer = indexer
        self.index_keys = index_keys
        self._atomic_lock = threading.Lock()
        self._indexed: set[str] = set()
        self.ensure_history_indexes()

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._serial:
            with self._tx_lock:
                yield
        else:
            yield

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All the writes inside happen, or none.

        With transactions: one multi-document transaction (nested blocks join it); reads inside
        see its writes. Without: blocks run one at a time, and undo restores each resource's previous
        current document and removes the versions written, so the store reads as before (R4
        transaction semantics).
        """
        if _journal.get() is not None or current_session.get() is not None:  # nested: part of the outer block
            yield
            return
        if self.transactions:
            with self._serialised(), transaction(self.client):
                yield
            return
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
            if type_ == FILES:  # content written in the block
                self.delete_blob(id_)
                continue
            if type_ == "DocumentReference":
                self._follow(f"{type_}/{id_}", (previous or {}).get("acl"))
            if previous is None:
                self.db[type_].delete_one({"_id": id_})
            else:
                self.db[type_].replace_one({"_id": id_}, previous)
                self._propagate_acl(type_, id_, previous["vid"] + 1, previous.get("acl", {}))
            self.db[HISTORY].delete_one({"_id": f"{type_}/{id_}/{vid}"})

    def close(self) -> None:
        self.client.close()

    # reads ---------------------------------------------------------------------------------
    def current(self, type_: str, id_: str) -> Stored | None:
        doc = self.db[type_].find_one({"_id": id_}, {"idx": 0})
        return from_current(type_, doc) if doc else None

    def version(self, type_: str, id_: str, vid: int) -> Stored | None:
        doc = self.db[HISTORY].find_one({"_id": f"{type_}/{id_}/{vid}"})
        return from_history(doc) if doc else None

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
        terms: list[Filter] = []
        if type_ is not None:
            terms.append({"type": type_})
            policy = policy_for(type_)
            terms += [policy_filter(policy, "acl"), policy_filter(policy, "cacl")]
        else:
            terms.append(self._every_type_policy(policy_for))
        if id_ is not None:
            terms.append({"id": id_})
        if since is not None:
            terms.append({"ts": {"$gte": since}})
        if at is not None:
            terms.append(self._current_during(type_, id_, at))
        query = and_(*terms)
        col = self.db[HISTORY]
        total = col.count_documents(query)
        cursor = col.find(query).sort([("ts", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)])
        return total, [from_history(d) for d in cursor.skip(offset).limit(limit)]

    def _every_type_policy(self, policy_for: PolicyFor) -> Filter:
        """System history: each version under its own type's policy, on its acl and the current
        one (an ``$or`` on ``type`` over the types stored)."""
        types = self.types()
        policies = {t: policy_for(t) for t in types}
        whole = [t for t in types if policies[t] == ALLOW]
        if len(whole) == len(types):
            return {}
        parts: list[Filter] = [{"type": {"$in": whole}}] if whole else []
        parts += [
            and_({"type": t}, policy_filter(p, "acl"), policy_filter(p, "cacl"))
            for t, p in policies.items()
            if p not in (ALLOW, DENY)
        ]
        return or_(*parts) if parts else NEVER

    def _current_during(self, type_: str | None, id_: str | None, at: tuple[str, str]) -> Filter:
        """Versions current at some point of ``[lo, hi]``: written by ``hi`` and not replaced by
        ``lo`` (the replaced ones are named from their successors, written by ``lo``)."""
        lo, hi = at
        scope: Filter = {"ts": {"$lte": lo}, "vid": {"$gt": 1}}
        if type_ is not None:
            scope["type"] = type_
        if id_ is not None:
            scope["id"] = id_
        replaced = [
            f"{d['type']}/{d['id']}/{d['vid'] - 1}"
            for d in self.db[HISTORY].find(scope, {"type": 1, "id": 1, "vid": 1})
        ]
        return and_({"ts": {"$lte": hi}}, {"_id": {"$nin": replaced}} if replaced else {})

    def _lookup(self, collection: str, filter: Filter, field: str | None) -> list[str]:
        """The ids (or reference values) a chain or _has matches, bounded (``search_bounds.MAX_FANOUT``)."""
        bound = search_bounds.MAX_FANOUT
        if field is None:
            out = [d["_id"] for d in self.db[collection].find(filter, {"_id": 1}).limit(bound + 1)]
        else:
            out = []
            for d in self.db[collection].find(filter, {f"idx.{field}": 1}).limit(bound + 1):
                values = (d.get("idx") or {}).get(field) or []
                out += [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]
        if len(out) > bound:
            raise search_bounds.TooCostly(
                f"a chained or _has criterion matches more than {bound} {collection} resources: narrow it"
            )
        return out

    def _collections(self, type_: str | None) -> list[str]:
        return [type_] if type_ is not None else self.types()

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
        out: list[Stored] = []
        for name in self._collections(type_):
            self.ensure_indexes(name)
            flt = Translator(policy_for, self._lookup).live(name, where)
            if flt == NEVER:
                continue
            cursor = self.db[name].find(flt, _PROJECTION).sort(sort_spec(sort))
            if type_ is not None and offset:
                cursor = cursor.skip(offset)
            if type_ is not None and limit is not None:  # mongoeco reads limit(0) as "none", not "all"
                cursor = cursor.limit(limit)
            out += [from_current(name, d) for d in cursor]
        return out

    def count(self, type_: str | None, where: Where, policy_for: PolicyFor) -> int:
        total = 0
        for name in self._collections(type_):
            flt = Translator(policy_for, self._lookup).live(name, where)
            total += 0 if flt == NEVER else self.db[name].count_documents(flt)
        return total

    def references(self, type_: str, ids: list[str], codes: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if not ids or not codes:
            return out
        projection = {f"idx.{code}": 1 for code in codes}
        for doc in self.db[type_].find({"_id": {"$in": ids}}, projection):
            idx = doc.get("idx") or {}
            for code in codes:
                values = idx.get(code) or []
                out.setdefault(code, []).extend(
                    v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)
                )
        return {code: sorted(values) for code, values in out.items()}

    def linked_records(self, actors: list[str]) -> set[str]:
        if not actors:
            return set()
        return {ref for doc in self.db[LINKS].find({"_id": {"$in": actors}}) for ref in doc["records"]}

    def types(self) -> list[str]:
        names = set(self.db.list_collection_names()) - {HISTORY, LINKS}
        return sorted(n for n in names if not n.startswith(RECORD_PREFIXES) and n[:1].isupper())

    def held(self, patient: str) -> dict[str, list[str]]:
        held = {
            name: [d["_id"] for d in self.db[name].find({"acl.patient": patient}, {"_id": 1}).sort("_id", 1)]
            for name in self.types()
        }
        return {name: ids for name, ids in held.items() if ids}

    def held_ids(self, type_: str) -> list[str]:
        return [d["_id"] for d in self.db[type_].find({}, {"_id": 1}).sort("_id", 1)]

    def count_versions(self, type_: str, ids: list[str]) -> int:
        return int(self.db[HISTORY].count_documents({"type": type_, "id": {"$in": ids}}))

    def versions(self, type_: str) -> Iterator[Stored]:
        for doc in self.db[HISTORY].find({"type": type_}).sort([("id", 1), ("vid", 1)]):
            yield from_history(doc)

    def record_names(self) -> list[str]:
        return sorted(n for n in self.db.list_collection_names() if n.startswith(RECORD_PREFIXES))

    def purge(self, type_: str, ids: list[str]) -> None:
        with self.atomic():
            self._purge(type_, ids)

    def _purge(self, type_: str, ids: list[str]) -> None:
        for id_ in ids:
            for doc in self.db[FILES].find({"holder": f"{type_}/{id_}"}, {"_id": 1}):
                self.delete_blob(doc["_id"])
        self.db[HISTORY].delete_many({"type": type_, "id": {"$in": ids}})
        self.db[type_].delete_many({"_id": {"$in": ids}})

    def documents(self, name: str) -> MongoDocuments:
        return MongoDocuments(self.db[name])

    def ping(self) -> None:
        try:
            when_free(lambda: self.raw_db.command("ping"))
        except pymongo.errors.PyMongoError as exc:
            raise StoreUnavailable(f"MongoDB does not answer: {type(exc).__name__}") from exc

    def drop(self) -> None:
        self.client.drop_database(self.raw_db.name)

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
        if not self.transactions:
            return self._write(type_, id_, resource, method, expected_vid, must_exist)
        if current_session.get() is not None:  # inside atomic(): a conflict fails the whole block
            stored = self._attempt(type_, id_, resource, method, expected_vid, must_exist, 0)
            if stored is None:
                raise PreconditionFailed(f"version conflict: {type_}/{id_} was changed concurrently")
            return stored
        for attempt in range(50):
            try:
                with self._serialised(), transaction(self.client):
                    stored = self._attempt(type_, id_, resource, method, expected_vid, must_exist, attempt)
                    if stored is None:
                        raise _Conflict
                return stored
            except _Conflict:
                if expected_vid not in (None, 0):
                    raise PreconditionFailed(f"version conflict: {type_}/{id_} was changed concurrently") from None
            except Exception as exc:
                if not is_transient(exc):
                    raise
            time.sleep(0.005 * (attempt + 1))
        raise PreconditionFailed(f"{type_}/{id_} is being changed by other requests; retry")

    def _attempt(
        self,
        type_: str,
        id_: str,
        resource: dict[str, Any] | None,
        method: str,
        expected_vid: int | None,
        must_exist: bool,
        attempt: int,
    ) -> Stored | None:
        """One try inside a transaction: the new version, or None when another writer got in first."""
        fresh = expected_vid == 0 and attempt == 0
        cur = None if fresh else self.db[type_].find_one({"_id": id_})
        vid = cur["vid"] if cur else 0
        if expected_vid is not None and vid != expected_vid:
            raise PreconditionFailed(f"version conflict: {type_}/{id_} is at version {vid}, not {expected_vid}")
        if must_exist and cur is None:
            raise LookupError(f"{type_}/{id_}")
        return self._next_version(type_, id_, vid + 1, resource, cur, method)

    def _write(
        self,
        type_: str,
        id_: str,
        resource: dict[str, Any] | None,
        method: str,
        expected_vid: int | None,
        must_exist: bool,
    ) -> Stored:
        """A write without transactions: the history insert is the gate, retried on a race."""
        for attempt in range(50):
            # a create first just inserts (a duplicate key sends it to the lookup): the embedded
            # engine answers a lookup of an absent _id with a scan of the whole collection
            fresh = expected_vid == 0 and attempt == 0
            cur = None if fresh else self.db[type_].find_one({"_id": id_})
            vid = cur["vid"] if cur else 0
            if expected_vid is not None and vid != expected_vid:
                raise PreconditionFailed(f"version conflict: {type_}/{id_} is at version {vid}, not {expected_vid}")
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
        ts = instant()
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
            body = {
                "resourceType": body["resourceType"],
                "id": id_,
                "meta": meta,
                **{k: v for k, v in body.items() if k not in ("resourceType", "id", "meta")},
            }
            idx, acl = self.index(type_, body)
        hist = {
            "_id": f"{type_}/{id_}/{vid}",
            "type": type_,
            "id": id_,
            "vid": vid,
            "ts": ts,
            "method": method,
            "deleted": deleted,
            "resource": body,
            "acl": acl,
            "cacl": acl,
        }
        in_tx = current_session.get() is not None
        try:
            self.db[HISTORY].insert_many([hist])
        except pymongo.errors.PyMongoError as exc:
            if not _is_duplicate(exc):
                raise
            if not in_tx:  # in a transaction the duplicate aborted it: no orphan can exist anyway
                self._clear_orphan(type_, id_, vid)
            return None
        doc = {"_id": id_, "vid": vid, "ts": ts, "deleted": deleted, "resource": body, "idx": idx, "acl": acl}
        try:
            if cur is None:
                self.db[type_].insert_many([doc])
            else:
                self.db[type_].replace_one({"_id": id_}, doc)
        except BaseException as exc:
            if not in_tx:  # a transaction's abort removes it
                self.db[HISTORY].delete_one({"_id": hist["_id"]})
            if isinstance(exc, pymongo.errors.PyMongoError) and _is_duplicate(exc):
                return None  # the resource exists without that history version: look it up
            raise
        journal = _journal.get()
        if journal is not None:
            journal.append((type_, id_, vid, cur))
        if cur is not None and cur.get("acl") != acl:
            self._propagate_acl(type_, id_, vid, acl)
        if type_ == "DocumentReference" and (cur is None or cur.get("acl") != acl):
            self._follow(f"{type_}/{id_}", acl)
        if not deleted and (cur is None or _reach(cur.get("acl") or {}) != _reach(acl)):
            self.link(acl)
        return Stored(type_, id_, vid, ts, deleted, body, acl, method)

    def restore(self, versions: list[Stored]) -> None:
        for type_ in {v.type for v in versions}:
            self.ensure_indexes(type_)
        with self.atomic():
            self._restore(versions)

    def _restore(self, versions: list[Stored]) -> None:
        for version in versions:
            idx, acl = self.index(version.type, version.resource)
            acl = {**acl, **version.acl}
            hid = f"{version.type}/{version.id}/{version.vid}"
            self.db[HISTORY].replace_one(
                {"_id": hid},
                {
                    "_id": hid,
                    "type": version.type,
                    "id": version.id,
                    "vid": version.vid,
                    "ts": version.ts,
                    "method": version.method,
                    "deleted": version.deleted,
                    "resource": version.resource,
                    "acl": acl,
                    "cacl": acl,
                },
                upsert=True,
            )
            doc = {
                "_id": version.id,
                "vid": version.vid,
                "ts": version.ts,
                "deleted": version.deleted,
                "resource": version.resource,
                "idx": {} if version.deleted else idx,
                "acl": acl,
            }
            self.db[version.type].replace_one({"_id": version.id}, doc, upsert=True)
            self._propagate_acl(version.type, version.id, version.vid, acl)
            if not version.deleted:
                self.link(acl)

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
        if hist["ts"] < instant(now() - timedelta(seconds=ORPHAN_SECONDS)):
            self.db[HISTORY].delete_one({"_id": hist["_id"]})

    # Binary content and the consent it follows ---------------------------------------------------
    def _acl_of(self, ref: str) -> dict[str, Any] | None:
        type_, _, id_ = ref.partition("/")
        doc = self.db[type_].find_one({"_id": id_}, {"acl": 1})
        return doc.get("acl") if doc else None

    def _follow(self, ref: str, acl: dict[str, Any] | None) -> None:
        """The Binaries whose securityContext is ``ref`` take its acl (None: the document is gone),
        their every version too (``acl`` and ``cacl``)."""
        for doc in self.db["Binary"].find({"acl.context": ref}, {"resource": 1}):
            _, followed = self.indexer("Binary", doc["resource"], context=lambda _: acl)
            self.db["Binary"].update_one({"_id": doc["_id"]}, {"$set": {"acl": followed}})
            self._binary_history_acl(doc["_id"], followed)
            self.link(followed)

    def _binary_history_acl(self, id_: str, acl: dict[str, Any]) -> bool:
        """Every version of Binary ``id_`` takes ``acl`` (its document's) as ``acl`` and ``cacl``;
        whether one held other attributes."""
        held = {"type": "Binary", "id": id_, "$or": [{"acl": {"$ne": acl}}, {"cacl": {"$ne": acl}}]}
        return bool(self.db[HISTORY].update_many(held, {"$set": {"acl": acl, "cacl": acl}}).modified_count)

    def refresh(self, type_: str, id_: str) -> None:
        doc = self.db[type_].find_one({"_id": id_})
        if doc is None or doc.get("deleted"):
            return
        idx, _ = self.index(type_, doc["resource"])
        if idx != doc.get("idx"):
            self.db[type_].update_one({"_id": id_}, {"$set": {"idx": idx}})

    def put_blob(self, key: str, chunks: Iterator[bytes]) -> tuple[int, bytes]:
        self.delete_blob(key)
        size, digest = write_chunks(
            chunks,
            lambda n, data: self.db[CHUNKS].insert_one({"_id": f"{key}#{n}", "files_id": key, "n": n, "data": data}),
        )
        # the file document last (as GridFS): a crash mid-way leaves chunks no file names
        self.db[FILES].insert_one(
            {
                "_id": key,
                "filename": key,
                "holder": key.rsplit("/", 1)[0],
                "length": size,
                "chunkSize": CHUNK_SIZE,
                "uploadDate": now(),
                "sha1": digest.hex(),
            }
        )
        journal = _journal.get()
        if journal is not None:
            journal.append((FILES, key, 0, None))
        return size, digest

    def open_blob(self, key: str) -> Blob | None:
        meta = self.db[FILES].find_one({"_id": key})
        if meta is None:
            return None
        count = max(1, -(-int(meta["length"]) // int(meta.get("chunkSize") or CHUNK_SIZE)))

        def chunks() -> Iterator[bytes]:
            for n in range(count):
                doc = self.db[CHUNKS].find_one({"_id": f"{key}#{n}"})
                if doc is None:
                    raise StoreUnavailable(f"content {key} was removed while being read")
                yield bytes(doc["data"])

        return Blob(int(meta["length"]), chunks())

    def delete_blob(self, key: str) -> None:
        self.db[FILES].delete_one({"_id": key})
        self.db[CHUNKS].delete_many({"files_id": key})

    def ensure_indexes(self, type_: str) -> None:
        """Create a type collection's indexes, once per process, before its first write."""
        if type_ in self._indexed or current_session.get() is not None:
            return  # inside a transaction: created by the next write or search outside one
        for keys in self.index_keys(type_):
            when_free(partial(self.raw_db[type_].create_index, keys))
        self._indexed.add(type_)

    def reindex(self, type_: str) -> int:
        """Recompute ``idx`` and ``acl`` of every stored ``type_`` resource (after an extraction
        change) and its actor links; returns how many documents were rewritten."""
        count = 0
        for doc in self.db[type_].find({}):
            idx, acl = self.index(type_, doc["resource"])
            stale = idx != doc.get("idx") or acl != doc.get("acl")
            if stale:
                self.db[type_].replace_one({"_id": doc["_id"]}, {**doc, "idx": idx, "acl": acl})
                self._propagate_acl(type_, doc["_id"], doc["vid"] + 1, acl)
            if type_ == "Binary":  # every version holds its document's attributes, as _follow leaves them
                stale = self._binary_history_acl(doc["_id"], acl) or stale
            count += stale
            if not doc.get("deleted"):
                self.link(acl)
        return count

    def ensure_history_indexes(self) -> None:
        """The history's indexes (instance and type history by time)."""
        hist = self.raw_db[HISTORY]
        when_free(lambda: hist.create_index([("type", 1), ("id", 1), ("ts", -1)]))
        when_free(lambda: hist.create_index([("type", 1), ("ts", -1)]))
        when_free(lambda: self.raw_db[CHUNKS].create_index([("files_id", 1), ("n", 1)]))
        when_free(lambda: self.raw_db[FILES].create_index([("holder", 1)]))


class _Conflict(Exception):
    """Another writer got the version first: the transaction is retried from the start."""


def _reach(acl: dict[str, Any]) -> tuple[Any, ...]:
    return acl.get("patient"), acl.get("actors")


class MongoDocuments:
    """A pymongo collection as ``port.Documents``: duplicate keys raise ``DuplicateKey``."""

    def __init__(self, collection: Any):
        self.collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)

    def insert_many(self, docs: list[dict[str, Any]]) -> Any:
        try:
            return self.collection.insert_many(docs)
        except pymongo.errors.PyMongoError as exc:
            if _is_duplicate(exc):
                raise DuplicateKey(str(exc)) from None
            raise


def open_client(uri: str) -> Any:
    """A pymongo client for ``uri``; ``mongoeco://[file]`` opens mongoeco's embedded engine in
    process (the MongoDB stand-in the test suite runs this adapter on; a test dependency)."""
    if uri and uri.startswith("mongoeco://"):
        from mongoeco import MongoClient
        from mongoeco.engines.sqlite import SQLiteEngine

        return MongoClient(SQLiteEngine(uri.removeprefix("mongoeco://") or ":memory:"))
    # a store that does not answer fails a request in seconds (503), not after pymongo's 30 s
    options: dict[str, Any] = {}
    if "serverselectiontimeoutms" not in uri.lower():
        options["serverSelectionTimeoutMS"] = 5000
    return pymongo.MongoClient(uri, tz_aware=True, **options)

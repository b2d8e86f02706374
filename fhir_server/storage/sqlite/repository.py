"""The embedded adapter: versioned resources in one SQLite file (WAL), searched through B-tree
indexes on the search value tables (``schema``), consent inside every statement (``plans``).

Connections are per thread (gunicorn's gthread workers, several worker processes on one file);
a write and everything it implies (history, search values, access attributes, links) commit in
one SQL transaction, and ``atomic()`` widens that transaction to a whole Bundle: a crash at any
point leaves all or nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson

from consent.predicate import ALLOW
from consent.predicate import DENY
from search.plan import TRUE
from search.plan import SortBy
from search.plan import Where

from ...clock import instant
from ...errors import PreconditionFailed
from ..blobs import Blob
from ..blobs import ContentIndexing
from ..blobs import write_chunks
from ..port import Indexer
from ..port import PolicyFor
from ..port import Stored
from ..port import StoreUnavailable
from .documents import SqliteDocuments
from .failures import guarded
from .failures import unavailable
from .group import GroupCommit
from .plans import Translator
from .plans import carnet_match
from .schema import ACL_COLUMNS
from .schema import SEARCH_TABLES
from .schema import STATEMENTS
from .schema import VERSION

BUSY_TIMEOUT_MS = 30_000
_COLUMNS = "r.type, r.id, r.vid, r.ts, r.deleted, r.body, r.acl"


def search_rows(type_: str, idx: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The child-table rows (without rid) of a resource's search values, by table.

    ``code:p`` prefix lists are MongoDB's starts-with aid; here a range on the folded value does it.
    """
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in SEARCH_TABLES}
    for key, held in idx.items():
        if key.endswith(":p"):
            continue
        for value in held if isinstance(held, list) else [held]:
            if isinstance(value, str):
                rows["sp_text"].append((type_, key, value))
            elif isinstance(value, bool):
                rows["sp_text"].append((type_, key, "true" if value else "false"))
            elif isinstance(value, (int, float)):
                rows["sp_number"].append((type_, key, float(value)))
            elif isinstance(value, dict) and "lo" in value and "hi" in value:
                rows["sp_range"].append((type_, key, value["lo"], value["hi"]))
            elif isinstance(value, dict) and "v" in value:
                rows["sp_quantity"].append((type_, key, value["v"], value.get("s"), value.get("c"), value.get("u")))
            elif isinstance(value, dict):
                rows["sp_composite"].append((type_, key, orjson.dumps(value).decode()))
    return rows


def acl_rows(acl: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, value) rows of the list-valued access attributes."""
    out: list[tuple[str, str]] = []
    for path, held in acl.items():
        if path in ACL_COLUMNS or path == "type":
            continue
        for value in held if isinstance(held, list) else [held]:
            if isinstance(value, str):
                out.append((path, value))
    return sorted(set(out))


def _scalars(acl: dict[str, Any]) -> tuple[str | None, ...]:
    """The scalar access attributes as columns: strings, else NULL (``After`` holds on strings only)."""
    return tuple(v if isinstance(v := acl.get(c), str) else None for c in ACL_COLUMNS)


def _stored(row: sqlite3.Row | tuple[Any, ...], method: str = "PUT", cacl: str | None = None) -> Stored:
    type_, id_, vid, ts, deleted, body, acl = row[:7]
    return Stored(
        type_,
        id_,
        vid,
        ts,
        bool(deleted),
        bytes(body),
        orjson.loads(acl),
        method,
        orjson.loads(cacl) if cacl is not None else None,
    )


@guarded
class SqliteRepository(ContentIndexing):
    """The ``Repository`` port on SQLite. Transient failures (busy, disk full, I/O) raise
    ``StoreUnavailable`` (``failures``) and roll the transaction back."""

    kind = "sqlite"

    def __init__(self, path: str, indexer: Indexer, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.indexer = indexer
        self.busy_timeout_ms = busy_timeout_ms
        self._scratch = None
        if path == ":memory:":  # a throw-away store: a file in a temporary folder, gone on close
            self._scratch = tempfile.TemporaryDirectory(prefix="carnet-")
            path = str(Path(self._scratch.name) / "carnet.db")
        self.path = path
        self._local = threading.local()
        self._group = GroupCommit(self._transaction)
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with self._transaction() as conn:
            for statement in STATEMENTS:
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(VERSION),))

    # connections and transactions -------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout_ms / 1000
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            conn.create_function("carnet_match", 2, carnet_match, deterministic=True)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the embedded store at {self.path} cannot be opened: {exc}") from exc
        with self._lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.depth = 0
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: one writer at a time, across processes);
        nested blocks join the outer one."""
        conn = self.conn
        depth = self._local.depth
        if depth:
            self._local.depth = depth + 1
            try:
                yield conn
            finally:
                self._local.depth = depth
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise (unavailable(exc) or exc) from exc
        self._local.depth = 1
        try:
            yield conn
        except BaseException as exc:
            self._rollback(conn)
            mapped = unavailable(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:  # e.g. the disk filled up: nothing of it is kept
                self._rollback(conn)
                raise (unavailable(exc) or exc) from exc
        finally:
            self._local.depth = 0

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # SQLite already rolled back (an I/O or full-disk error can do that)
                conn.execute("ROLLBACK")

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self._transaction():
            yield

    def ping(self) -> None:
        try:
            self.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()
        if self._scratch is not None:
            self._scratch.cleanup()

    def drop(self) -> None:
        with self._transaction() as conn:
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'meta'"
            ).fetchall():
                conn.execute(f'DELETE FROM "{name}"')

    # reads ------------------------------------------------------------------------------------
    def current(self, type_: str, id_: str) -> Stored | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM resource r WHERE r.type = ? AND r.id = ?", (type_, id_)
        ).fetchone()
        return _stored(row) if row else None

    def version(self, type_: str, id_: str, vid: int) -> Stored | None:
        row = self.conn.execute(
            "SELECT h.type, h.id, h.vid, h.ts, h.deleted, h.body, h.acl, h.method, c.acl FROM history h "
            "JOIN resource c ON c.type = h.type AND c.id = h.id WHERE h.type = ? AND h.id = ? AND h.vid = ?",
            (type_, id_, vid),
        ).fetchone()
        return _stored(row, row[7], row[8]) if row else None

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
        sql = Translator(policy_for)
        terms = []
        if type_ is not None:
            terms.append(f"h.type = {sql.param(type_)}")
        if id_ is not None:
            terms.append(f"h.id = {sql.param(id_)}")
        if since is not None:
            terms.append(f"h.ts >= {sql.param(since)}")
        join = ""
        if at is not None:  # current at some point of [lo, hi]: written by hi, not replaced by lo
            join = " LEFT JOIN history n ON n.type = h.type AND n.id = h.id AND n.vid = h.vid + 1"
            terms.append(f"h.ts <= {sql.param(at[1])} AND (n.ts IS NULL OR n.ts > {sql.param(at[0])})")
        if type_ is not None:
            policy = policy_for(type_)
            terms += [sql.predicate(policy, "h", "json"), sql.predicate(policy, "c", "rows")]
        else:
            terms.append(self._every_type_policy(sql, policy_for))
        where = " AND ".join(t for t in terms if t != "1") or "1"
        head = f"FROM history h JOIN resource c ON c.type = h.type AND c.id = h.id{join} WHERE " + where
        total = self.conn.execute(f"SELECT count(*) {head}", sql.params).fetchone()[0]
        rows = self.conn.execute(
            "SELECT h.type, h.id, h.vid, h.ts, h.deleted, h.body, h.acl, h.method, c.acl "
            f"{head} ORDER BY h.ts DESC, h.type DESC, h.id DESC, h.vid DESC LIMIT ? OFFSET ?",
            [*sql.params, limit, offset],
        ).fetchall()
        return total, [_stored(r, r[7], r[8]) for r in rows]

    def _every_type_policy(self, sql: Translator, policy_for: PolicyFor) -> str:
        """System history: each version under its own type's policy, on its acl and the current one
        (an OR over the types stored; the types the policy lets through whole in one ``IN``)."""
        types = self.types()
        policies = {t: policy_for(t) for t in types}
        whole = [t for t in types if policies[t] == ALLOW]
        if len(whole) == len(types):
            return "1"
        parts = [f"h.type IN ({', '.join(sql.param(t) for t in whole)})"] if whole else []
        for type_ in types:
            policy = policies[type_]
            if policy not in (ALLOW, DENY):
                parts.append(
                    f"(h.type = {sql.param(type_)} AND {sql.predicate(policy, 'h', 'json')} "
                    f"AND {sql.predicate(policy, 'c', 'rows')})"
                )
        return "(" + " OR ".join(parts) + ")" if parts else "0"

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
        sql = Translator(policy_for)
        clause = sql.live(type_, where, "r")
        narrowed = where != TRUE or type_ is None or policy_for(type_) != ALLOW
        order = sql.order(sort, "r", by_index=not narrowed)
        page = " LIMIT ? OFFSET ?" if limit is not None or offset else ""
        params = [*sql.params, *([-1 if limit is None else limit, offset] if page else [])]
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM resource r WHERE {clause} ORDER BY {order}{page}", params)
        return [_stored(row) for row in rows.fetchall()]

    def count(self, type_: str | None, where: Where, policy_for: PolicyFor) -> int:
        sql = Translator(policy_for)
        clause = sql.live(type_, where, "r")
        return int(self.conn.execute(f"SELECT count(*) FROM resource r WHERE {clause}", sql.params).fetchone()[0])

    def references(self, type_: str, ids: list[str], codes: list[str]) -> dict[str, list[str]]:
        if not ids or not codes:
            return {}
        marks_ids, marks_codes = ", ".join("?" * len(ids)), ", ".join("?" * len(codes))
        rows = self.conn.execute(
            f"SELECT s.code, s.value FROM resource r JOIN sp_text s ON s.rid = r.rid WHERE r.type = ? "
            f"AND r.id IN ({marks_ids}) AND s.code IN ({marks_codes}) ORDER BY s.code, s.value",
            [type_, *ids, *codes],
        ).fetchall()
        out: dict[str, list[str]] = {}
        for code, value in rows:
            out.setdefault(code, []).append(value)
        return out

    def linked_records(self, actors: list[str]) -> set[str]:
        if not actors:
            return set()
        rows = self.conn.execute(
            f"SELECT record FROM links WHERE actor IN ({', '.join('?' * len(actors))})", actors
        ).fetchall()
        return {r[0] for r in rows}

    def types(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT type FROM resource ORDER BY type").fetchall()]

    def versions(self, type_: str) -> Iterator[Stored]:
        cursor = self.conn.execute(
            "SELECT type, id, vid, ts, deleted, body, acl, method FROM history WHERE type = ? ORDER BY id, vid",
            (type_,),
        )
        for row in cursor:
            yield _stored(row, row[7])

    def record_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT coll FROM document ORDER BY coll").fetchall()]

    # writes -----------------------------------------------------------------------------------
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
        def work(conn: sqlite3.Connection) -> Stored:
            return self._write(conn, type_, id_, resource, method, expected_vid, must_exist)

        if getattr(self._local, "depth", 0):  # inside atomic(): part of that transaction
            return work(self.conn)
        return self._group.run(work)

    def _write(
        self,
        conn: sqlite3.Connection,
        type_: str,
        id_: str,
        resource: dict[str, Any] | None,
        method: str,
        expected_vid: int | None,
        must_exist: bool,
    ) -> Stored:
        cur = conn.execute(
            "SELECT rid, vid, body, acl FROM resource WHERE type = ? AND id = ?", (type_, id_)
        ).fetchone()
        vid = cur[1] if cur else 0
        if expected_vid is not None and vid != expected_vid:
            raise PreconditionFailed(f"version conflict: {type_}/{id_} is at version {vid}, not {expected_vid}")
        if must_exist and cur is None:
            raise LookupError(f"{type_}/{id_}")
        vid += 1
        ts = instant()
        if resource is None:
            assert cur is not None
            raw, acl_text = bytes(cur[2]), cur[3]
            acl = orjson.loads(acl_text)
            idx: dict[str, Any] = {}
        else:
            meta = {**(resource.get("meta") or {}), "versionId": str(vid), "lastUpdated": ts}
            body = {
                "resourceType": resource["resourceType"],
                "id": id_,
                "meta": meta,
                **{k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")},
            }
            idx, acl = self.index(type_, body)
            raw, acl_text = orjson.dumps(body), orjson.dumps(acl).decode()
        deleted = resource is None
        self._put(conn, cur[0] if cur else None, Stored(type_, id_, vid, ts, deleted, raw, acl, method), idx, acl_text)
        if type_ == "DocumentReference" and (cur is None or orjson.loads(cur[3]) != acl):
            self._follow(conn, f"{type_}/{id_}", acl)
        return Stored(type_, id_, vid, ts, deleted, raw, acl, method)

    # Binary content and the consent it follows ---------------------------------------------------
    def _acl_of(self, ref: str) -> dict[str, Any] | None:
        type_, _, id_ = ref.partition("/")
        row = self.conn.execute("SELECT acl FROM resource WHERE type = ? AND id = ?", (type_, id_)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _follow(self, conn: sqlite3.Connection, ref: str, acl: dict[str, Any]) -> None:
        """The Binaries whose securityContext is ``ref`` take its new acl, every version (same transaction)."""
        rows = conn.execute(
            "SELECT r.rid, r.id, r.body FROM resource r JOIN acl a ON a.rid = r.rid "
            "WHERE r.type = 'Binary' AND a.path = 'context' AND a.value = ?",
            (ref,),
        ).fetchall()
        for rid, id_, body in rows:
            _, followed = self.indexer("Binary", orjson.loads(body), context=lambda _: acl)
            self._current_acl(conn, rid, followed)
            self._binary_history_acl(conn, id_, followed)
            conn.execute("DELETE FROM acl WHERE rid = ?", (rid,))
            self._insert_rows(conn, rid, "Binary", {}, followed)

    @staticmethod
    def _current_acl(conn: sqlite3.Connection, rid: int, acl: dict[str, Any]) -> None:
        conn.execute(
            "UPDATE resource SET acl = ?, patient = ?, confidentiality = ?, deposited = ? WHERE rid = ?",
            (orjson.dumps(acl).decode(), *_scalars(acl), rid),
        )

    @staticmethod
    def _binary_history_acl(conn: sqlite3.Connection, id_: str, acl: dict[str, Any]) -> bool:
        """Every version of Binary ``id_`` takes ``acl`` (its document's); whether one held other attributes."""
        text = orjson.dumps(acl).decode()
        rewritten = conn.execute(
            "UPDATE history SET acl = ?, patient = ?, confidentiality = ?, deposited = ? "
            "WHERE type = 'Binary' AND id = ? AND acl IS NOT ?",
            (text, *_scalars(acl), id_, text),
        )
        return rewritten.rowcount > 0

    def refresh(self, type_: str, id_: str) -> None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT rid, body, acl, deleted FROM resource WHERE type = ? AND id = ?", (type_, id_)
            ).fetchone()
            if row is None or row[3]:
                return
            idx, _ = self.index(type_, orjson.loads(row[1]))
            for table in ("sp_text", "sp_range", "sp_number", "sp_quantity", "sp_composite"):
                conn.execute(f"DELETE FROM {table} WHERE rid = ?", (row[0],))
            for table, rows in search_rows(type_, idx).items():
                if rows:
                    marks = ", ".join("?" * (len(rows[0]) + 1))
                    conn.executemany(f"INSERT INTO {table} VALUES ({marks})", [(row[0], *r) for r in rows])

    def put_blob(self, key: str, chunks: Iterator[bytes]) -> tuple[int, bytes]:
        with self._transaction() as conn:
            conn.execute("DELETE FROM blob_chunk WHERE key = ?", (key,))
            return write_chunks(
                chunks,
                lambda n, data: conn.execute("INSERT INTO blob_chunk (key, n, data) VALUES (?, ?, ?)", (key, n, data)),
            )

    def open_blob(self, key: str) -> Blob | None:
        count, size = self.conn.execute(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM blob_chunk WHERE key = ?", (key,)
        ).fetchone()
        if not count:
            return None

        def chunks() -> Iterator[bytes]:  # one row at a time, on the thread that iterates
            for n in range(count):
                row = self.conn.execute("SELECT data FROM blob_chunk WHERE key = ? AND n = ?", (key, n)).fetchone()
                if row is None:
                    raise StoreUnavailable(f"content {key} was removed while being read")
                yield bytes(row[0])

        return Blob(int(size), chunks())

    def delete_blob(self, key: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM blob_chunk WHERE key = ?", (key,))

    def _put(
        self, conn: sqlite3.Connection, rid: int | None, version: Stored, idx: dict[str, Any], acl_text: str
    ) -> int:
        """Insert ``version`` in the history and make it current (its search rows with it)."""
        scalars = _scalars(version.acl)
        body = version.json()  # once: the history row and the current row hold the same bytes
        row = (version.type, version.id, version.vid, version.ts)
        conn.execute(
            "INSERT INTO history (type, id, vid, ts, method, deleted, body, acl, patient, confidentiality, deposited) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, version.method, int(version.deleted), body, acl_text, *scalars),
        )
        if rid is None:
            rid = conn.execute(
                "INSERT INTO resource (type, id, vid, ts, deleted, body, acl, patient, confidentiality, deposited) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, int(version.deleted), body, acl_text, *scalars),
            ).lastrowid
            assert rid is not None
        else:
            conn.execute(
                "UPDATE resource SET vid = ?, ts = ?, deleted = ?, body = ?, acl = ?, patient = ?, "
                "confidentiality = ?, deposited = ? WHERE rid = ?",
                (version.vid, version.ts, int(version.deleted), body, acl_text, *scalars, rid),
            )
            self._clear_rows(conn, rid)
        if not version.deleted:
            self._insert_rows(conn, rid, version.type, idx, version.acl)
        return rid

    def restore(self, versions: list[Stored]) -> None:
        with self._transaction() as conn:
            for version in versions:
                idx, acl = self.index(version.type, version.resource)
                acl = {**acl, **version.acl}
                cur = conn.execute(
                    "SELECT rid FROM resource WHERE type = ? AND id = ?", (version.type, version.id)
                ).fetchone()
                stored = Stored(
                    version.type,
                    version.id,
                    version.vid,
                    version.ts,
                    version.deleted,
                    version.body,
                    acl,
                    version.method,
                )
                self._put(conn, cur[0] if cur else None, stored, idx, orjson.dumps(acl).decode())

    @staticmethod
    def _clear_rows(conn: sqlite3.Connection, rid: int) -> None:
        for table in SEARCH_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE rid = ?", (rid,))
        conn.execute("DELETE FROM acl WHERE rid = ?", (rid,))

    @staticmethod
    def _insert_rows(conn: sqlite3.Connection, rid: Any, type_: str, idx: dict[str, Any], acl: dict[str, Any]) -> None:
        for table, rows in search_rows(type_, idx).items():
            if rows:
                marks = ", ".join("?" * (len(rows[0]) + 1))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", [(rid, *row) for row in rows])
        rows_acl = acl_rows(acl)
        if rows_acl:
            conn.executemany("INSERT INTO acl VALUES (?, ?, ?)", [(rid, p, v) for p, v in rows_acl])
        patient = acl.get("patient")
        if patient:
            conn.executemany(
                "INSERT OR IGNORE INTO links VALUES (?, ?)", [(actor, patient) for actor in acl.get("actors") or ()]
            )

    def reindex(self, type_: str) -> int:
        changed = 0
        rows = self.conn.execute("SELECT rid, id, deleted, body, acl FROM resource WHERE type = ?", (type_,)).fetchall()
        for rid, id_, deleted, body, acl_text in rows:
            idx, acl = self.index(type_, orjson.loads(body))
            with self._transaction() as conn:
                stale = orjson.loads(acl_text) != acl
                if stale:
                    self._current_acl(conn, rid, acl)
                if type_ == "Binary":  # every version holds its document's attributes, as _follow leaves them
                    stale = self._binary_history_acl(conn, id_, acl) or stale
                changed += stale
                self._clear_rows(conn, rid)
                if not deleted:
                    self._insert_rows(conn, rid, type_, idx, acl)
        return changed

    def held(self, patient: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for type_, id_ in self.conn.execute(
            "SELECT type, id FROM resource WHERE patient = ? ORDER BY type, id", (patient,)
        ).fetchall():
            out.setdefault(type_, []).append(id_)
        return out

    def held_ids(self, type_: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM resource WHERE type = ? ORDER BY id", (type_,))]

    def count_versions(self, type_: str, ids: list[str]) -> int:
        total = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            total += int(
                self.conn.execute(
                    f"SELECT count(*) FROM history WHERE type = ? AND id IN ({marks})", [type_, *chunk]
                ).fetchone()[0]
            )
        return total

    def purge(self, type_: str, ids: list[str]) -> None:
        with self._transaction() as conn:
            for id_ in ids:
                row = conn.execute("SELECT rid FROM resource WHERE type = ? AND id = ?", (type_, id_)).fetchone()
                if row:
                    self._clear_rows(conn, row[0])
                    conn.execute("DELETE FROM resource WHERE rid = ?", (row[0],))
                conn.execute("DELETE FROM history WHERE type = ? AND id = ?", (type_, id_))
                prefix = f"{type_}/{id_}/"
                conn.execute("DELETE FROM blob_chunk WHERE key >= ? AND key < ?", (prefix, prefix[:-1] + "0"))

    def documents(self, name: str) -> SqliteDocuments:
        return SqliteDocuments(self, name)

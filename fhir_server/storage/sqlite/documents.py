"""Server records (auth codes and tokens, emergency windows, jobs) on the embedded store: JSON
documents keyed by (collection, ``_id``), queried with the small filter language of
``port.Documents`` translated to ``json_extract`` conditions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any
from typing import Protocol

import orjson

from ..port import DuplicateKey
from .failures import guarded


class Database(Protocol):
    """What a collection uses of the repository (``SqliteRepository``): the thread's connection and
    a write transaction."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


_OPS = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">=", "$ne": "IS NOT"}


def _json_value(value: Any) -> Any:
    """A filter value as json_extract returns it (booleans as 1/0)."""
    if isinstance(value, bool):
        return int(value)
    return value


def _where(filter: Mapping[str, Any], params: list[Any]) -> str:
    terms = ["coll = ?"]
    for field, cond in filter.items():
        column = "id" if field == "_id" else "json_extract(body, ?)"
        if field != "_id":
            params_path = f'$."{field}"'
        conds = cond.items() if isinstance(cond, dict) else [("$eq", cond)]
        for op, value in conds:
            if field != "_id":
                params.append(params_path)
            if op == "$eq":
                if value is None:
                    terms.append(f"{column} IS NULL")
                else:
                    terms.append(f"{column} = ?")
                    params.append(_json_value(value))
            elif op == "$in":
                values = list(value)
                if not values:
                    terms.append("0")
                    if field != "_id":
                        params.pop()
                else:
                    terms.append(f"{column} IN ({', '.join('?' * len(values))})")
                    params.extend(_json_value(v) for v in values)
            elif op in _OPS:
                terms.append(f"{column} {_OPS[op]} ?")
                params.append(_json_value(value))
            else:
                raise ValueError(f"unsupported filter operator {op}")
    return " AND ".join(terms)


def _project(doc: dict[str, Any], projection: Any) -> dict[str, Any]:
    if not projection:
        return doc
    keep = {k for k, v in dict(projection).items() if v}
    return {k: v for k, v in doc.items() if k in keep or k == "_id"}


def _apply(doc: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    for op, fields in update.items():
        if op != "$set":
            raise ValueError(f"unsupported update operator {op}")
        out.update(fields)
    return out


class _Cursor:
    """The found documents, with pymongo's ``sort``/``skip``/``limit`` on the list."""

    def __init__(self, docs: list[dict[str, Any]]):
        self.docs = docs

    def sort(self, key: Any, direction: int = 1) -> _Cursor:
        keys = [(key, direction)] if isinstance(key, str) else list(key)
        for name, way in reversed(keys):
            self.docs.sort(key=lambda d: (d.get(name) is not None, d.get(name)), reverse=way < 0)
        return self

    def skip(self, n: int) -> _Cursor:
        self.docs = self.docs[n:]
        return self

    def limit(self, n: int) -> _Cursor:
        self.docs = self.docs[:n] if n else self.docs
        return self

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.docs)


@guarded
class SqliteDocuments:
    """One collection of the ``document`` table."""

    def __init__(self, repo: Database, name: str):
        self.repo = repo
        self.name = name

    def _select(
        self, filter: Mapping[str, Any], conn: sqlite3.Connection | None = None, limit: int = -1
    ) -> list[dict[str, Any]]:
        params: list[Any] = [self.name]
        where = _where(filter, params)
        rows = (
            (conn or self.repo.conn)
            .execute(f"SELECT id, body FROM document WHERE {where} ORDER BY id LIMIT {int(limit)}", params)
            .fetchall()
        )
        return [{"_id": id_, **orjson.loads(body)} for id_, body in rows]

    def find_one(self, filter: Mapping[str, Any], projection: Any = None) -> dict[str, Any] | None:
        found = self._select(filter, limit=1)
        return _project(found[0], projection) if found else None

    def find(self, filter: Mapping[str, Any] | None = None, projection: Any = None) -> _Cursor:
        return _Cursor([_project(d, projection) for d in self._select(filter or {})])

    def count_documents(self, filter: Mapping[str, Any]) -> int:
        return len(self._select(filter))

    def _put(self, conn: sqlite3.Connection, doc: Mapping[str, Any], insert: bool) -> None:
        body = orjson.dumps({k: v for k, v in doc.items() if k != "_id"}).decode()
        verb = "INSERT" if insert else "REPLACE"
        conn.execute(f"{verb} INTO document (coll, id, body) VALUES (?, ?, ?)", (self.name, doc["_id"], body))

    def insert_many(self, docs: list[dict[str, Any]]) -> None:
        try:
            with self.repo._transaction() as conn:
                for doc in docs:
                    self._put(conn, doc, insert=True)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey(str(exc)) from None

    def update_one(self, filter: Mapping[str, Any], update: Mapping[str, Any], upsert: bool = False) -> None:
        with self.repo._transaction() as conn:
            found = self._select(filter, conn, limit=1)
            if found:
                self._put(conn, _apply(found[0], update), insert=False)
            elif upsert:
                seed = {k: v for k, v in filter.items() if not isinstance(v, dict)}
                self._put(conn, _apply(seed, update), insert=True)

    def update_many(self, filter: Mapping[str, Any], update: Mapping[str, Any]) -> None:
        with self.repo._transaction() as conn:
            for doc in self._select(filter, conn):
                self._put(conn, _apply(doc, update), insert=False)

    def find_one_and_update(self, filter: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any] | None:
        with self.repo._transaction() as conn:
            found = self._select(filter, conn, limit=1)
            if found:
                self._put(conn, _apply(found[0], update), insert=False)
            return found[0] if found else None

    def delete_one(self, filter: Mapping[str, Any]) -> None:
        with self.repo._transaction() as conn:
            found = self._select(filter, conn, limit=1)
            if found:
                conn.execute("DELETE FROM document WHERE coll = ? AND id = ?", (self.name, found[0]["_id"]))

    def delete_many(self, filter: Mapping[str, Any]) -> None:
        params: list[Any] = [self.name]
        where = _where(filter, params)
        with self.repo._transaction() as conn:
            conn.execute(f"DELETE FROM document WHERE {where}", params)

    def create_index(self, keys: Any) -> None:
        """Collections are found by ``_id`` or within small collections: no secondary index needed."""

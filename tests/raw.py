"""Raw damage to a store, per adapter, for tests of what repairs it (``carnet reindex``)."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.storage import Repository
from fhir_server.storage.sqlite.repository import acl_rows


def blank_index(store: Repository, type_: str, id_: str) -> None:
    """Forget the search values and access attributes of one resource, as an old store would."""
    if store.kind == "sqlite":
        conn = store.conn  # type: ignore[attr-defined]
        rid = conn.execute("SELECT rid FROM resource WHERE type = ? AND id = ?", (type_, id_)).fetchone()[0]
        for table in ("sp_text", "sp_range", "sp_number", "sp_quantity", "sp_composite", "acl"):
            conn.execute(f"DELETE FROM {table} WHERE rid = ?", (rid,))
        conn.execute("UPDATE resource SET acl = '{}', patient = NULL WHERE rid = ?", (rid,))
    else:
        store.db[type_].update_one({"_id": id_}, {"$set": {"idx": {}, "acl": {}}})  # type: ignore[attr-defined]


def drop_links(store: Repository) -> None:
    """Forget every actor -> record link."""
    if store.kind == "sqlite":
        store.conn.execute("DELETE FROM links")  # type: ignore[attr-defined]
    else:
        store.db["links"].delete_many({})  # type: ignore[attr-defined]


def stale_acl(store: Repository, type_: str, id_: str, acl: dict[str, Any]) -> None:
    """Give one resource, current version and every history row, the access attributes ``acl``, as
    a store written before they were computed as they are now."""
    if store.kind == "sqlite":
        conn = store.conn  # type: ignore[attr-defined]
        text, patient = orjson.dumps(acl).decode(), acl.get("patient")
        conn.execute("UPDATE resource SET acl = ?, patient = ? WHERE type = ? AND id = ?", (text, patient, type_, id_))
        conn.execute("UPDATE history SET acl = ?, patient = ? WHERE type = ? AND id = ?", (text, patient, type_, id_))
        rid = conn.execute("SELECT rid FROM resource WHERE type = ? AND id = ?", (type_, id_)).fetchone()[0]
        conn.execute("DELETE FROM acl WHERE rid = ?", (rid,))
        conn.executemany("INSERT INTO acl VALUES (?, ?, ?)", [(rid, path, value) for path, value in acl_rows(acl)])
    else:
        store.db[type_].update_one({"_id": id_}, {"$set": {"acl": acl}})  # type: ignore[attr-defined]
        store.db["history"].update_many({"type": type_, "id": id_}, {"$set": {"acl": acl, "cacl": acl}})  # type: ignore[attr-defined]

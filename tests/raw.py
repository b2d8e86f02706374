"""Raw damage to a store, per adapter, for tests of what repairs it (``carnet reindex``)."""

from __future__ import annotations

from fhir_server.storage import Repository


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

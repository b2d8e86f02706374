"""The embedded store's tables: one row per resource, its history, and indexed child tables per
kind of search value (the layout HAPI's ``HFJ_SPIDX_*`` and Medplum's lookup tables use on SQL).

- ``resource``: the current version; ``body`` the JSON served as is; the scalar access attributes
  (``patient``, ``confidentiality``, ``deposited``) as indexed columns, the list ones as ``acl`` rows.
- ``history``: every version, with its own access attributes (``acl`` JSON + scalar columns).
- ``sp_text`` (string, token, reference, uri values: folded strings, their exact form, token
  forms, texts), ``sp_range`` (dates as fixed-width UTC ``lo``/``hi``), ``sp_number``,
  ``sp_quantity``, ``sp_composite`` (JSON combinations): ``(rid, type, code, value...)``.
- ``links``: actor -> the records (``Patient/id``) whose consent state that actor's requests load.
- ``blob_chunk``: Binary content, ``(key, n, data)`` chunks of 256 KiB (``storage.blobs``).
- ``document``: server records (auth, emergency windows, jobs) as JSON keyed by (collection, id).
"""

from __future__ import annotations

VERSION = 1

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS resource (
        rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL, vid INTEGER NOT NULL,
        ts TEXT NOT NULL, deleted INTEGER NOT NULL, body BLOB NOT NULL, acl TEXT NOT NULL,
        patient TEXT, confidentiality TEXT, deposited TEXT, UNIQUE (type, id))""",
    "CREATE INDEX IF NOT EXISTS resource_ts ON resource (type, ts)",
    "CREATE INDEX IF NOT EXISTS resource_patient ON resource (patient, type)",
    """CREATE TABLE IF NOT EXISTS acl (
        rid INTEGER NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (rid, path, value)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS acl_value ON acl (path, value)",
    """CREATE TABLE IF NOT EXISTS history (
        type TEXT NOT NULL, id TEXT NOT NULL, vid INTEGER NOT NULL, ts TEXT NOT NULL,
        method TEXT NOT NULL, deleted INTEGER NOT NULL, body BLOB NOT NULL, acl TEXT NOT NULL,
        patient TEXT, confidentiality TEXT, deposited TEXT, PRIMARY KEY (type, id, vid))""",
    "CREATE INDEX IF NOT EXISTS history_type_ts ON history (type, ts)",
    "CREATE INDEX IF NOT EXISTS history_ts ON history (ts)",
    "CREATE INDEX IF NOT EXISTS history_patient ON history (patient)",
    """CREATE TABLE IF NOT EXISTS sp_text (
        rid INTEGER NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, value TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sp_text_value ON sp_text (type, code, value, rid)",
    "CREATE INDEX IF NOT EXISTS sp_text_rid ON sp_text (rid, code, value)",
    """CREATE TABLE IF NOT EXISTS sp_range (
        rid INTEGER NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, lo TEXT NOT NULL, hi TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sp_range_lo ON sp_range (type, code, lo, hi, rid)",
    "CREATE INDEX IF NOT EXISTS sp_range_hi ON sp_range (type, code, hi, lo, rid)",
    "CREATE INDEX IF NOT EXISTS sp_range_rid ON sp_range (rid, code, lo)",
    """CREATE TABLE IF NOT EXISTS sp_number (
        rid INTEGER NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, v REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sp_number_v ON sp_number (type, code, v, rid)",
    "CREATE INDEX IF NOT EXISTS sp_number_rid ON sp_number (rid, code, v)",
    """CREATE TABLE IF NOT EXISTS sp_quantity (
        rid INTEGER NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, v REAL NOT NULL,
        s TEXT, c TEXT, u TEXT)""",
    "CREATE INDEX IF NOT EXISTS sp_quantity_v ON sp_quantity (type, code, v, rid)",
    "CREATE INDEX IF NOT EXISTS sp_quantity_rid ON sp_quantity (rid, code, v)",
    """CREATE TABLE IF NOT EXISTS sp_composite (
        rid INTEGER NOT NULL, type TEXT NOT NULL, code TEXT NOT NULL, value TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS sp_composite_code ON sp_composite (type, code, rid)",
    "CREATE INDEX IF NOT EXISTS sp_composite_rid ON sp_composite (rid)",
    """CREATE TABLE IF NOT EXISTS links (
        actor TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (actor, record)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS document (
        coll TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (coll, id))""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS blob_chunk (
        key TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, n))""",
]

#: search value tables: kind -> (table, value columns); the plan's parts name these columns
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "string": ("sp_text", ("value",)),
    "token": ("sp_text", ("value",)),
    "reference": ("sp_text", ("value",)),
    "uri": ("sp_text", ("value",)),
    "date": ("sp_range", ("lo", "hi")),
    "number": ("sp_number", ("v",)),
    "quantity": ("sp_quantity", ("v", "s", "c", "u")),
    "composite": ("sp_composite", ("value",)),
}
SEARCH_TABLES = ("sp_text", "sp_range", "sp_number", "sp_quantity", "sp_composite")
#: access attributes held as columns (scalars); the others are ``acl`` rows (lists)
ACL_COLUMNS = ("patient", "confidentiality", "deposited")

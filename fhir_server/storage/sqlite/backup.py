"""Backup and restore of the embedded store through SQLite's online backup API
(https://sqlite.org/backup.html): the copy is one consistent snapshot of the database — every
committed transaction up to a point, none after, never half of one — taken while the server runs
(writers wait for each step only; a step copies ``PAGES_PER_STEP`` pages)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

PAGES_PER_STEP = 1024


def is_empty(path: Path) -> bool:
    """True when the store at ``path`` holds no resource, history or server record."""
    if not path.exists():
        return True
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for table in ("resource", "history", "document"):
            try:
                if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                    return False
            except sqlite3.OperationalError:  # no such table: a store never opened
                pass
        return True
    finally:
        conn.close()


def _copy(source: Path, target: Path) -> int:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=PAGES_PER_STEP, sleep=0.005)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
        return int(dst.execute("SELECT count(*) FROM history").fetchone()[0])
    finally:
        dst.close()
        src.close()


def backup(database: Path, out: Path) -> int:
    """Snapshot ``database`` into ``out`` (written beside it, then renamed: a crash never leaves
    a half file under that name); returns how many versions it holds."""
    if not database.exists():
        raise FileNotFoundError(f"no embedded store at {database}")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    versions = _copy(database, partial)
    os.replace(partial, out)
    return versions


def restore(source: Path, database: Path, *, force: bool = False) -> int:
    """Bring the snapshot ``source`` back as the store ``database``; refuses a non-empty store
    unless ``force`` (stop the server first: its open connections would keep the old data)."""
    if not source.exists():
        raise FileNotFoundError(f"no backup at {source}")
    if not force and not is_empty(database):
        raise FileExistsError(f"the store at {database} is not empty (use --force to replace it)")
    database.parent.mkdir(parents=True, exist_ok=True)
    return _copy(source, database)

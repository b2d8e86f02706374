"""`carnet backup` and `carnet restore`: a consistent snapshot of the embedded store while the
server runs, and its return. On MongoDB use ``mongodump --archive`` / ``mongorestore``
(docs/operations.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

MONGODB_HINT = (
    'the store is MongoDB (MONGODB_URI): back it up with `mongodump --uri "$MONGODB_URI" --archive=FILE '
    "--oplog` and restore with `mongorestore --archive=FILE --oplogReplay` (docs/operations.md)"
)


def _database(data_dir: str) -> Path:
    from .storage import database_file

    return Path(
        database_file(
            {"DATA_DIR": str(Path(data_dir).resolve()), "DATABASE_FILE": os.environ.get("CARNET_DATABASE_FILE")}
        )
    )


def _backup(args: argparse.Namespace) -> int:
    from .storage.sqlite.backup import backup

    if os.environ.get("MONGODB_URI"):
        print(f"carnet backup: {MONGODB_HINT}", file=sys.stderr)
        return 2
    try:
        versions = backup(_database(args.data_dir), Path(args.out))
    except FileNotFoundError as exc:
        print(f"carnet backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {versions} versions to {args.out}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from .storage.sqlite.backup import restore

    if os.environ.get("MONGODB_URI"):
        print(f"carnet restore: {MONGODB_HINT}", file=sys.stderr)
        return 2
    try:
        versions = restore(Path(args.source), _database(args.data_dir), force=args.force)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"carnet restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {versions} versions into {args.data_dir}")
    return 0


def add_parser(subparsers: Any) -> None:
    made = subparsers.add_parser("backup", help="snapshot the embedded store (consistent, while the server runs)")
    made.add_argument("--data-dir", default="./var")
    made.add_argument("--out", required=True, help="the snapshot file to write")
    made.set_defaults(func=_backup)
    back = subparsers.add_parser("restore", help="bring a `carnet backup` snapshot back into a data directory")
    back.add_argument("--data-dir", default="./var")
    back.add_argument("--from", dest="source", required=True, help="the snapshot file")
    back.add_argument("--force", action="store_true", help="replace a store that is not empty (server stopped)")
    back.set_defaults(func=_restore)

"""Move a whole store into another: every version of every resource (ids, version numbers and
times kept; search values, access attributes and consent links computed anew by the target) and
the server records (SMART clients, users, tokens, emergency windows, jobs).

Sources: a MongoDB (``mongodb://…``), or an old data directory written by Carnet's former
embedded engine (mongoeco's ``carnet.sqlite``), read through the MongoDB adapter; any store this
server opens can also be a source (``--from-data-dir`` holding a ``carnet.db``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from .blobs import binaries_last
from .port import Repository
from .port import Stored

BATCH = 1000
OLD_ENGINE_FILE = "carnet.sqlite"


def source_config(uri: str | None, data_dir: str | None, database: str = "carnet") -> dict[str, str]:
    """The configuration that opens the source store."""
    if uri:
        return {"MONGODB_URI": uri, "MONGODB_DATABASE": database}
    assert data_dir is not None
    folder = Path(data_dir)
    if (folder / OLD_ENGINE_FILE).exists():
        return {"MONGODB_URI": f"mongoeco://{folder / OLD_ENGINE_FILE}", "MONGODB_DATABASE": database}
    if (folder / "carnet.db").exists():
        return {"DATA_DIR": str(folder)}
    raise FileNotFoundError(f"{folder} holds no Carnet store ({OLD_ENGINE_FILE} or carnet.db)")


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def migrate(
    source: Repository, target: Repository, out: TextIO | None = None, progress: Callable[[int, int], str] = _bar
) -> dict[str, int]:
    """Copy ``source`` into ``target`` (progress on ``out``, default stderr); returns versions per
    type and records per collection."""
    out = out or sys.stderr
    moved: dict[str, int] = {}
    types = binaries_last(source.types())  # their documents restored before them
    total = sum(source.count_versions(t, source.held_ids(t)) for t in types)
    done = 0
    for type_ in types:
        batch: list[Stored] = []
        for version in source.versions(type_):
            batch.append(
                Stored(
                    version.type,
                    version.id,
                    version.vid,
                    version.ts,
                    version.deleted,
                    version.resource,
                    {},
                    version.method,
                )
            )
            if len(batch) >= BATCH:
                target.restore(batch)
                done += len(batch)
                moved[type_] = moved.get(type_, 0) + len(batch)
                batch = []
                print(f"\r{progress(done, total)} versions", end="", file=out, flush=True)
        if batch:
            target.restore(batch)
            done += len(batch)
            moved[type_] = moved.get(type_, 0) + len(batch)
        print(f"\r{progress(done, total)} versions", end="", file=out, flush=True)
    if "Binary" in types:  # the content of every Binary version, streamed chunk by chunk
        for version in source.versions("Binary"):
            key = f"Binary/{version.id}/{version.vid}"
            blob = source.open_blob(key)
            if blob is not None:
                target.put_blob(key, iter(blob))
                moved["Binary content"] = moved.get("Binary content", 0) + 1
    print(file=out)
    for name in source.record_names():
        docs = list(source.documents(name).find({}))
        for doc in docs:
            target.documents(name).update_one(
                {"_id": doc["_id"]}, {"$set": {k: v for k, v in doc.items() if k != "_id"}}, upsert=True
            )
        moved[name] = len(docs)
    return moved

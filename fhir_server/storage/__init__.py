"""Storage: one port (``port.Repository``), two adapters — ``sqlite`` (embedded, the default,
under ``DATA_DIR``) and ``mongo`` (pymongo at ``MONGODB_URI``) — and the consent-scoped handle
request code reads through (``scoped.Scoped``). Only this package talks to a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask import current_app

from search.plan import TRUE

from .port import Documents
from .port import DuplicateKey
from .port import Indexer
from .port import PolicyFor
from .port import Repository
from .port import Stored
from .port import StoreUnavailable
from .port import no_policy
from .scoped import Scoped

__all__ = [
    "TRUE",
    "Collections",
    "Documents",
    "DuplicateKey",
    "PolicyFor",
    "Repository",
    "Scoped",
    "StoreUnavailable",
    "Stored",
    "get_store",
    "get_store_of",
    "init_app",
    "no_policy",
    "open_repository",
    "opened_collections",
    "opened_store",
]

EXTENSION = "carnet.store"


def database_file(config: dict[str, Any]) -> str:
    """The embedded store's file: ``DATABASE_FILE``, else ``DATA_DIR/carnet.db``."""
    configured = config.get("DATABASE_FILE")
    return str(configured) if configured else str(Path(config.get("DATA_DIR") or "./var") / "carnet.db")


def open_repository(config: dict[str, Any], indexer: Indexer) -> Repository:
    """The adapter the configuration names: MongoDB at ``MONGODB_URI``, else embedded SQLite."""
    uri = config.get("MONGODB_URI")
    if uri:
        from .mongo.indexes import index_keys
        from .mongo.repository import MongoRepository
        from .mongo.repository import open_client

        client = open_client(uri)
        repo: Repository = MongoRepository(
            client, client[config.get("MONGODB_DATABASE") or "carnet"], indexer, index_keys
        )
        return repo
    from .sqlite.repository import SqliteRepository

    path = database_file(config)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    busy = config.get("SQLITE_BUSY_TIMEOUT_MS")
    return SqliteRepository(path, indexer, int(busy)) if busy else SqliteRepository(path, indexer)


@contextmanager
def opened_store(config: dict[str, Any], indexer: Indexer) -> Iterator[Repository]:
    """A repository for a one-shot command, closed on exit."""
    repo = open_repository(config, indexer)
    try:
        yield repo
    finally:
        repo.close()


class Collections:
    """The server-document collections of a repository by name (``collections["auth_tokens"]``)."""

    def __init__(self, repo: Repository):
        self.repo = repo

    def __getitem__(self, name: str) -> Documents:
        return self.repo.documents(name)


@contextmanager
def opened_collections(config: dict[str, Any]) -> Iterator[Collections]:
    """The server-document collections of the configured store, for a one-shot command; closed on exit."""
    from ..indexing import index_resource

    with opened_store(config, index_resource) as repo:
        yield Collections(repo)


def as_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable a raw driver error stands for (a path that escaped an adapter's
    mapping), or None: a lost MongoDB connection, a busy/locked/full/unreadable SQLite file."""
    if isinstance(exc, StoreUnavailable):
        return exc
    from .sqlite.failures import unavailable

    found = unavailable(exc)
    if found is None:
        try:
            import pymongo.errors
        except ImportError:  # pragma: no cover - pymongo is a dependency
            return None
        if isinstance(exc, pymongo.errors.ConnectionFailure):
            return StoreUnavailable(f"MongoDB does not answer: {type(exc).__name__}")
        if isinstance(exc, pymongo.errors.OperationFailure) and "database is locked" in str(exc):
            return StoreUnavailable("the MongoDB stand-in is locked")  # mongoeco's SQLite file, busy
    return found


class NonAtomicStore(RuntimeError):
    """The store cannot run transactions and the operator did not accept non-atomic bundles."""


def accepts_non_atomic(config: dict[str, Any]) -> bool:
    """``ACCEPT_NON_ATOMIC_BUNDLES`` (config, ``CARNET_ACCEPT_NON_ATOMIC_BUNDLES`` or the bare
    environment variable) set to true."""
    import os

    value = config.get("ACCEPT_NON_ATOMIC_BUNDLES")
    if value is None:
        value = os.environ.get("ACCEPT_NON_ATOMIC_BUNDLES")
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def is_atomic(repo: Repository) -> bool:
    """Whether a crash leaves every write and transaction all or nothing."""
    return bool(getattr(repo, "transactions", True))


def init_app(app: Flask, indexer: Indexer) -> Repository:
    repo = open_repository(app.config, indexer)
    if not is_atomic(repo) and not accepts_non_atomic(app.config):
        repo.close()
        raise NonAtomicStore(
            "this MongoDB deployment cannot run multi-document transactions (a standalone mongod): "
            "a crash could leave half a transaction Bundle or half a write. Run a replica set (a "
            "single-member one is enough), or set ACCEPT_NON_ATOMIC_BUNDLES=true to start anyway"
        )
    app.extensions[EXTENSION] = repo
    return repo


def get_store_of(app: Flask) -> Repository:
    return app.extensions[EXTENSION]  # type: ignore[no-any-return]


def get_store() -> Repository:
    return get_store_of(current_app)

"""Multi-document transactions on MongoDB: whether the deployment can run them, and a database
handle that puts every operation of the current thread's transaction in its session.

MongoDB runs transactions on replica-set members and ``mongos`` only (``hello`` names a
``setName``, or answers ``msg: "isdbgrid"``); a standalone ``mongod`` refuses them. mongoeco (the
test stand-in) answers ``hello`` like a standalone yet runs transactions — one at a time per
engine, and an operation outside that session fails while one is open — so an actual probe decides.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

import pymongo.errors

from ..port import StoreUnavailable

#: the session of the transaction the current thread (context) is in, if any
current_session: ContextVar[Any] = ContextVar("carnet_mongo_session", default=None)

#: collection methods that take ``session=``
_SESSION_METHODS = frozenset(
    {
        "find",
        "find_one",
        "insert_one",
        "insert_many",
        "replace_one",
        "update_one",
        "update_many",
        "delete_one",
        "delete_many",
        "count_documents",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "aggregate",
        "distinct",
        "bulk_write",
    }
)


def supports_transactions(client: Any, db: Any) -> bool:
    """True when the deployment runs multi-document transactions (replica set, mongos, or a
    stand-in that does): by ``hello``, else by committing an empty probe transaction."""
    try:
        hello = client.admin.command("hello")
    except pymongo.errors.PyMongoError:
        hello = {}
    except Exception:  # noqa: BLE001 - an in-process stand-in may not route admin commands
        hello = {}
    if hello.get("setName") or hello.get("msg") == "isdbgrid":
        return True
    try:
        with client.start_session() as session:
            session.start_transaction()
            db["carnet_probe"].find_one({"_id": "probe"}, session=session)
            session.commit_transaction()
        return True
    except Exception as exc:  # noqa: BLE001 - "Transaction numbers are only allowed on a replica set member or mongos"
        return _busy(exc)  # the stand-in's transaction is held by another process: it runs them


def is_transient(exc: BaseException) -> bool:
    """A transaction failure worth retrying from the start (write conflict, failover, or the
    stand-in's single transaction held by another session)."""
    if isinstance(exc, pymongo.errors.PyMongoError) and exc.has_error_label("TransientTransactionError"):
        return True
    cause = exc.__cause__ if isinstance(exc, StoreUnavailable) else None
    return _busy(exc) or _locked(exc) or (cause is not None and _locked(cause))


@contextmanager
def transaction(client: Any) -> Iterator[Any]:
    """A transaction in a new session, current for this context: commit on exit, abort on error."""
    with client.start_session() as session:
        session.start_transaction()
        token = current_session.set(session)
        try:
            yield session
        except BaseException:
            current_session.reset(token)
            with suppress(Exception):  # already aborted by the server: nothing to undo
                session.abort_transaction()
            raise
        current_session.reset(token)
        session.commit_transaction()


def unavailable(exc: BaseException) -> StoreUnavailable:
    return StoreUnavailable(f"MongoDB does not answer: {type(exc).__name__}")


def _busy(exc: BaseException) -> bool:
    """The stand-in's one engine-wide transaction is held by another session: wait for it."""
    return "active transaction bound to another session" in str(exc)


def _locked(exc: BaseException) -> bool:
    """The stand-in's SQLite file is locked by another transaction (never said by MongoDB)."""
    return "database is locked" in str(exc)


#: how long an operation outside a transaction waits for the stand-in's transaction to end
BUSY_WAIT_S = 30.0


def _call(fn: Any, in_session: bool) -> Any:
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        try:
            return fn()
        except pymongo.errors.ConnectionFailure as exc:
            raise unavailable(exc) from exc
        except Exception as exc:
            if _locked(exc):  # inside a transaction it is lost: the request fails as a busy store (503)
                raise StoreUnavailable("the MongoDB stand-in is locked") from exc
            if not _busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def when_free(fn: Any) -> Any:
    """``fn()``, waiting while the stand-in's transaction is held by another session."""
    return _call(fn, False)


class SafeCursor:
    """A find, run when iterated (all at once): a lost connection raises ``StoreUnavailable``."""

    def __init__(self, make: Any, in_session: bool) -> None:
        self._make = make
        self._in_session = in_session

    def sort(self, *args: Any, **kwargs: Any) -> SafeCursor:
        make = self._make
        return SafeCursor(lambda: make().sort(*args, **kwargs), self._in_session)

    def skip(self, n: int) -> SafeCursor:
        make = self._make
        return SafeCursor(lambda: make().skip(n), self._in_session)

    def limit(self, n: int) -> SafeCursor:
        make = self._make
        return SafeCursor(lambda: make().limit(n), self._in_session)

    def __iter__(self) -> Iterator[Any]:
        return iter(_call(lambda: list(self._make()), self._in_session))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)


class SessionCollection:
    """A collection whose operations join the current transaction's session."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name in ("create_index", "drop", "drop_index"):  # never in a session
            return lambda *args, **kwargs: _call(lambda: attr(*args, **kwargs), False)
        if name not in _SESSION_METHODS:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            session = current_session.get()
            if session is not None and "session" not in kwargs:
                kwargs["session"] = session
            in_session = session is not None
            if name == "find":
                return SafeCursor(lambda: attr(*args, **kwargs), in_session)
            return _call(lambda: attr(*args, **kwargs), in_session)

        return call


class SessionDatabase:
    """A database whose collections join the current transaction's session."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def __getitem__(self, name: str) -> SessionCollection:
        return SessionCollection(self._db[name])

    def __getattr__(self, name: str) -> Any:
        if name == "list_collection_names":

            def names(*args: Any, **kwargs: Any) -> Any:
                session = current_session.get()
                if session is not None:
                    kwargs.setdefault("session", session)
                return _call(lambda: self._db.list_collection_names(*args, **kwargs), session is not None)

            return names
        return getattr(self._db, name)

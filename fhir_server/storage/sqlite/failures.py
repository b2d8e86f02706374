"""Which SQLite failures mean "the store cannot answer now" (``StoreUnavailable``: 503, retry
later) rather than a bug: busy or locked past the busy timeout, I/O errors, a full disk, a
read-only or unopenable file. The adapter's public methods raise those as ``StoreUnavailable``."""

from __future__ import annotations

import functools
import inspect
import sqlite3
from typing import Any
from typing import NoReturn
from typing import TypeVar

from ..port import StoreUnavailable

#: primary result codes (https://sqlite.org/rescode.html) -> what the operator is told
TRANSIENT = {
    3: "permission denied",
    5: "busy",
    6: "locked",
    7: "out of memory",
    8: "read-only",
    10: "disk I/O error",
    13: "disk full",
    14: "cannot open the database file",
    15: "lock protocol",
}
_WORDS = ("locked", "busy", "disk i/o", "disk is full", "readonly", "read-only", "unable to open")

T = TypeVar("T")


def unavailable(exc: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable a SQLite error stands for, or None when it is not transient."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in TRANSIENT:
        return StoreUnavailable(f"embedded store: {TRANSIENT[code & 0xFF]}")
    if isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in _WORDS):
        return StoreUnavailable(f"embedded store: {exc}")
    return None


def _reraise(exc: sqlite3.Error) -> NoReturn:
    """Raise ``exc`` as the StoreUnavailable it stands for, or as it is."""
    mapped = unavailable(exc)
    if mapped is None:
        raise exc
    raise mapped from exc


def _wrap(fn: Any) -> Any:
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except sqlite3.Error as exc:
                _reraise(exc)

        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            _reraise(exc)

    return call


def guarded(cls: type[T]) -> type[T]:
    """Map transient SQLite errors of every public method of ``cls`` to StoreUnavailable."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(member):
            setattr(cls, name, _wrap(member))
    return cls

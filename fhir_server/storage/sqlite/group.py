"""Group commit: the single writes of concurrent requests in one process share one SQL transaction.

The first writer to arrive leads: it runs every write queued so far, each inside its own
SAVEPOINT (a failing write is rolled back alone and its error goes back to its caller), then
commits once; the others wait for their write's result. A caller returns only after the
transaction holding its write committed, so a trace or a write answered is a write stored; alone,
a writer pays exactly one transaction as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any
from typing import Generic
from typing import TypeVar

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]


class _Slot(Generic[T]):
    __slots__ = ("done", "error", "result", "work")
    result: T  # set by the leader once the work ran, unless ``error`` is

    def __init__(self, work: Work[T]):
        self.work = work
        self.error: BaseException | None = None
        self.done = threading.Event()


class GroupCommit:
    """Runs writes in shared transactions; ``transaction()`` opens one on the leader's connection."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]):
        self.transaction = transaction
        self._queue: list[_Slot[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Work[T]) -> T:
        slot = _Slot(work)
        with self._queue_lock:
            self._queue.append(slot)
        while not slot.done.is_set():
            if self._leader.acquire(blocking=False):
                try:
                    self._lead()
                finally:
                    self._leader.release()
            else:
                slot.done.wait(0.002)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def _lead(self) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue, []
        if not batch:
            return
        try:
            with self.transaction() as conn:
                for n, slot in enumerate(batch):
                    conn.execute(f"SAVEPOINT w{n}")
                    try:
                        slot.result = slot.work(conn)
                    except Exception as exc:  # noqa: BLE001 -- this write fails alone: raised in its writer's thread
                        conn.execute(f"ROLLBACK TO w{n}")
                        slot.error = exc
                    conn.execute(f"RELEASE w{n}")
        except BaseException as exc:  # the commit failed: every write of the batch failed with it
            for slot in batch:
                if slot.error is None:
                    slot.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for slot in batch:
                slot.done.set()

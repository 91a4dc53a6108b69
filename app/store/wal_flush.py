"""Durability for writes committed without waiting for the disk.

A commit with ``synchronous_commit`` off returns once its write-ahead log record is written,
not flushed; the next synchronous commit flushes the log up to its own record, so every commit
that returned before it began is durable once it returns. ``WalFlush.wait`` runs that
synchronous commit for everyone waiting: callers that arrive while one runs share the next.

Why: on a busy disk a flush has taken seconds (the group benchmark, the machine's PostgreSQL).
With every event commit waiting for its own flush, the ten pooled connections all sat in
COMMIT and every other query, reads included, queued behind them; now one connection waits
for the disk and the rest keep serving.

Invariant: a waiter's flush begins after its call to ``wait``, so after its own commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.store.db import Database

# A transaction that writes to the log: only then does its commit (synchronous_commit on, the
# server's default) wait for the flush. A transaction that merely takes an id does not: its
# commit is as asynchronous as the events' (measured: its round trip cost no more than SELECT 1,
# and PostgreSQL killed after such a "flush" lost acked events in the fault test). A
# transactional message takes an id and writes a record, at any wal_level, for any role.
_FLUSH = "SELECT pg_logical_emit_message(true, 'musicrec-flush', '')"


class WalFlush:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: asyncio.Future[None] | None = None  # the batch whose flush has not begun
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0

    async def wait(self) -> None:
        """Return once everything this caller committed before the call is durable."""
        batch = self._waiting
        if batch is None:
            batch = self._waiting = asyncio.get_running_loop().create_future()
            batch.add_done_callback(_retrieved)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="wal-flush")
        await asyncio.shield(batch)

    async def _run(self) -> None:
        while (batch := self._waiting) is not None:
            self._waiting = None  # later callers make the next batch: this flush may predate them
            try:
                await self._db.execute(_FLUSH)
            except asyncio.CancelledError:
                batch.cancel()
                raise
            except Exception as exc:
                batch.set_exception(exc)
            else:
                self.flushes += 1
                batch.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._waiting is not None:
            self._waiting.cancel()
            self._waiting = None


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()  # a waiter that went away would leave it unretrieved (a logged warning)

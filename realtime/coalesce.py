"""Per-user coalescing of queue recomputes.

A lone event is answered at once (the push latency is what the listener feels), and so is the
next one when it comes within ``window`` of the first recompute: in a listening group two
members often react to the same track together, and the second of them waited a whole window
for the trailing run (the group benchmark's slowest queue frames). Events after that are folded
together: the next recompute waits until the user has been quiet for ``window`` (or
``max_wait`` has passed since the first folded event, so a steady stream still gets answers).
Ten skips in 200 ms thus cost two immediate recomputes and one trailing one; the earlier ones
are usually dropped as stale when they finish after the later skips (see
ResumeLog.publish_queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("musicrec.realtime")

# Failures of a backing service that a later try may not meet; retried for a while.
TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError, asyncpg.PostgresConnectionError,
             asyncpg.InterfaceError, asyncpg.InternalClientError)
RETRY_MIN_S = 0.2
RETRY_MAX_S = 2.0
RETRY_FOR_S = 30.0


@dataclass(slots=True)
class _Pending:
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    first_poke: float = 0.0
    last_poke: float = 0.0
    reasons: list[str] = field(default_factory=list)
    woken: asyncio.Event = field(default_factory=asyncio.Event)  # set by every poke


class Coalescer:
    """Runs ``run(user_id, reason)`` for poked users, folding bursts (see module docstring)."""

    def __init__(
        self, run: Callable[[int, str], Awaitable[None]], window_s: float, max_wait_s: float | None = None
    ) -> None:
        self._run = run
        self._window = window_s
        self._max_wait = max_wait_s if max_wait_s is not None else max(0.1, 10 * window_s)
        self._pending: dict[int, _Pending] = {}
        self._closed = False

    def poke(self, user_id: int, reason: str) -> None:
        if self._closed:
            return
        now = time.monotonic()
        entry = self._pending.get(user_id)
        if entry is None:
            entry = self._pending[user_id] = _Pending(first_poke=now)
            entry.reasons.append(reason)
            entry.last_poke = now
            entry.task = asyncio.create_task(self._loop(user_id, entry), name=f"requeue:{user_id}")
            return
        if not entry.dirty:
            entry.dirty = True
            entry.first_poke = now
        entry.last_poke = now
        entry.reasons.append(reason)
        entry.woken.set()

    async def _loop(self, user_id: int, entry: _Pending) -> None:
        try:
            await self._run_once(user_id, entry)
            if await self._poked_within(entry, self._window):
                await self._run_once(user_id, entry)  # the second event: at once too
            while True:
                # Linger one window: a burst's later events then fold into one trailing run.
                await asyncio.sleep(self._window)
                if not entry.dirty:
                    return
                while True:
                    now = time.monotonic()
                    quiet = now - entry.last_poke
                    if quiet >= self._window or now - entry.first_poke >= self._max_wait:
                        break
                    await asyncio.sleep(self._window - quiet)
                await self._run_once(user_id, entry)
        finally:
            if self._pending.get(user_id) is entry:
                del self._pending[user_id]

    @staticmethod
    async def _poked_within(entry: _Pending, seconds: float) -> bool:
        """True as soon as the entry is poked (at once when it was during the run)."""
        entry.woken.clear()
        if not entry.dirty:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await entry.woken.wait()
        return entry.dirty

    async def _run_once(self, user_id: int, entry: _Pending) -> None:
        # Whatever was poked until now is covered by this run; later pokes make it dirty again.
        entry.dirty = False
        reason = entry.reasons[-1] if entry.reasons else "update"
        entry.reasons.clear()
        delay = RETRY_MIN_S
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                await self._run(user_id, reason)
                return
            except asyncio.CancelledError:
                raise
            except TRANSIENT as exc:
                # Redis or PostgreSQL went away under the run (killed, restarting): try again once
                # it may be back, so that the change is not left without its queue frame; a newer
                # change (dirty) brings a run of its own that covers this one.
                if self._closed or entry.dirty or time.monotonic() + delay > deadline:
                    log.warning("queue recompute for user %s failed (%r); left to the next change",
                                user_id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_S, delay * 2)
                if entry.dirty:
                    return
            except Exception:
                # One user's failed recompute must not stop the next one; the queue stays as it was.
                log.exception("queue recompute failed for user %s", user_id)
                return

    async def close(self) -> None:
        self._closed = True
        tasks = [e.task for e in self._pending.values() if e.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()

"""This instance's open connections: the per-user cap, fan-out of bus frames, idle sweeps and
the close-everything at shutdown.

Connections are registered by the stream they follow (realtime/session_keys.py): their user's
own, or a listening group's. Bus frames are queue frames (``q<seq>:``, logged for resume) or
state frames (``f<seq>:``: group, playback); a state frame naming ``exit_users`` is meant
for those members' connections only, which then go back to their own stream.

What the Hub cannot do itself it tells its listener (``HubListener``, given to the
constructor): replay what a connection missed after the bus reconnected, move a member's
connection off a group's stream, refresh group presence. The Hub knows that protocol only, so
every module dependency points down to it; realtime/runtime.py is the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol

import msgpack
from redis.exceptions import RedisError

from realtime import protocol
from realtime.bus import Bus
from realtime.connection import CLOSE_GOING_AWAY, CLOSE_NORMAL, Connection, Outgoing
from realtime.presence import CONN_TTL_S, Presence

log = logging.getLogger("musicrec.realtime")

SWEEP_MAX_S = 5.0


class HubListener(Protocol):
    """What the Hub asks of the layers above it; called only between start() and stop()."""

    async def resync(self, conn: Connection) -> None:
        """Replay what the connection may have missed while the bus reconnected; release it."""

    async def group_exit(self, conn: Connection, status: str, view: dict[str, Any] | None) -> None:
        """The member's connection must leave the group's stream (left, removed, ended);
        ``view`` is the group as the frame that said so showed it."""

    async def refresh_groups(self, entries: list[tuple[int, int, str]]) -> None:
        """Keep (group, user, connection) present in their groups."""

    def group_frame(self, stream: int, view: object) -> None:
        """A ``group`` frame arrived on a group's stream that connections here follow; ``view``
        is its Group (the group's rows, or who is present, the votes or the playback, changed)."""


class Hub:
    """Registry of local connections by user; owns the bus."""

    def __init__(
        self, presence: Presence, redis_url: str, prefix: str, idle_timeout_s: float, listener: HubListener,
    ) -> None:
        self._presence = presence
        self._idle = idle_timeout_s
        self._listener = listener
        self._users: dict[int, set[Connection]] = {}
        self._all: set[Connection] = set()
        self.bus = Bus(redis_url, prefix, self._on_message, self._on_resync)
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing = False
        self._stopped = False
        self._emptied = asyncio.Event()

    @property
    def connections(self) -> int:
        return len(self._all)

    def local(self, stream: int) -> set[Connection]:
        return self._users.get(stream, set())

    def local_users(self) -> set[int]:
        """Users with at least one open connection on this instance (on their own stream)."""
        return {stream for stream, conns in self._users.items() if conns and stream > 0}

    def following(self) -> list[Connection]:
        """Connections that follow a group's stream."""
        return [c for stream, conns in self._users.items() if stream < 0 for c in conns]

    async def start(self) -> None:
        await self.bus.start()
        self._sweeper = asyncio.create_task(self._sweep(), name="realtime-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.close_all()
        # The closed sockets' route tasks release themselves; give them a moment so that their
        # Redis bookkeeping runs now rather than as tasks left pending when the loop closes.
        if self._all:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._emptied.wait(), 2.0)
        pending = list(self._tasks)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=3.0)
            for task in late:  # Redis is unreachable: its keys expire on their own
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._stopped = True
        await self.bus.stop()

    async def admit(self, conn: Connection, cap: int) -> bool:
        """Count the connection against its user's cap (over all instances)."""
        if not await self._presence.connect(conn.user_id, conn.id, cap):
            return False
        self._all.add(conn)
        self._emptied.clear()
        return True

    async def attach(self, conn: Connection) -> None:
        """Start hearing the channel of the connection's stream; returns once Redis confirmed
        the subscription."""
        users = self._users.setdefault(conn.stream, set())
        if conn in users:  # a hello retried after a failure: already counted
            return
        users.add(conn)
        await self.bus.acquire(conn.stream)

    async def detach(self, conn: Connection) -> None:
        """Stop hearing the connection's current stream (before it switches to another)."""
        users = self._users.get(conn.stream)
        if users is None or conn not in users:
            return
        users.discard(conn)
        if not users:
            del self._users[conn.stream]
        await self.bus.release(conn.stream)

    def release(self, conn: Connection) -> None:
        """Forget a closed connection. Synchronous (it runs while the route task is being
        cancelled); the Redis side is finished by a background task."""
        if conn not in self._all:
            return
        self._all.discard(conn)
        if not self._all:
            self._emptied.set()
        stream = conn.stream
        users = self._users.get(stream)
        attached = users is not None and conn in users
        if users is not None:
            users.discard(conn)
            if not users:
                del self._users[stream]
        if self._stopped:
            # After shutdown the bus is gone; the connection's count expires with its TTL.
            return
        self.spawn(self._forget(conn, stream, attached))

    async def _forget(self, conn: Connection, stream: int, attached: bool) -> None:
        if attached:
            await self.bus.release(stream)
        with contextlib.suppress(RedisError, OSError):
            await self._presence.disconnect(conn.user_id, conn.id)

    def spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_message(self, stream: int, data: bytes) -> None:
        conns = self._users.get(stream)
        if not conns or data[:1] not in (b"q", b"f"):
            return
        head, _, body = data.partition(b":")
        seq = int(head[1:])
        if data[:1] == b"q":  # a queue frame: as published, its seq added (no decoding)
            queue = Outgoing.packed(protocol.with_seq(body, seq), "queue")
            for conn in list(conns):
                conn.deliver(seq, queue)
            return
        frame = msgpack.unpackb(body, raw=False)
        frame["seq"] = seq
        if frame.get("type") == "group":
            self._listener.group_frame(stream, frame.get("group"))
        exiting = frame.pop("exit_users", None)
        if exiting is not None:
            self._exit(conns, seq, frame, set(exiting))
            return
        out = Outgoing(frame)
        for conn in list(conns):
            conn.deliver(seq, out)

    def _exit(self, conns: set[Connection], seq: int, frame: dict[str, object], users: set[int]) -> None:
        """Members who left get the frame with its status and go back to their own stream; the
        others get the same seq as a plain `group` frame (who is in has changed). Every
        connection on the stream receives every state frame, so a local frame may wait for
        one (ConnectionStream.send_local)."""
        leaving = Outgoing(frame)
        staying = Outgoing({k: v for k, v in frame.items() if k != "status"})
        for conn in list(conns):
            if conn.user_id in users:
                conn.deliver(seq, leaving)
                view = frame.get("group")
                self.spawn(self._listener.group_exit(conn, str(frame.get("status", "left")),
                                                     view if isinstance(view, dict) else None))
            else:
                conn.deliver(seq, staying)

    def _on_resync(self, user_id: int) -> None:
        for conn in list(self._users.get(user_id, ())):
            if conn.started and not conn.closed:
                conn.hold()  # released by the resync once the missed frames are in the stream
                self.spawn(self._listener.resync(conn))

    async def _sweep(self) -> None:
        """Close idle connections; keep live ones counted in Redis."""
        interval = min(SWEEP_MAX_S, self._idle / 4)
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for conn in list(self._all):
                if not conn.closed and now - conn.last_seen > self._idle:
                    conn.close_soon(CLOSE_NORMAL, "idle timeout")
            if now - last_refresh > CONN_TTL_S / 3:
                last_refresh = now
                try:
                    await self._presence.refresh_connections([(c.user_id, c.id) for c in self._all])
                    following = [(-c.stream, c.user_id, c.id) for c in self.following()]
                    await self._listener.refresh_groups(following)
                except (RedisError, OSError) as exc:
                    log.warning("could not refresh connection counts: %s", exc)

    async def close_all(self, code: int = CLOSE_GOING_AWAY, reason: str = "server shutting down") -> None:
        self.closing = True
        conns = list(self._all)
        if conns:
            log.info("closing %d WebSocket connections (%d)", len(conns), code)
        await asyncio.gather(*(c.close(code, reason) for c in conns), return_exceptions=True)

"""Each connection's stream of server frames: seq stamping, hello and resume, resync, snapshots.

Seq. Every frame after ``welcome`` carries a seq from the counter of the stream the
connection follows (its user's, or a group's), kept in Redis, so seqs mean the same on every
instance. ``queue`` frames are stamped when published (shared by all the stream's
connections, and logged for resume); connection-local frames (ack, error, pong) take the
next value of the same counter. A local frame must not overtake a queue frame that was
published before it but is still on its way over pub/sub, so ``send_local`` waits (for at
most a moment) until the connection has delivered the stream's latest queue frame. Within a
connection, seqs therefore strictly increase, and "the last seq I saw" is always a correct
resume point.

Frames answered before ``hello`` carry seq 0: the stream has not started yet.

Dependencies point down only: this module uses the Hub (to subscribe at hello), the resume
log and the queues; the frame dispatch (realtime/dispatch.py) and the group layer
(realtime/group_live.py) use it. The Hub reaches ``resync`` through its listener
(realtime/runtime.py), never through a reference to this object.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from app.state import AppState
from app.store import users
from realtime import protocol
from realtime.connection import CLOSE_INTERNAL, Connection, Outgoing
from realtime.hub import Hub
from realtime.protocol import Hello
from realtime.queue_frames import render_many
from realtime.resume_log import HelloResult, ResumeLog
from realtime.track_cache import TrackCache
from realtime.user_queue import UserQueues

log = logging.getLogger("musicrec.realtime")

RESYNC_TRIES = 5
RESYNC_PAUSE_S = 0.2

CATCH_UP_WAIT_S = 1.0  # how long a local frame waits for a queue frame still on the bus
SEQ_ATTEMPTS = 5
USERNAMES_KEPT = 50_000


@dataclass(slots=True)
class ConnectionStream:
    """The server side of every connection's frame stream on this instance."""

    _state: AppState
    _log: ResumeLog
    _hub: Hub
    _queues: UserQueues
    _catalog: TrackCache
    # Usernames for welcome frames (they never change).
    _names: dict[int, str | None] = field(default_factory=dict, init=False)

    # -- frames to one connection ------------------------------------------------------------

    async def send_local(self, conn: Connection, frame: dict[str, Any], text: bool) -> None:
        """A frame for this connection only, stamped with its stream's next seq."""
        if not conn.started:
            frame["seq"] = 0
            conn.push(Outgoing(frame), text)
            return
        seq = 0
        for _ in range(SEQ_ATTEMPTS):
            seq, latest_queue, latest_state = await self._log.local_seq(conn.stream)
            latest = max(latest_queue, latest_state)
            if (latest > conn.cursor and not await conn.wait_cursor(latest, CATCH_UP_WAIT_S)
                    and latest_queue > conn.cursor):
                # The bus lost a queue frame (Redis reconnecting): take it from the log. A lost
                # state frame cannot be replayed; the next one (or a group_join) says it all.
                conn.hold()  # resync() releases it: bus frames wait behind the replay
                await self.resync(conn)
            if seq > conn.cursor:
                break
            # A newer queue frame arrived while the seq was being fetched: take a later one.
        frame["seq"] = seq
        conn.push(Outgoing(frame), text, seq)

    async def send_error(
        self, conn: Connection, code: str, message: str, ref: protocol.Ref | None, text: bool
    ) -> None:
        await self.send_local(conn, protocol.error_frame(code, message, ref), text)

    async def ack(self, conn: Connection, ref: protocol.Ref | None, text: bool) -> None:
        if ref is not None:
            await self.send_local(conn, {"type": "ack", "ref": ref}, text)

    # -- hello and resume --------------------------------------------------------------------

    async def hello(self, conn: Connection, frame: Hello, text: bool) -> None:
        if conn.started:
            await self.send_error(conn, "already_started", "hello was already received", frame.ref, text)
            return
        conn.text = text
        user_id = conn.user_id
        # Subscribed (and confirmed) before the session is read: anything published after
        # the read arrives on the bus, anything before is in what the read returns.
        await self._hub.attach(conn)
        found = await self._current(user_id, frame.resume_after)
        if found is None:
            await self.send_error(conn, "unavailable", "the session could not be started", frame.ref, text)
            return
        welcome: dict[str, Any] = {
            "type": "welcome",
            "user": {"id": user_id, "username": await self._username(user_id)},
            "resumed": found.resumed,
            "limits": self._limits(),
        }
        with_ref(welcome, frame.ref)
        if found.resumed:
            welcome["seq"] = found.seq
            conn.push(Outgoing(welcome), text, found.seq)
            for replayed in await render_many(self._catalog, found.replay):
                conn.push(Outgoing(replayed), text, replayed["seq"])
        else:
            welcome["seq"] = found.seq - 1
            conn.push(Outgoing(welcome), text, found.seq - 1)
            await self._snapshot(conn, found)
        conn.start(found.seq)
        self._fill_if_needed(user_id, found)

    async def send_queue(self, conn: Connection, stream: int, before: dict[str, Any] | None = None) -> None:
        """The stream's current queue to this connection alone, under a fresh seq (after the
        connection switched streams). ``before``, a frame that must reach the client ahead of the
        queue, takes the seq just below it (the one a welcome would take)."""
        found = await self._current(stream, None)
        if found is None:
            return
        if before is not None and found.seq - 1 > conn.cursor:
            before["seq"] = found.seq - 1
            conn.push(Outgoing(before), conn.text, found.seq - 1)
        await self._snapshot(conn, found)
        self._fill_if_needed(stream, found)

    async def _current(self, stream: int, resume_after: int | None) -> HelloResult | None:
        """The stream's state for a (re)start, its session rebuilt from PostgreSQL when Redis
        has none; None when even that failed."""
        found = await self._log.hello(stream, resume_after)
        if found is None:
            await self._queues.rebuild(stream)
            found = await self._log.hello(stream, resume_after)
        return found

    def _fill_if_needed(self, stream: int, found: HelloResult) -> None:
        if found.stale or found.last is None:
            self._queues.request(stream, "start")

    async def _snapshot(self, conn: Connection, found: HelloResult) -> None:
        """The stream's current queue, as a frame of this connection's own (seq ``found.seq``)."""
        if found.last is not None:
            (frame,) = await render_many(self._catalog, [(found.seq, found.last)])
            conn.push(Outgoing(frame), conn.text, found.seq)

    async def _username(self, user_id: int) -> str | None:
        if user_id not in self._names:
            if len(self._names) >= USERNAMES_KEPT:
                self._names.clear()
            user = await users.by_id(self._state.db, user_id)
            self._names[user_id] = user.username if user else None
        return self._names[user_id]

    def _limits(self) -> dict[str, Any]:
        s = self._state.settings
        return {
            "max_frame_bytes": s.ws_max_frame_bytes,
            "max_frames_per_s": s.ws_max_frames_per_s,
            "idle_timeout_s": s.ws_idle_timeout_s,
        }

    # -- resync ------------------------------------------------------------------------------

    async def resync(self, conn: Connection) -> None:
        """Bring a live connection up to date after the bus may have lost frames.

        It runs right after Redis comes back, when pooled connections to the old server fail on
        first use: retried a few times, and if it still cannot be done the socket is closed with
        1011 so that the client reconnects and resumes (a silent failure here would leave the tab
        without the frames it missed). Bus frames are held back meanwhile (Connection.hold)."""
        try:
            await self._resync_with_retries(conn)
        finally:
            conn.release()

    async def _resync_with_retries(self, conn: Connection) -> None:
        for attempt in range(RESYNC_TRIES):
            if conn.closed:
                return
            try:
                await self._resync_once(conn)
                return
            except (RedisError, OSError, TimeoutError) as exc:
                if attempt + 1 == RESYNC_TRIES:
                    log.warning("resync of user %s failed (%r); closing for a resume", conn.user_id, exc)
                    await conn.close(CLOSE_INTERNAL, "service unavailable, reconnect")
                    return
                await asyncio.sleep(RESYNC_PAUSE_S * (attempt + 1))

    async def _resync_once(self, conn: Connection) -> None:
        replay = await self._log.replay_after(conn.stream, conn.cursor)
        if replay is None:  # the log no longer reaches back: send the current queue afresh
            found = await self._log.hello(conn.stream, None)
            if found is not None and found.seq > conn.cursor:
                await self._snapshot(conn, found)
            return
        for frame in await render_many(self._catalog, replay):
            if frame["seq"] > conn.cursor:
                conn.push(Outgoing(frame), conn.text, frame["seq"])


def with_ref(frame: dict[str, Any], ref: protocol.Ref | None) -> dict[str, Any]:
    if ref is not None:
        frame["ref"] = ref
    return frame

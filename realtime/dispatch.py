"""One connection's client frames and their effects: what each frame does, in one place.

A frame is decoded by realtime/protocol.py (realtime/ws.py), then ``FrameDispatch.handle``
acts on it: ping and clock are answered at once, hello starts the connection's stream
(realtime/stream.py), frames of a connection that follows a group go to the group layer
(realtime/group_live.py), and the listener's own feedback, mood, next and play go to the
service layer (app/listening.py) or the queues (realtime/user_queue.py). Every answer (ack,
error, pong) leaves through the stream, stamped with the stream's next seq.

Dependencies point down only: the dispatch uses the stream, the groups and the queues; none
of them knows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import ApiError
from app.listening import change_mood, record_feedback
from app.moods_input import checked_mood_spec
from app.state import AppState
from realtime import protocol
from realtime.connection import Connection, Outgoing
from realtime.group_live import GroupLiveService
from realtime.group_state import server_ms
from realtime.protocol import Clock, Feedback, Hello, MoodChange, Next, Ping, Play
from realtime.stream import ConnectionStream, with_ref
from realtime.track_cache import TrackCache
from realtime.user_queue import UserQueues


@dataclass(frozen=True, slots=True)
class FrameDispatch:
    _state: AppState
    _stream: ConnectionStream
    _queues: UserQueues
    _catalog: TrackCache
    _groups: GroupLiveService

    async def handle(self, conn: Connection, frame: protocol.ClientFrame, text: bool) -> None:
        stream = self._stream
        if isinstance(frame, Ping):
            await stream.send_local(conn, with_ref({"type": "pong"}, frame.ref), text)
        elif isinstance(frame, Clock):
            # Unstamped, like pong: a clock sample must not wait behind the seq stream.
            reply = {"type": "clock", "client_ms": frame.client_ms, "server_ms": server_ms()}
            conn.push(Outgoing(with_ref(reply, frame.ref)), text)
        elif isinstance(frame, Hello):
            await stream.hello(conn, frame, text)
        elif not conn.started:
            await stream.send_error(conn, "hello_required", "send a hello frame first", frame.ref, text)
        elif await self._groups.handle(conn, frame, text):
            return
        elif isinstance(frame, Feedback):
            await self._feedback(conn, frame, text)
        elif isinstance(frame, MoodChange):
            await self._mood(conn, frame, text)
        elif isinstance(frame, Next):
            await self._queues.advance(conn.user_id)
            await stream.ack(conn, frame.ref, text)
        elif isinstance(frame, Play):
            await self._play(conn, frame, text)

    async def _feedback(self, conn: Connection, frame: Feedback, text: bool) -> None:
        ref = None if frame.ref is None else str(frame.ref)
        try:
            # The shared write path: durable in PostgreSQL (idempotent on ref), then published.
            await record_feedback(self._state, conn.user_id, frame.track_id, frame.action,
                                  frame.position_ms, ref)
        except ApiError as exc:
            await self._stream.send_error(conn, exc.code, exc.message, frame.ref, text)
            return
        await self._stream.ack(conn, frame.ref, text)

    async def _play(self, conn: Connection, frame: Play, text: bool) -> None:
        if not await self._catalog.get_many([frame.track_id]):
            await self._stream.send_error(conn, "unknown_track", f"no track with id {frame.track_id}",
                                          frame.ref, text)
            return
        await self._queues.play_now(conn.user_id, frame.track_id)
        await self._stream.ack(conn, frame.ref, text)

    async def _mood(self, conn: Connection, frame: MoodChange, text: bool) -> None:
        try:
            spec = await checked_mood_spec(self._state.db, frame.preset, frame.text, frame.energy,
                                           frame.valence)
        except ApiError as exc:  # an unknown preset, or words that mean nothing
            await self._stream.send_error(conn, exc.code, exc.message, frame.ref, text)
            return
        await change_mood(self._state, conn.user_id, spec)
        await self._stream.ack(conn, frame.ref, text)

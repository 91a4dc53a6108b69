"""One open WebSocket: its place in the user's seq stream and its bounded send buffer.

Frames are queued here and written by a short-lived flusher task, so a slow client only
ever blocks its own flusher: the bus, the sessions and every other connection carry on.
When the buffer is full, older unsent ``queue`` frames are dropped in favour of the newest
(each is a whole snapshot); a client that still cannot keep up is closed (1008), and
reconnects with ``resume_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from typing import Any, Protocol

import msgpack

from realtime import protocol

log = logging.getLogger("musicrec.realtime")

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL = 1011  # a backing service failed: reconnect and resume

# Fire-and-forget closes are kept referenced until done (asyncio holds tasks only weakly).
_closing: set[asyncio.Task[None]] = set()


class Socket(Protocol):
    """What a connection needs of Quart's websocket object."""

    async def send(self, data: bytes | str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class Outgoing:
    """A server frame, encoded at most once per format however many connections send it."""

    __slots__ = ("_binary", "_frame", "_text", "kind")

    def __init__(self, frame: dict[str, Any]) -> None:
        self._frame: dict[str, Any] | None = frame
        self.kind: str = frame["type"]
        self._binary: bytes | None = None
        self._text: str | None = None

    @classmethod
    def packed(cls, binary: bytes, kind: str) -> Outgoing:
        """A frame that arrived encoded (MessagePack, ``kind`` its type): sent as it is to
        binary clients, decoded only for a text client."""
        out = cls.__new__(cls)
        out._frame, out.kind, out._binary, out._text = None, kind, binary, None
        return out

    @property
    def frame(self) -> dict[str, Any]:
        if self._frame is None:
            assert self._binary is not None
            self._frame = msgpack.unpackb(self._binary, raw=False)
        return self._frame

    def encoded(self, text: bool) -> bytes | str:
        if text:
            if self._text is None:
                self._text = protocol.encode(self.frame, True)  # type: ignore[assignment]
            return self._text  # type: ignore[return-value]
        if self._binary is None:
            self._binary = protocol.encode(self.frame, False)  # type: ignore[assignment]
        return self._binary  # type: ignore[return-value]


class Connection:
    """One client socket of one user."""

    def __init__(self, socket: Socket, user_id: int, buffer_size: int) -> None:
        self.id = secrets.token_hex(8)
        self.user_id = user_id
        # The stream this connection follows: its user's own (the user id), or a listening
        # group's (realtime.session_keys.group_stream) after a group_join.
        self.stream = user_id
        self.socket = socket
        self.text = False  # pushed frames use the format of the client's hello
        self.started = False  # the stream (and its seq) starts with the welcome frame
        self.cursor = 0  # highest seq put into this connection's stream
        self.held: list[tuple[int, Outgoing]] = []  # bus frames that arrived before the welcome
        self.holding = 0  # resyncs filling a gap: bus frames wait behind them (hold())
        self.last_seen = time.monotonic()
        self.closed = False
        self.dropped_frames = 0
        self._buffer: deque[tuple[Outgoing, bool]] = deque()
        self._capacity = buffer_size
        self._flusher: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    # -- the seq stream ---------------------------------------------------------------------

    def deliver(self, seq: int, out: Outgoing) -> None:
        """A frame published to the user (bus). Frames the stream already covers are skipped:
        they reached this connection through a resume replay or a snapshot."""
        if self.closed:
            return
        if not self.started or self.holding:
            self.held.append((seq, out))
            return
        if seq <= self.cursor:
            return
        self.push(out, self.text, seq)

    def start(self, cursor: int) -> None:
        """The welcome (and any replay) is queued: deliver what the bus brought meanwhile."""
        self.started = True
        self.cursor = max(self.cursor, cursor)
        held, self.held = self.held, []
        for seq, out in held:
            self.deliver(seq, out)

    def hold(self) -> None:
        """Keep bus frames back until release(): the stream may have a gap (the bus was away),
        and a newer frame delivered first would move the cursor past the frames in the gap."""
        self.holding += 1

    def release(self) -> None:
        """The gap is filled: deliver what the bus brought meanwhile, in order."""
        self.holding = max(0, self.holding - 1)
        if self.holding:
            return
        held, self.held = self.held, []
        for seq, out in held:
            self.deliver(seq, out)

    def push(self, out: Outgoing, text: bool, seq: int | None = None) -> None:
        if self.closed:
            return
        if seq is not None:
            self.cursor = max(self.cursor, seq)
            self._wake(self.cursor)
        self._enqueue(out, text)

    async def wait_cursor(self, target: int, patience_s: float) -> bool:
        """Until the stream has reached ``target`` (a frame in flight on the bus)."""
        if self.cursor >= target:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (target, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, patience_s)
            return True
        except TimeoutError:
            return False
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def _wake(self, cursor: int) -> None:
        for target, future in self._waiters:
            if target <= cursor and not future.done():
                future.set_result(None)

    # -- the send buffer --------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def _enqueue(self, out: Outgoing, text: bool) -> None:
        if len(self._buffer) >= self._capacity:
            self._shed(out)
        if len(self._buffer) >= self._capacity:
            log.info("closing connection %s of user %s: send buffer full", self.id, self.user_id)
            self.dropped_frames += len(self._buffer) + 1
            self._buffer.clear()
            self.close_soon(CLOSE_POLICY, "send buffer full: the client does not read its frames")
            return
        self._buffer.append((out, text))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name=f"ws-send:{self.id}")

    def _shed(self, newest: Outgoing) -> None:
        """Drop unsent queue frames that a newer one supersedes (the newest is kept)."""
        keep_last_queue = newest.kind != "queue"
        kept: deque[tuple[Outgoing, bool]] = deque()
        for item in reversed(self._buffer):
            if item[0].kind == "queue":
                if not keep_last_queue:
                    self.dropped_frames += 1
                    continue
                keep_last_queue = False
            kept.appendleft(item)
        self._buffer = kept

    async def _flush(self) -> None:
        try:
            while self._buffer:
                out, text = self._buffer.popleft()
                await self.socket.send(out.encoded(text))
        except asyncio.CancelledError:
            raise
        except Exception:
            # The peer is gone; the route's receive loop notices and cleans up.
            self.closed = True
            self._buffer.clear()
        finally:
            self._flusher = None

    # -- closing ----------------------------------------------------------------------------

    def close_soon(self, code: int, reason: str) -> None:
        """Close from synchronous code (a bus callback); the close runs as its own task."""
        if not self.closed:
            task = asyncio.create_task(self.close(code, reason), name=f"ws-close:{self.id}")
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._buffer.clear()
        flusher = self._flusher
        if flusher is not None and flusher is not asyncio.current_task():
            flusher.cancel()
        with contextlib.suppress(Exception):
            await self.socket.close(code, reason[:120])  # a close reason is at most 123 bytes

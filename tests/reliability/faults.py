"""Helpers for the fault tests: backing servers of their own that a test may kill, and a
WebSocket tab that behaves like the player (reconnects, resumes from the last seq, retries a
refused feedback with the same ref, and follows its listening group again after a reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.typing import Origin

from services.postgres import EmbeddedPostgres
from services.redis import EmbeddedRedis
from tests.realtime.conftest import free_port

# -- backing servers a test owns ----------------------------------------------------------------


def _sigkill_tree(pid: int) -> None:
    """SIGKILL a process and every child it has (a PostgreSQL postmaster and its backends)."""
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    victims = [proc, *proc.children(recursive=True)]
    for victim in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            victim.send_signal(signal.SIGKILL)
    psutil.wait_procs(victims, timeout=10)


class _OwnServer:
    """One of the project's embedded servers on a free loopback port, in a directory of the
    test's own, that a test may SIGKILL (a crash, not a shutdown) and restart."""

    name = "server"
    # PostgreSQL leaves its pid file behind a crash (as it would): only Redis is checked gone.
    gone_after_kill = True

    def __init__(self, server: EmbeddedRedis | EmbeddedPostgres) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def kill(self) -> None:
        """SIGKILL the server and every child it has (for PostgreSQL: each backend)."""
        pid = self.server.pid()
        assert pid is not None, f"{self.name} is not running"
        _sigkill_tree(pid)
        if self.gone_after_kill:
            assert self.server.pid() is None

    def stop(self) -> None:
        pid = self.server.pid()
        if pid is None:
            return
        try:
            self.server.stop()
        finally:
            _sigkill_tree(pid)


class OwnRedis(_OwnServer):
    """The embedded redis-server (services/redis.py: the production settings, AOF on)."""

    name = "redis-server"

    def __init__(self, tmp: Path) -> None:
        super().__init__(EmbeddedRedis(tmp, free_port()))


class OwnPostgres(_OwnServer):
    """The embedded PostgreSQL (services/postgres.py)."""

    name = "postgres"
    gone_after_kill = False

    def __init__(self, tmp: Path) -> None:
        super().__init__(EmbeddedPostgres(tmp, free_port()))


@contextlib.contextmanager
def owned(server: _OwnServer) -> Iterator[_OwnServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- a player tab -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str  # "ack", "error" (with code) or "closed"
    code: str | None = None


@dataclass
class LiveTab:
    """One player tab on ``urls`` (tried in turn): connects, says hello (resuming from the last
    seq it saw after a drop), reads every frame, and reconnects until told to stop."""

    urls: list[str]
    cookie: str
    name: str = ""
    # A group to follow: after each hello the tab sends group_join, and counts as connected
    # only once that is acked (the player's rejoin); a refused join drops the connection.
    group_id: int | None = None
    last_seq: int | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    ws: ClientConnection | None = None
    queue_frames: list[tuple[float, int]] = field(default_factory=list)  # (received at, seq)
    # seq -> (now playing, upcoming)
    queue_contents: dict[int, tuple[int | None, tuple[int, ...]]] = field(default_factory=dict)
    queue_groups: dict[int, int | None] = field(default_factory=dict)  # seq -> the frame's group_id
    joins: int = 0  # group_join frames sent
    seqs: list[int] = field(default_factory=list)  # every seq received, in order, over all connections
    kinds: list[str] = field(default_factory=list)  # the type of the frame of each of those seqs
    closes: list[int | None] = field(default_factory=list)
    refused_handshakes: int = 0
    drops: list[float] = field(default_factory=list)  # when a connection was lost
    resumed: list[tuple[float, bool]] = field(default_factory=list)  # (welcome at, resumed)
    url_index: int = 0
    _pending: dict[str, asyncio.Future[Outcome]] = field(default_factory=dict)
    _queue_event: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _closing: asyncio.Future[None] | None = None
    _stopping: bool = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"tab-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _open(self) -> ClientConnection:
        url = self.urls[self.url_index % len(self.urls)]
        host = url.split("/")[2]
        return await connect(
            url,
            origin=Origin(f"http://{host}"),
            additional_headers={"Cookie": self.cookie},
            max_size=2**22,
            ping_interval=None,
            open_timeout=5,
            close_timeout=2,
        )

    async def _run(self) -> None:
        delay = 0.05
        while not self._stopping:
            try:
                ws = await self._open()
            except (OSError, TimeoutError, InvalidStatus, InvalidURI, ConnectionClosed) as exc:
                if isinstance(exc, InvalidStatus):
                    self.refused_handshakes += 1
                self.url_index += 1  # try the next instance
                await asyncio.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            delay = 0.05
            self.ws = ws
            try:
                await ws.send(msgpack.packb({"type": "hello", "resume_after": self.last_seq}))
                if self.group_id is not None:
                    self.joins += 1
                    await ws.send(msgpack.packb({"type": "group_join", "group_id": self.group_id,
                                                 "ref": self._join_ref}))
                async for raw in ws:
                    self._on_frame(
                        msgpack.unpackb(raw, raw=False) if isinstance(raw, bytes) else json.loads(raw)
                    )
            except ConnectionClosed:
                pass
            except OSError:
                pass
            self.connected.clear()
            self.ws = None
            self.drops.append(time.monotonic())
            self.closes.append(ws.close_code)
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_result(Outcome("closed"))
            self._pending.clear()
            if ws.close_code == 1001:
                self.url_index += 1  # that instance is going away

    def _on_frame(self, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        seq = frame.get("seq")
        kind = frame.get("type")
        if kind == "welcome":
            self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
            self.resumed.append((now, bool(frame.get("resumed"))))
            if self.group_id is None:
                self.connected.set()
            return
        if isinstance(seq, int) and seq > 0:
            self.seqs.append(seq)
            self.kinds.append(str(kind))
            self.last_seq = seq if self.last_seq is None else max(self.last_seq, seq)
        if kind == "queue":
            self.queue_frames.append((now, seq))
            self.queue_groups[seq] = frame.get("group_id")
            playing = frame.get("now_playing")
            self.queue_contents[seq] = (
                playing.get("id") if isinstance(playing, dict) else None,
                tuple(t.get("id") for t in frame.get("tracks") or () if isinstance(t, dict)),
            )
            self._queue_event.set()
        ref = frame.get("ref")
        if self.group_id is not None and ref == self._join_ref:
            if kind == "ack":
                self.connected.set()
            elif kind == "error" and self.ws is not None:
                self._closing = asyncio.ensure_future(self.ws.close())  # reconnect, join again
            return
        if kind in ("ack", "error", "pong") and isinstance(ref, str) and ref in self._pending:
            fut = self._pending.pop(ref)
            if not fut.done():
                fut.set_result(Outcome("error", frame.get("code")) if kind == "error" else Outcome(kind))

    @property
    def _join_ref(self) -> str:
        return f"join-{self.joins}"

    async def request(self, frame: dict[str, Any], within_s: float = 10.0) -> Outcome:
        """Send a frame carrying ``ref`` and wait for its ack / error / pong, or the drop."""
        ref = frame["ref"]
        try:
            await asyncio.wait_for(self.connected.wait(), within_s)
        except TimeoutError:
            return Outcome("closed")
        ws = self.ws
        if ws is None:
            return Outcome("closed")
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending[ref] = fut
        try:
            await ws.send(msgpack.packb(frame))
            return await asyncio.wait_for(fut, within_s)
        except (ConnectionClosed, OSError):
            return Outcome("closed")
        except TimeoutError:
            return Outcome("timeout")
        finally:
            self._pending.pop(ref, None)

    async def send_until_acked(
        self, frame: dict[str, Any], deadline_s: float = 60.0
    ) -> tuple[int, list[str]]:
        """The player's retry loop: resend (same ref) until acked. Returns (tries, refusals seen)."""
        refusals: list[str] = []
        tries = 0
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            tries += 1
            outcome = await self.request(frame, within_s=5.0)
            if outcome.kind == "ack":
                return tries, refusals
            refusals.append(outcome.code or outcome.kind)
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name}: {frame['ref']} never acked; refusals {refusals[-5:]}")

    def last_queue(self) -> tuple[int | None, int | None, tuple[int, ...]]:
        """(group_id, now playing, upcoming) of the newest queue frame received."""
        seq = self.queue_frames[-1][1]
        return (self.queue_groups[seq], *self.queue_contents[seq])

    async def queue_after(self, since: float, within_s: float, group_id: int | None = None) -> float:
        """Wait for a queue frame received after ``since`` (of that group, when given);
        returns when it arrived."""
        deadline = time.monotonic() + within_s
        while True:
            for at, seq in reversed(self.queue_frames):
                if at <= since:
                    break
                if group_id is None or self.queue_groups.get(seq) == group_id:
                    return at
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no queue frame after {since}")
            self._queue_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue_event.wait(), left)

"""The server's end of one Edge host (recsys/index/edge_host.py): the child process, the pipe
to it, and one awaitable call per request.

Requests may be in flight together; the host answers them one at a time, in the order they
were sent, so a write is seen by every request sent after it. A call whose caller is
cancelled still runs in the host; its answer is dropped. When the host dies, every call in
flight and every later one fails with TrackIndexError, naming the exit and the end of its
stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import sys
from collections import deque
from pathlib import Path
from typing import Any

import msgpack

from recsys.index.base import TrackIndexError
from recsys.index.edge_host import HEADER
from recsys.index.edge_shard import wire_default

log = logging.getLogger(__name__)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
STDERR_LINES = 20  # of a host's stderr, kept to explain its failure


class EdgeHost:
    """One running host holding the shard at ``path``; ``collab`` is what ``open`` reported."""

    def __init__(self, proc: asyncio.subprocess.Process, path: Path) -> None:
        self.path = path
        self.collab: tuple[str, int] | None = None
        self._proc = proc
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._failure: TrackIndexError | None = None
        self._reader = asyncio.create_task(self._read_replies(), name="edge-host-replies")
        self._drain = asyncio.create_task(self._read_stderr(), name="edge-host-stderr")

    @classmethod
    async def start(cls, path: Path, max_search_threads: int | None, *, create: bool) -> EdgeHost:
        """A host with the shard at ``path`` open (``create``: a new empty one made there)."""
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "recsys.index.edge_host",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=_PROJECT_ROOT, env=env,
        )
        host = cls(proc, path)
        try:
            collab = await host.call("open", str(path), max_search_threads or 0, create)
        except BaseException as exc:
            await host.kill()
            if isinstance(exc, TrackIndexError):
                raise TrackIndexError(f"cannot open the Edge index at {path}: {exc}") from exc
            raise
        host.collab = (str(collab[0]), int(collab[1])) if collab else None
        return host

    @property
    def alive(self) -> bool:
        return self._failure is None and self._proc.returncode is None

    async def call(self, op: str, *args: Any) -> Any:
        if self._failure is not None:
            raise self._failure
        rid = next(self._ids)
        body = msgpack.packb([rid, op, list(args)], use_bin_type=True, default=wire_default)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(HEADER.pack(len(body)) + body)
            await stdin.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._waiting.pop(rid, None)
            raise self._failed(f"the Edge host is gone ({exc})") from exc
        try:
            return await future
        finally:
            self._waiting.pop(rid, None)

    async def close(self) -> None:
        """Flush and close the shard, and wait for the host to exit."""
        if self.alive:
            with contextlib.suppress(TrackIndexError):
                await self.call("close")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._proc.wait(), timeout=30)
        await self.kill()

    async def kill(self) -> None:
        """Stop the host at once, writing nothing more (a retired host's files are moved away)."""
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        for task in (self._reader, self._drain):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._failed("the Edge host was stopped")

    def _failed(self, why: str) -> TrackIndexError:
        if self._failure is None:
            tail = " | ".join(self._stderr)
            self._failure = TrackIndexError(f"{why}{': ' + tail if tail else ''}")
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(self._failure)
            self._waiting.clear()
        return self._failure

    async def _read_replies(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            while True:
                header = await stdout.readexactly(HEADER.size)
                body = await stdout.readexactly(HEADER.unpack(header)[0])
                rid, ok, value = msgpack.unpackb(body, raw=False, strict_map_key=False)
                future = self._waiting.pop(rid, None)
                if future is None or future.done():
                    continue  # its caller was cancelled
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(TrackIndexError(str(value)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as exc:  # a frame that does not decode: nothing after it can be trusted
            self._failed(f"the Edge host sent a broken reply ({exc})")
            self._proc.kill()
        # The pipe closed: the host exited. Let its last words reach _stderr first.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._drain), timeout=1.0)
        code = await self._proc.wait()
        self._failed(f"the Edge host exited (code {code})")

    async def _read_stderr(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        while line := await stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                self._stderr.append(text)
                log.debug("edge host: %s", text)

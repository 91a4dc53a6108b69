"""The Qdrant Edge shard's lifecycle: open or create it, recreate, close, optimize, collab swap.

The live shard is held by a child process, the Edge host (recsys/index/edge_host.py; its
pipe: edge_remote.py), never by the server itself. Edge holds the GIL for the whole of every
call, and a swap's load and close are long calls: in the server, a new model's swap stopped
the event loop ~70 ms to load the new shard and ~60 ms to close the old one at 2,000 tracks,
~0.45 s to load one of 41k (measured); every socket of the instance waited. In a host, a
query or a write costs the server a message each way and leaves its event loop free while
the host works.

- Turns (``_turns``, a readers-writer lock): queries share the shard; a write, the switch to
  a new host, a recreate and a close each have it alone. So a reader's cache (edge.py's memo,
  changed only by writes and switches) always matches what the host holds.
- ``optimize()`` (the HNSW build: minutes at 100k tracks) runs in a child process on a copy
  of the shard; the live host keeps serving; writes made meanwhile are kept (``_pending``).
- ``replace_collab`` uses the same copy-and-swap path: a child process
  (recsys/index/edge_collab_build.py) builds a NEW shard in ``<path>.collab`` with all three
  vectors (a shard's vector set is fixed when it is created, so the collab vector cannot be
  added in place), filled from a copy of the live shard, and optimizes it.
- The swap (``_swap_in``), writes held back throughout: the live host flushes; the live
  directory moves to ``.old`` (the live host keeps answering from its open files) and the
  copy takes its place; a NEW host loads it while the old one still serves; the kept writes
  are replayed on the new host; then, in one exclusive turn, the new host becomes the live
  one. A query runs wholly on one host: it sees the old model or the new one, never a mix.
  The old host is killed, not closed: its files are flushed and moved away, and nothing may
  be written to them any more. Its directory is then removed.
- The model's version and dim are kept in ``musicrec-collab.json`` INSIDE the shard
  directory, so they move with the data in the same rename (the dim is needed to open the
  shard: Edge refuses a config that differs).
- A host that dies (killed, out of memory) is started again by the next query, from the
  files on disk (Edge replays its write-ahead log).
- The snapshot copy, the build and the optimize each run in a child process at the lowest CPU
  priority (``_run_child``, recsys/background.py): what they do, in a thread of the server or
  at full priority, held live pushes tens of milliseconds.

Whatever a reader caches of the stored points is dropped through ``forget`` (given to the
constructor, called in an exclusive turn) whenever the stored data changes wholesale: a
recreate, a restart, or a swap to another model. A collab swap hands ``forget`` the new model
and the points its replayed writes touched: everything else of a point (payload, text, audio)
is unchanged by it, so a reader may keep those and take the collab part from the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiorwlock import RWLock

from recsys.background import BackgroundJobFailed, run_background
from recsys.index.base import CollabVectors, TrackIndexError
from recsys.index.edge_remote import EdgeHost
from recsys.index.edge_shard import save_collab_vectors

log = logging.getLogger(__name__)

# forget(None, ()): drop every cached point; forget(model, written): the stored data is now
# that model's (collab vectors and fields), and the points in ``written`` were rewritten.
Forget = Callable[["CollabVectors | None", "set[int]"], None]
# A write as the host takes it (``op``, ``args``), kept to replay on a copy being built.
Write = tuple[str, tuple[Any, ...]]


class ShardLifecycle:
    """The live Edge shard at ``path`` (one process per path), its host and its swaps."""

    def __init__(self, path: Path, max_search_threads: int | None, forget: Forget) -> None:
        self._path = Path(path)
        self._max_search_threads = max_search_threads
        self._forget = forget
        self._host: EdgeHost | None = None
        # See the module docstring; fast: a free turn is taken without a trip round the loop.
        self._turns = RWLock(fast=True)
        # Writes made while a copy is being built, to replay on it before the swap.
        self._pending: list[Write] | None = None
        self.collab: tuple[str, int] | None = None  # (version, dim) of the live shard
        self._optimize_lock = asyncio.Lock()
        self._writes = asyncio.Lock()  # held by writes, a snapshot's copy and a swap
        self._generation = 0  # bumped by recreate(): an optimized copy of older data is stale
        self._closed = False

    # -- turns ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[EdgeHost]:
        """The live host, for a query: other queries run meanwhile, writes and swaps wait."""
        await self._revive()
        async with self._turns.reader:
            yield self._live()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[EdgeHost]:
        """The live host, alone (see ``apply``), after any snapshot copy in progress: the copy
        reads the shard's files, so they must not change under it."""
        async with self._writes:
            await self._revive()
            async with self._turns.writer:
                yield self._live()

    async def apply(self, host: EdgeHost, op: str, *args: Any) -> Any:
        """A write on the live host (inside ``writing``), kept for replay while a copy is built."""
        result = await host.call(op, *args)
        if self._pending is not None:
            self._pending.append((op, args))
        return result

    def _live(self) -> EdgeHost:
        if self._host is None:
            raise TrackIndexError("the Edge index is not open: call ensure() first")
        return self._host

    @property
    def collab_dim(self) -> int | None:
        return self.collab[1] if self.collab else None

    # -- open, recreate, close ----------------------------------------------------------------

    def _prepare(self) -> bool:
        """Clear what an unfinished swap or build left; True when there is no shard to load."""
        work, old = self._side_paths()
        if not self._path.exists() and old.exists():
            # A crash between the two renames of a swap: the old shard is intact.
            old.rename(self._path)
        shutil.rmtree(old, ignore_errors=True)  # a swap done but not cleaned up
        shutil.rmtree(work, ignore_errors=True)  # an unfinished optimize's copy
        shutil.rmtree(self._collab_path(), ignore_errors=True)  # an unfinished collab build
        shutil.rmtree(self._collab_source_path(), ignore_errors=True)  # and its source copy
        return not (self._path.is_dir() and any(self._path.iterdir()))

    async def _open(self) -> None:
        create = await asyncio.to_thread(self._prepare)
        self._host = await EdgeHost.start(self._path, self._max_search_threads, create=create)
        self.collab = self._host.collab

    async def ensure(self) -> None:
        async with self._turns.writer:
            if self._host is None and not self._closed:
                await self._open()

    async def _revive(self) -> None:
        """Start the host again if it died (killed, out of memory) while open."""
        host = self._host
        if host is not None and not host.alive and not self._closed:
            await self._restart(host)

    async def _restart(self, dead: EdgeHost) -> None:
        async with self._turns.writer:
            if self._host is not dead or self._closed:
                return  # someone else restarted it
            log.warning("the Edge host stopped; starting it again from %s", self._path)
            await dead.kill()
            self._host = None
            self._forget(None, set())
            await self._open()

    async def recreate(self) -> None:
        async with self._writes, self._turns.writer:
            self._generation += 1
            self._pending = None
            self._forget(None, set())
            if self._host is not None:
                await self._host.close()
                self._host = None
            await asyncio.to_thread(shutil.rmtree, self._path, True)
            await self._open()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # a copy being built is thrown away, not swapped in
        async with self._turns.writer:
            if self._host is not None:
                await self._host.close()
                self._host = None

    async def health(self) -> bool:
        try:
            async with self.reading() as host:
                await host.call("count", False)
            return True
        except (TrackIndexError, OSError):
            return False

    # -- optimize ---------------------------------------------------------------------------

    @property
    def optimizing(self) -> bool:
        """True while an optimized copy is being built."""
        return self._pending is not None

    async def optimize(self) -> None:
        """Build HNSW in a child process on a copy, then swap the copy in.

        Queries keep being answered from the live shard meanwhile. Safe to start as a
        background task after an import; a second call waits for the first. A recreate()
        or close() meanwhile makes the copy stale: it is thrown away, not swapped in.
        """
        async with self._optimize_lock:
            work, _ = self._side_paths()
            generation = await self._snapshot(work, skip_empty=True)
            if generation is None:
                return
            try:
                await self._run_child("optimize", "recsys.index.edge_optimize", str(work))
            except BaseException:
                await self._abandon(work)
                raise
            await self._swap_in(generation, work)

    async def _snapshot(self, copy_to: Path, *clear: Path, skip_empty: bool = False) -> int | None:
        """Flush the live shard and copy its directory to ``copy_to``; from then on writes are
        also kept for replay on what is built from the copy. Returns the generation, or None
        (``skip_empty``) for an empty shard. Queries go on being answered meanwhile; writes
        wait until the copy is done."""
        async with self._writes:
            host = self._live()
            if skip_empty and await host.call("count", False) == 0:
                return None
            await host.call("flush")
            for path in clear:
                await asyncio.to_thread(shutil.rmtree, path, True)
            self._pending = []
            try:
                await self._run_child("snapshot copy", "recsys.index.edge_copy", str(self._path),
                                      str(copy_to))
            except BaseException:
                await self._abandon(copy_to)
                raise
            return self._generation

    def _side_paths(self) -> tuple[Path, Path]:
        return (
            self._path.with_name(self._path.name + ".optimizing"),
            self._path.with_name(self._path.name + ".old"),
        )

    async def _run_child(self, what: str, module: str, *args: str) -> None:
        """``python -m MODULE ARGS`` in a child at the lowest CPU priority
        (recsys.background); TrackIndexError with its stderr's tail on failure."""
        try:
            await run_background(f"Edge {what}", module, *args)
        except BackgroundJobFailed as exc:
            raise TrackIndexError(str(exc)) from exc

    async def _abandon(self, work: Path) -> None:
        """Forget a copy being built (optimize's or a collab build's) and its replay log."""
        self._pending = None
        await asyncio.to_thread(shutil.rmtree, work, True)

    async def _swap_in(self, generation: int, work: Path, model: CollabVectors | None = None) -> bool:
        """Make the shard built at ``work`` the live one (see the module docstring). False when
        it was thrown away instead (recreated or closed meanwhile, or it did not load)."""
        async with self._writes:
            old_host = self._host
            if generation != self._generation or old_host is None or self._closed:
                await self._abandon(work)
                return False
            pending, self._pending = self._pending or [], None
            await old_host.call("flush")
            _, old = self._side_paths()
            await asyncio.to_thread(self._move_in, work, old)
            try:
                new = await EdgeHost.start(self._path, self._max_search_threads, create=False)
            except Exception:
                # Keep serving the previous data rather than nothing: its host is still up.
                log.exception("the new Edge shard did not load; keeping the previous one")
                await asyncio.to_thread(self._move_back, old)
                return False
            try:
                written: set[int] = set()
                for op, args in pending:
                    result = await new.call(op, *args)
                    if op == "upsert":
                        written.update(int(p[0]) for p in result)
            except BaseException:
                await new.kill()
                await asyncio.to_thread(self._move_back, old)
                raise
            async with self._turns.writer:
                if self._closed:
                    await new.close()
                    return False
                previous_collab = self.collab
                self._host, self.collab = new, new.collab
                if self.collab != previous_collab:
                    # A reader's cache holds the old model's vectors: it takes the new ones
                    # from the model when this is that model's shard (a collab swap), else
                    # starts again.
                    known = model is not None and self.collab is not None and self.collab[0] == model.version
                    self._forget(model if known else None, written)
            await old_host.kill()
            await asyncio.to_thread(shutil.rmtree, old, True)
            return True

    def _move_in(self, work: Path, old: Path) -> None:
        if old.exists():  # left by a crash
            shutil.rmtree(old, ignore_errors=True)
        self._path.rename(old)
        work.rename(self._path)

    def _move_back(self, old: Path) -> None:
        shutil.rmtree(self._path, ignore_errors=True)
        old.rename(self._path)

    # -- the collab swap --------------------------------------------------------------------

    def _collab_path(self) -> Path:
        return self._path.with_name(self._path.name + ".collab")

    def _collab_source_path(self) -> Path:
        return self._path.with_name(self._path.name + ".collab-source")

    async def replace_collab(self, model: CollabVectors) -> None:
        """Build a new shard with every point and the model's collab vectors, then swap it in
        (see the module docstring). Serialised with ``optimize`` (one copy at a time).

        The build runs in a child process (recsys.index.edge_collab_build) on a copy of the
        live shard: Edge holds the GIL while it writes. Here only the copy is made
        (``_snapshot``, as for optimize) and the finished shard swapped in."""
        async with self._optimize_lock:
            work = self._collab_path()
            source = self._collab_source_path()
            generation = await self._snapshot(source, work)
            assert generation is not None
            try:
                model_file = work.with_name(work.name + ".npz")
                await asyncio.to_thread(save_collab_vectors, model, model_file)
                try:
                    await self._run_child(
                        "collab build", "recsys.index.edge_collab_build", str(source), str(work),
                        str(model_file), str(self._max_search_threads or 0),
                    )
                finally:
                    model_file.unlink(missing_ok=True)
                    await asyncio.to_thread(shutil.rmtree, source, True)
            except BaseException:
                await self._abandon(work)
                raise
            if self._closed:
                await self._abandon(work)
                return
            if not await self._swap_in(generation, work, model):
                raise TrackIndexError("the collab model's shard was not swapped in (the index was "
                                      "recreated, or the new shard did not load); train again")

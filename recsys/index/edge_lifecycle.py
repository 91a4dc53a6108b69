"""The Qdrant Edge shard's lifecycle: open or create it, recreate, close, optimize, collab swap.

Edge's API is synchronous and holds the GIL while it works. Writes, swaps and everything
else that may take long run in ONE dedicated worker thread (``call``, ``write``); queries
(recsys/index/edge.py, ``read``) run on the caller's thread, the event loop's, whenever the
shard is free: a query holds the GIL for its whole length wherever it runs, so a hop to the
worker thread bought no parallelism, only two GIL hand-offs per query, each a wait of up to
the interpreter's 5 ms switch interval while the loop was busy (measured: two threads
querying one shard take exactly twice as long as one). One lock (``_lock``) serialises every
call on the shard, which it needs: it is one mutable object. A query that finds the shard
busy (a write or a swap in progress) queues on the worker thread instead of blocking the
event loop on the lock.

- ``optimize()`` (the HNSW build: minutes at 100k tracks, and the whole process would freeze
  for that long, measured) runs in a child process on a copy of the shard; the live shard
  keeps serving, writes made meanwhile (``apply``) are replayed on the optimized copy, and the
  copy is swapped in (a reload of well under a second).
- ``replace_collab`` uses the same copy-and-swap path: a child process
  (recsys/index/edge_collab_build.py) builds a NEW shard in ``<path>.collab`` with all three
  vectors (a shard's vector set is fixed when it is created, so the collab vector cannot be
  added in place), filled from a copy of the live shard, and optimizes it; the new shard is
  swapped in under the shard's lock, which every query holds for its whole length: a query
  runs wholly before or wholly after the swap, so it sees the old model or the new one, never
  a mix. Writes made during the build are replayed on the new shard before it goes live. The
  model's version and dim are kept in ``musicrec-collab.json`` INSIDE the shard directory, so
  they move with the data in the same rename (the dim is needed to open the shard: Edge
  refuses a config that differs).

Whatever a reader caches of the stored points is dropped through ``forget`` (given to the
constructor, called under the shard's lock) whenever the stored data changes wholesale: a
recreate, or a swap to another model. A collab swap hands ``forget`` the new model and the
points its replayed writes touched: everything else of a point (payload, text, audio) is
unchanged by it, so a reader may keep those and take the collab part from the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from recsys.features import AUDIO_DIM
from recsys.index.base import (
    AUDIO,
    COLLAB,
    PAYLOAD_INDEXES,
    TEXT,
    TEXT_DIM,
    CollabVectors,
    IndexPoint,
    TrackIndexError,
    carry_collab,
    collab_of,
    named_vectors,
    point_id,
    to_storage_payload,
    without_collab,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
# forget(None, ()): drop every cached point; forget(model, written): the stored data is now
# that model's (collab vectors and fields), and the points in ``written`` were rewritten.
Forget = Callable[["CollabVectors | None", "set[int]"], None]

# Run by the child process: nothing but qdrant_edge, at a lower CPU priority so the serving
# process keeps its share of the cores.
_OPTIMIZE_SCRIPT = (
    "import os, sys\n"
    "from qdrant_edge import EdgeShard\n"
    "os.nice(10)\n"
    "shard = EdgeShard.load(sys.argv[1])\n"
    "shard.optimize()\n"
    "shard.flush()\n"
    "shard.close()\n"
)

_PROJECT_ROOT = Path(__file__).resolve().parents[2]

COLLAB_META = "musicrec-collab.json"  # {"version": ..., "dim": ...}, inside the shard directory
COPY_PAGE = 512  # points per page when a collab build copies the shard


def save_collab_vectors(model: CollabVectors, path: Path) -> None:
    """The model as the collab build's child reads it (load_collab_vectors)."""
    with path.open("wb") as out:
        np.savez(out, version=np.array(model.version), ids=model.ids, vectors=model.vectors,
                 confidence=model.confidence)


def load_collab_vectors(path: Path) -> CollabVectors:
    with np.load(path, allow_pickle=False) as data:
        return CollabVectors(str(data["version"]), data["ids"], data["vectors"], data["confidence"])

# A write as a function of the shard it applies to and that shard's collab dim (None: the
# shard has no collab vector); it returns the points it wrote (a reader's cache keeps those).
ShardOp = Callable[[Any, "int | None"], list[IndexPoint]]


def _read_collab_meta(path: Path) -> tuple[str, int] | None:
    meta = path / COLLAB_META
    if not meta.exists():
        return None
    data = json.loads(meta.read_text())
    return str(data["version"]), int(data["dim"])


def upsert_op(points: Sequence[IndexPoint]) -> ShardOp:
    """The upsert as a shard op: points without a collab vector keep the one the target shard
    holds (read from THAT shard, so a replay on a new model's shard keeps the new vector)."""

    def op(shard: Any, collab_dim: int | None) -> list[IndexPoint]:
        from qdrant_edge import Point, UpdateOperation

        final = list(points)
        lacking = [p.id for p in points if p.collab is None]
        if collab_dim is not None and lacking:
            held = {point_id(r.id): r for r in shard.retrieve(lacking, with_payload=True, with_vector=True)}
            final = [
                carry_collab(p, collab_of(held[p.id].vector), held[p.id].payload) if p.id in held else p
                for p in points
            ]
        final = [p if p.collab is None or p.collab.shape == (collab_dim,) else without_collab(p)
                 for p in final]
        stored = [to_storage_payload(p.payload) for p in final]
        pairs = list(zip(final, stored, strict=True))
        shard.update(UpdateOperation.upsert_points([Point(p.id, named_vectors(p), s) for p, s in pairs]))
        return [IndexPoint(p.id, p.text, p.audio, s, p.collab) for p, s in pairs]

    return op


def shard_config(collab_dim: int | None, max_search_threads: int | None) -> Any:
    """The Edge config of a shard with text and audio vectors (and collab, given its dim)."""
    from qdrant_edge import Distance, EdgeConfig, EdgeVectorParams

    vectors = {
        TEXT: EdgeVectorParams(size=TEXT_DIM, distance=Distance.Cosine),
        AUDIO: EdgeVectorParams(size=AUDIO_DIM, distance=Distance.Euclid),
    }
    if collab_dim is not None:
        vectors[COLLAB] = EdgeVectorParams(size=collab_dim, distance=Distance.Cosine)
    return EdgeConfig(vectors=vectors, max_search_threads=max_search_threads)


def create_shard(path: Path, collab_dim: int | None, max_search_threads: int | None) -> Any:
    """A new empty shard at ``path`` with the payload indexes the filters use."""
    from qdrant_edge import EdgeShard, PayloadSchemaType, UpdateOperation

    path.mkdir(parents=True, exist_ok=True)
    shard = EdgeShard.create(str(path), shard_config(collab_dim, max_search_threads))
    kinds = {
        "keyword": PayloadSchemaType.Keyword,
        "integer": PayloadSchemaType.Integer,
        "float": PayloadSchemaType.Float,
    }
    for key, kind in PAYLOAD_INDEXES.items():
        shard.update(UpdateOperation.create_field_index(key, kinds[kind]))
    return shard


def load_shard(path: Path, max_search_threads: int | None) -> tuple[Any, tuple[str, int] | None]:
    """The shard at ``path`` and the (version, dim) of the collab model it holds (None: none)."""
    from qdrant_edge import EdgeShard

    collab = _read_collab_meta(path)
    # Passing the config makes Edge check that the stored vectors still fit.
    shard = EdgeShard.load(str(path), shard_config(collab[1] if collab else None, max_search_threads))
    return shard, collab


class ShardLifecycle:
    """The live Edge shard at ``path`` (one process per path), its thread and its swaps."""

    def __init__(self, path: Path, max_search_threads: int | None, forget: Forget) -> None:
        self._path = Path(path)
        self._max_search_threads = max_search_threads
        self._forget = forget
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        # Held by every call on the shard, on whichever thread (see the module docstring).
        self._lock = threading.RLock()
        self._shard: Any = None
        # Writes made while a copy is being optimized, to replay on it before the swap.
        self._pending: list[ShardOp] | None = None
        self.collab: tuple[str, int] | None = None  # (version, dim) of the open shard
        self._optimize_lock = asyncio.Lock()
        self._writes = asyncio.Lock()  # held by writes and by a snapshot's copy
        self._retired: list[Any] = []  # shards a swap replaced, to close off the shard's thread
        self._generation = 0  # bumped by recreate(): an optimized copy of older data is stale
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the shard's thread, holding the shard's lock."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._locked, fn, *args)

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return fn(*args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """A short call (a query): ``fn(*args)`` right here, on the caller's thread, when the
        shard is free; queued on the shard's thread (``call``) when a write or a swap holds
        it, so that the event loop never waits on the lock."""
        if self._lock.acquire(blocking=False):
            try:
                return fn(*args)
            finally:
                self._lock.release()
        return await self.call(fn, *args)

    async def write(self, fn: Callable[[], T]) -> T:
        """A write (``fn`` calls ``apply``) on the shard's thread, after any snapshot copy in
        progress: the copy reads the shard's files, so they must not change under it."""
        async with self._writes:
            return await self.call(fn)

    async def _snapshot(self, copy_to: Path, *clear: Path, skip_empty: bool = False) -> int | None:
        """Flush the live shard and copy its directory to ``copy_to``; from then on writes are
        also kept for replay on what is built from the copy. Returns the generation, or None
        (``skip_empty``) for an empty shard.

        The copy runs in a worker thread, not on the shard's thread: queries go on being
        answered meanwhile (a copy on that thread held them up 130-280 ms, measured at 2,000
        tracks), and writes wait on ``_writes`` until it is done."""
        async with self._writes:
            generation = await self.call(self._flush_for_snapshot, (copy_to, *clear), skip_empty)
            if generation is None:
                return None
            try:
                await asyncio.to_thread(shutil.copytree, self._path, copy_to)
            except BaseException:
                await self._abandon(copy_to)
                raise
            return generation

    def _flush_for_snapshot(self, clear: Sequence[Path], skip_empty: bool) -> int | None:
        from qdrant_edge import CountRequest

        shard = self.open()
        if skip_empty and shard.count(CountRequest(exact=False)) == 0:
            return None
        shard.flush()
        for path in clear:
            shutil.rmtree(path, ignore_errors=True)
        self._pending = []
        return self._generation

    def open(self) -> Any:
        """The live shard (on the shard's thread only)."""
        if self._shard is None:
            raise TrackIndexError("the Edge index is not open: call ensure() first")
        return self._shard

    @property
    def collab_dim(self) -> int | None:
        return self.collab[1] if self.collab else None

    def apply(self, op: ShardOp) -> list[IndexPoint]:
        """A write on the live shard, kept for replay while a copy is being built."""
        written = op(self.open(), self.collab_dim)
        if self._pending is not None:
            self._pending.append(op)
        return written

    def _config(self, collab_dim: int | None = None) -> Any:
        return shard_config(collab_dim, self._max_search_threads)

    def _create_shard(self, path: Path, collab_dim: int | None) -> Any:
        return create_shard(path, collab_dim, self._max_search_threads)

    def _load_shard(self, path: Path) -> tuple[Any, tuple[str, int] | None]:
        return load_shard(path, self._max_search_threads)

    def _has_data(self) -> bool:
        return self._path.is_dir() and any(self._path.iterdir())

    def _load_or_create(self) -> None:
        if self._shard is not None:
            return
        work, old = self._side_paths()
        if not self._path.exists() and old.exists():
            # A crash between the two renames of a swap: the old shard is intact.
            old.rename(self._path)
        shutil.rmtree(work, ignore_errors=True)  # an unfinished optimize's copy
        shutil.rmtree(self._collab_path(), ignore_errors=True)  # an unfinished collab build
        shutil.rmtree(self._collab_source_path(), ignore_errors=True)  # and its source copy
        if self._has_data():
            try:
                self._shard, self.collab = self._load_shard(self._path)
            except Exception as exc:
                raise TrackIndexError(f"cannot open the Edge index at {self._path}: {exc}") from exc
            return
        self._shard = self._create_shard(self._path, None)
        self.collab = None

    def _close_shard(self) -> None:
        if self._shard is not None:
            with contextlib.suppress(Exception):  # closing a broken shard must not mask the cause
                self._shard.flush()
            self._shard.close()
            self._shard = None

    # -- open, recreate, close ----------------------------------------------------------------

    async def ensure(self) -> None:
        await self.call(self._load_or_create)

    async def recreate(self) -> None:
        def run() -> None:
            self._generation += 1
            self._pending = None
            self._forget(None, set())
            self._close_shard()
            shutil.rmtree(self._path, ignore_errors=True)
            self._load_or_create()

        await self.write(run)

    async def close(self) -> None:
        if self._closed:
            return
        await self.call(self._close_shard)
        self._closed = True
        self._pool.shutdown(wait=True)
        await self._retire()

    async def health(self) -> bool:
        def run() -> bool:
            from qdrant_edge import CountRequest

            if self._shard is None:
                return False
            self._shard.count(CountRequest(exact=False))
            return True

        try:
            return await self.call(run)
        except Exception:
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
                await self._optimize_in_child(work)
            except BaseException:
                await self._abandon(work)
                raise
            if not self._closed:
                await self.call(self._swap_in_optimized, generation)
                await self._retire()
            else:  # closed while the child worked
                self._drop_copy(work)

    def _side_paths(self) -> tuple[Path, Path]:
        return (
            self._path.with_name(self._path.name + ".optimizing"),
            self._path.with_name(self._path.name + ".old"),
        )

    async def _optimize_in_child(self, work: Path) -> None:
        await self._run_child("optimize", "-c", _OPTIMIZE_SCRIPT, str(work))

    async def _run_child(self, what: str, *args: str) -> None:
        """``python ARGS`` in a child process; TrackIndexError with its stderr's tail on failure."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            cwd=_PROJECT_ROOT,  # so that `-m recsys...` finds the package
        )
        try:
            _, stderr = await proc.communicate()
        except BaseException:
            if proc.returncode is None:  # cancelled: do not leave an orphan building HNSW
                proc.kill()
                await proc.wait()
            raise
        if proc.returncode != 0:
            detail = stderr.decode(errors="replace")[-500:]
            raise TrackIndexError(f"Edge {what} failed (exit {proc.returncode}): {detail}")

    def _drop_copy(self, work: Path) -> None:
        """Forget a copy being built (optimize's or a collab build's) and its replay log."""
        self._pending = None
        shutil.rmtree(work, ignore_errors=True)

    async def _abandon(self, work: Path) -> None:
        """_drop_copy on the shard's thread, or here once the thread is gone (closed)."""
        if not self._closed:
            await self.call(self._drop_copy, work)
        else:
            self._drop_copy(work)

    def _swap_in_optimized(self, generation: int, work: Path | None = None,
                           model: CollabVectors | None = None) -> bool:
        """Replay the pending writes on the copy at ``work`` and make it the live shard, in
        one executor call (so between two queries). False when it was thrown away instead.

        Queries wait while this runs, so it does only what must happen between two of them:
        the renames, the load (Edge holds the GIL for it) and the replay. The previous shard
        stays open (its files are already under ``.old``) until ``_retire`` closes and
        removes it off this thread: closing and deleting it here added ~40 ms to the wait."""
        work = work or self._side_paths()[0]
        _, old = self._side_paths()
        if generation != self._generation or self._shard is None:
            self._drop_copy(work)  # recreated meanwhile: the copy is stale
            return False
        pending = self._pending or []
        self._pending = None
        previous_collab = self.collab
        previous = self.open()
        if old.exists():  # left by a crash
            shutil.rmtree(old, ignore_errors=True)
        self._path.rename(old)
        work.rename(self._path)
        try:
            shard, collab = self._load_shard(self._path)
        except Exception:
            # Keep serving the previous data rather than nothing: it is still open.
            log.exception("the new Edge shard did not load; keeping the previous one")
            shutil.rmtree(self._path, ignore_errors=True)
            old.rename(self._path)
            return False
        written: set[int] = set()
        for op in pending:
            written.update(int(p.id) for p in op(shard, collab[1] if collab else None))
        self._shard = shard
        self.collab = collab
        if collab != previous_collab:
            # A reader's cache holds the old model's vectors: it takes the new ones from the
            # model when this is that model's shard (a collab swap), else starts again.
            known = model is not None and collab is not None and collab[0] == model.version
            self._forget(model if known else None, written)
        self._retired.append(previous)
        return True

    async def _retire(self) -> None:
        """Close the shards a swap replaced and remove their files, in a worker thread."""
        _, old = self._side_paths()
        retired, self._retired = self._retired, []

        def run() -> None:
            for shard in retired:
                with contextlib.suppress(Exception):  # its data is gone anyway
                    shard.close()
            shutil.rmtree(old, ignore_errors=True)

        if retired:
            await asyncio.to_thread(run)

    # -- the collab swap --------------------------------------------------------------------

    def _collab_path(self) -> Path:
        return self._path.with_name(self._path.name + ".collab")

    async def replace_collab(self, model: CollabVectors) -> None:
        """Build a new shard with every point and the model's collab vectors, then swap it in
        (see the module docstring). Serialised with ``optimize`` (one copy at a time).

        The build runs in a child process (recsys.index.edge_collab_build) on a copy of the
        live shard: Edge holds the GIL while it writes, and writing every point in this
        process stalled the event loop for seconds (measured: push p99 3.1 s during a
        retrain of a 2,000-track catalog, 28 ms without). Here only the copy is made
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
                        "collab build", "-m", "recsys.index.edge_collab_build", str(source), str(work),
                        str(model_file), str(self._max_search_threads or 0),
                    )
                finally:
                    model_file.unlink(missing_ok=True)
                    # In a thread: removing a shard's files took ~25 ms, a stall on the loop.
                    await asyncio.to_thread(shutil.rmtree, source, True)
            except BaseException:
                await self._abandon(work)
                raise
            if self._closed:
                self._drop_copy(work)
                return
            swapped = await self.call(self._swap_in_optimized, generation, work, model)
            await self._retire()
            if not swapped:
                raise TrackIndexError("the index was recreated during the collab swap; train again")

    def _collab_source_path(self) -> Path:
        return self._path.with_name(self._path.name + ".collab-source")


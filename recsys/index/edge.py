"""The embedded back end: Qdrant Edge (``qdrant_edge``), an in-process shard on disk.

Edge's API is synchronous and holds the GIL while it works, so:
- every call runs in ONE dedicated worker thread, never on the event loop (the thread also
  serialises calls, which the shard needs: it is one mutable object);
- ``optimize()`` (the HNSW build: minutes at 100k tracks, and the whole process would
  freeze for that long, measured) runs in a child process on a copy of the shard; the live
  shard keeps serving, writes made meanwhile are replayed on the optimized copy, and the copy
  is swapped in (a reload of well under a second).

Edge recommends from vectors, not ids: callers retrieve vectors first (``vectors``).

The collab swap (``replace_collab``) uses the same copy-and-swap path: a NEW shard is built
in ``<path>.collab`` with all three vectors (a shard's vector set is fixed when it is
created, so the collab vector cannot be added in place), filled from the live shard page by
page, optimized in a child process, and swapped in on the executor thread, which is also
the thread every query runs on: a query runs wholly before or wholly after the swap, so it
sees the old model or the new one, never a mix. Writes made during the build are replayed
on the new shard before it goes live. The model's version and dim are kept in
``musicrec-collab.json`` INSIDE the shard directory, so they move with the data in the same
rename (the dim is needed to open the shard: Edge refuses a config that differs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from recsys.features import AUDIO_DIM, audio_similarity
from recsys.index.base import (
    AUDIO,
    COLLAB,
    COLLAB_CONFIDENCE,
    COLLAB_VERSION,
    PAYLOAD_INDEXES,
    TEXT,
    TEXT_DIM,
    BlendWeights,
    CollabVectors,
    Hit,
    IndexPoint,
    TrackFilter,
    TrackIndexError,
    VectorName,
    Vectors,
    carry_collab,
    check_vectors,
    collab_of,
    from_storage_payload,
    normalise_name,
    point_id,
    prefetch_limit,
    rank_blended,
    to_storage_payload,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

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


def _edge_filter(flt: TrackFilter | None) -> Any:
    from qdrant_edge import FieldCondition, Filter, HasIdCondition, MatchAny, MatchValue, RangeFloat

    if flt is None:
        return None
    must: list[Any] = []
    must_not: list[Any] = []
    if flt.genres:
        must.append(FieldCondition("genre", match=MatchAny([normalise_name(g) for g in flt.genres])))
    if flt.explicit is False:
        must.append(FieldCondition("explicit", match=MatchValue(0)))
    if flt.playable_only:
        must.append(FieldCondition("playable", match=MatchValue(1)))
    if flt.year_min is not None or flt.year_max is not None:
        must.append(FieldCondition("year", range=RangeFloat(gte=flt.year_min, lte=flt.year_max)))
    if flt.artists_not:
        must_not.append(
            FieldCondition("artist", match=MatchAny([normalise_name(a) for a in flt.artists_not]))
        )
    if flt.exclude_libraries:
        must_not.append(FieldCondition("library", match=MatchAny(sorted(flt.exclude_libraries))))
    if flt.exclude_ids:
        must_not.append(HasIdCondition(set(flt.exclude_ids)))
    if not must and not must_not:
        return None
    return Filter(must=must or None, must_not=must_not or None)


def _as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


MEMO_SIZE = 50_000  # points (~3 KB each): the whole of a typical catalog's working set
COLLAB_META = "musicrec-collab.json"  # {"version": ..., "dim": ...}, inside the shard directory
COPY_PAGE = 512  # points per page when a collab swap copies the live shard

# A write as a function of the shard it applies to and that shard's collab dim (None: the
# shard has no collab vector); it returns the points it wrote (the memo keeps those).
ShardOp = Callable[[Any, "int | None"], list[IndexPoint]]
MemoRow = tuple[Any, np.ndarray, np.ndarray, "np.ndarray | None"]  # payload, text, audio, collab


def _read_collab_meta(path: Path) -> tuple[str, int] | None:
    meta = path / COLLAB_META
    if not meta.exists():
        return None
    data = json.loads(meta.read_text())
    return str(data["version"]), int(data["dim"])


def _edge_point(p: IndexPoint, payload: Any) -> Any:
    from qdrant_edge import Point

    vectors: dict[str, Any] = {
        TEXT: np.asarray(p.text, dtype=np.float32).tolist(),
        AUDIO: np.asarray(p.audio, dtype=np.float32).tolist(),
    }
    if p.collab is not None:
        vectors[COLLAB] = np.asarray(p.collab, dtype=np.float32).tolist()
    return Point(p.id, vectors, payload)


def _upsert_op(points: Sequence[IndexPoint]) -> ShardOp:
    """The upsert as a shard op: points without a collab vector keep the one the target shard
    holds (read from THAT shard, so a replay on a new model's shard keeps the new vector)."""

    def op(shard: Any, collab_dim: int | None) -> list[IndexPoint]:
        from qdrant_edge import UpdateOperation

        final = list(points)
        lacking = [p.id for p in points if p.collab is None]
        if collab_dim is not None and lacking:
            held = {point_id(r.id): r for r in shard.retrieve(lacking, with_payload=True, with_vector=True)}
            final = [
                carry_collab(p, collab_of(held[p.id].vector), held[p.id].payload) if p.id in held else p
                for p in points
            ]
        final = [p if p.collab is None or p.collab.shape == (collab_dim,) else _without_collab(p)
                 for p in final]
        stored = [to_storage_payload(p.payload) for p in final]
        pairs = list(zip(final, stored, strict=True))
        shard.update(UpdateOperation.upsert_points([_edge_point(p, s) for p, s in pairs]))
        return [IndexPoint(p.id, p.text, p.audio, s, p.collab) for p, s in pairs]

    return op


def _without_collab(point: IndexPoint) -> IndexPoint:
    """A point whose collab vector does not fit the shard's model is written without one."""
    payload = {k: v for k, v in point.payload.items() if k not in (COLLAB_VERSION, COLLAB_CONFIDENCE)}
    return IndexPoint(point.id, point.text, point.audio, payload, None)


class EdgeIndex:
    """TrackIndex on a Qdrant Edge shard at ``path`` (one process per path)."""

    def __init__(self, path: Path, max_search_threads: int | None = None) -> None:
        self._path = Path(path)
        self._max_search_threads = max_search_threads
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        self._shard: Any = None
        # Writes made while a copy is being optimized, to replay on it before the swap.
        self._pending: list[ShardOp] | None = None
        self._collab: tuple[str, int] | None = None  # (version, dim) of the open shard
        self._optimize_lock = asyncio.Lock()
        self._generation = 0  # bumped by recreate(): an optimized copy of older data is stale
        self._closed = False
        # Candidates' vectors and payloads, by id. Edge hands them over as Python lists and
        # dicts, and converting ~180 candidates' 394 floats took two thirds of a blended query;
        # with this memo a query asks Edge for ids only. Touched only on the executor thread;
        # every write goes through upsert/delete/recreate, which keep it exact.
        self._memo: OrderedDict[int, MemoRow] = OrderedDict()
        self._memo_size = MEMO_SIZE

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)

    def _config(self, collab_dim: int | None = None) -> Any:
        from qdrant_edge import Distance, EdgeConfig, EdgeVectorParams

        vectors = {
            TEXT: EdgeVectorParams(size=TEXT_DIM, distance=Distance.Cosine),
            AUDIO: EdgeVectorParams(size=AUDIO_DIM, distance=Distance.Euclid),
        }
        if collab_dim is not None:
            vectors[COLLAB] = EdgeVectorParams(size=collab_dim, distance=Distance.Cosine)
        return EdgeConfig(vectors=vectors, max_search_threads=self._max_search_threads)

    def _create_shard(self, path: Path, collab_dim: int | None) -> Any:
        from qdrant_edge import EdgeShard, PayloadSchemaType, UpdateOperation

        path.mkdir(parents=True, exist_ok=True)
        shard = EdgeShard.create(str(path), self._config(collab_dim))
        kinds = {
            "keyword": PayloadSchemaType.Keyword,
            "integer": PayloadSchemaType.Integer,
            "float": PayloadSchemaType.Float,
        }
        for key, kind in PAYLOAD_INDEXES.items():
            shard.update(UpdateOperation.create_field_index(key, kinds[kind]))
        return shard

    def _load_shard(self, path: Path) -> tuple[Any, tuple[str, int] | None]:
        from qdrant_edge import EdgeShard

        collab = _read_collab_meta(path)
        # Passing the config makes Edge check that the stored vectors still fit.
        shard = EdgeShard.load(str(path), self._config(collab[1] if collab else None))
        return shard, collab

    @property
    def _collab_dim(self) -> int | None:
        return self._collab[1] if self._collab else None

    def _open(self) -> Any:
        if self._shard is None:
            raise TrackIndexError("the Edge index is not open: call ensure() first")
        return self._shard

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
        if self._has_data():
            try:
                self._shard, self._collab = self._load_shard(self._path)
            except Exception as exc:
                raise TrackIndexError(f"cannot open the Edge index at {self._path}: {exc}") from exc
            return
        self._shard = self._create_shard(self._path, None)
        self._collab = None

    def _close_shard(self) -> None:
        if self._shard is not None:
            with contextlib.suppress(Exception):  # closing a broken shard must not mask the cause
                self._shard.flush()
            self._shard.close()
            self._shard = None

    def _apply(self, op: ShardOp) -> list[IndexPoint]:
        written = op(self._open(), self._collab_dim)
        if self._pending is not None:
            self._pending.append(op)
        return written

    def _hits(self, points: Sequence[Any], using: VectorName | None) -> list[Hit]:
        hits = []
        for p in points:
            score = float(p.score)
            if using == AUDIO:
                score = float(audio_similarity(score))  # Edge reports the Euclidean distance
            hits.append(Hit(id=point_id(p.id), score=score, payload=from_storage_payload(p.payload)))
        return hits

    # -- lifecycle --------------------------------------------------------------------------

    async def ensure(self) -> None:
        await self._call(self._load_or_create)

    async def recreate(self) -> None:
        def run() -> None:
            self._generation += 1
            self._pending = None
            self._memo.clear()
            self._close_shard()
            shutil.rmtree(self._path, ignore_errors=True)
            self._load_or_create()

        await self._call(run)

    async def close(self) -> None:
        if self._closed:
            return
        await self._call(self._close_shard)
        self._closed = True
        self._pool.shutdown(wait=True)

    async def health(self) -> bool:
        def run() -> bool:
            from qdrant_edge import CountRequest

            if self._shard is None:
                return False
            self._shard.count(CountRequest(exact=False))
            return True

        try:
            return await self._call(run)
        except Exception:
            return False

    async def count(self) -> int:
        def run() -> int:
            from qdrant_edge import CountRequest

            return int(self._open().count(CountRequest(exact=True)))

        return await self._call(run)

    # -- writes -----------------------------------------------------------------------------

    async def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        check_vectors(points)

        def run() -> None:
            for p in self._apply(_upsert_op(list(points))):
                # Copies: the caller keeps its own arrays.
                self._remember(int(p.id), p.payload, np.array(p.text, dtype=np.float32),
                               np.array(p.audio, dtype=np.float32),
                               None if p.collab is None else np.array(p.collab, dtype=np.float32))

        await self._call(run)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list: list[Any] = [int(i) for i in ids]
        if not id_list:
            return

        def run() -> None:
            from qdrant_edge import UpdateOperation

            def op(shard: Any, _dim: int | None) -> list[IndexPoint]:
                shard.update(UpdateOperation.delete_points(id_list))
                return []

            self._apply(op)
            for point in id_list:
                self._memo.pop(int(point), None)

        await self._call(run)

    # -- reads ------------------------------------------------------------------------------

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        def run() -> list[Hit]:
            from qdrant_edge import Query, QueryRequest

            request = QueryRequest(
                limit=limit,
                query=Query.Nearest(_as_array(vector).tolist(), using=using),
                filter=_edge_filter(flt),
                with_payload=True,
            )
            return self._hits(self._open().query(request), using)

        return await self._call(run)

    async def search_blend(
        self,
        text_vec: np.ndarray | None,
        audio_vec: np.ndarray | None,
        weights: BlendWeights,
        flt: TrackFilter | None = None,
        limit: int = 20,
        collab_vec: np.ndarray | None = None,
        collab_version: str | None = None,
    ) -> list[Hit]:
        if text_vec is None and audio_vec is None:
            raise ValueError("search_blend needs a text or an audio vector")

        def run() -> list[Hit]:
            from qdrant_edge import Fusion, Prefetch, Query, QueryRequest

            edge_filter = _edge_filter(flt)
            per_vector = prefetch_limit(limit)
            queries = []
            if text_vec is not None:
                queries.append(Query.Nearest(_as_array(text_vec).tolist(), using=TEXT))
            if audio_vec is not None:
                queries.append(Query.Nearest(_as_array(audio_vec).tolist(), using=AUDIO))
            use_collab = (
                collab_vec is not None and weights.collab > 0 and self._collab is not None
                and collab_vec.shape == (self._collab[1],)
                and (collab_version is None or collab_version == self._collab[0])
            )
            if use_collab:
                assert collab_vec is not None
                queries.append(Query.Nearest(_as_array(collab_vec).tolist(), using=COLLAB))
            if len(queries) >= 2:
                # The fusion only forms the union of the candidate lists (its limit keeps all
                # of them); the ranking is the exact weighted score computed below.
                request = QueryRequest(
                    limit=len(queries) * per_vector,
                    prefetches=[Prefetch(limit=per_vector, query=q) for q in queries],
                    query=Fusion.Rrf(k=60),  # type: ignore[arg-type]  # the stub omits Fusion.Rrf
                    filter=edge_filter,
                    with_payload=False,
                    with_vector=False,
                )
            else:
                request = QueryRequest(
                    limit=per_vector,
                    query=queries[0],
                    filter=edge_filter,
                    with_payload=False,
                    with_vector=False,
                )
            ids = [point_id(p.id) for p in self._open().query(request)]
            rows = self._rows(ids)
            ids = [i for i in ids if i in rows]  # deleted between the two calls: cannot happen here
            if not ids:
                return []
            return rank_blended(
                ids,
                [rows[i][0] for i in ids],
                np.stack([rows[i][1] for i in ids]),
                np.stack([rows[i][2] for i in ids]),
                None if text_vec is None else _as_array(text_vec),
                None if audio_vec is None else _as_array(audio_vec),
                weights,
                limit,
                [rows[i][3] for i in ids],
                None if not use_collab or collab_vec is None else _as_array(collab_vec),
                collab_version,
            )

        return await self._call(run)

    async def recommend(
        self,
        using: VectorName,
        positives: list[np.ndarray],
        negatives: list[np.ndarray],
        flt: TrackFilter | None = None,
        limit: int = 20,
    ) -> list[Hit]:
        if not positives and not negatives:
            raise ValueError("recommend needs at least one example vector")

        def run() -> list[Hit]:
            from qdrant_edge import Query, QueryRequest, RecommendQuery

            query = RecommendQuery(
                [_as_array(v).tolist() for v in positives], [_as_array(v).tolist() for v in negatives]
            )
            request = QueryRequest(
                limit=limit,
                query=Query.RecommendBestScore(query, using=using),
                filter=_edge_filter(flt),
                with_payload=True,
            )
            # Recommend scores are already higher-is-better for every distance.
            return self._hits(self._open().query(request), None)

        return await self._call(run)

    def _remember(self, point: int, payload: Any, text: np.ndarray, audio: np.ndarray,
                  collab: np.ndarray | None) -> None:
        # Shared with every reader from now on: read-only, so nobody can change them in place.
        text.flags.writeable = False
        audio.flags.writeable = False
        if collab is not None:
            collab.flags.writeable = False
        self._memo[point] = (payload, text, audio, collab)
        self._memo.move_to_end(point)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)

    def _rows(self, ids: Sequence[int]) -> dict[int, MemoRow]:
        """Stored payload and vectors of each id, from the memo, else one retrieve."""
        found = {}
        missing = []
        for point in ids:
            row = self._memo.get(point)
            if row is None:
                missing.append(point)
            else:
                self._memo.move_to_end(point)
                found[point] = row
        for r in self._retrieve(missing, True, True):
            vector = r.vector
            point = point_id(r.id)
            row = (r.payload, _as_array(vector[TEXT]), _as_array(vector[AUDIO]), collab_of(vector))
            self._remember(point, *row)
            found[point] = row
        return found

    def _retrieve(self, ids: Iterable[int], with_vector: bool, with_payload: bool) -> list[Any]:
        id_list = list(dict.fromkeys(int(i) for i in ids))
        if not id_list:
            return []
        return list(self._open().retrieve(id_list, with_payload=with_payload, with_vector=with_vector))

    async def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        def run() -> dict[int, Vectors]:
            return {i: Vectors(text, audio, collab)
                    for i, (_, text, audio, collab) in self._rows(list(ids)).items()}

        return await self._call(run)

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        def run() -> dict[int, dict[str, Any]]:
            return {i: from_storage_payload(row[0]) for i, row in self._rows(list(ids)).items()}

        return await self._call(run)

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        def run() -> dict[int, IndexPoint]:
            return {
                i: IndexPoint(id=i, text=text, audio=audio, payload=from_storage_payload(payload),
                              collab=collab)
                for i, (payload, text, audio, collab) in self._rows(list(ids)).items()
            }

        return await self._call(run)

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
            generation = await self._call(self._snapshot_for_optimize)
            if generation is None:
                return
            try:
                await self._optimize_in_child(work)
            except BaseException:
                if not self._closed:
                    await self._call(self._abandon_optimize)
                else:
                    self._abandon_optimize()
                raise
            if not self._closed:
                await self._call(self._swap_in_optimized, generation)
            else:  # closed while the child worked
                self._abandon_optimize()

    def _side_paths(self) -> tuple[Path, Path]:
        return (
            self._path.with_name(self._path.name + ".optimizing"),
            self._path.with_name(self._path.name + ".old"),
        )

    def _snapshot_for_optimize(self) -> int | None:
        """Flush and copy the live shard; from now on writes are also kept for replay."""
        from qdrant_edge import CountRequest

        shard = self._open()
        if shard.count(CountRequest(exact=False)) == 0:
            return None
        work, _ = self._side_paths()
        shard.flush()
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(self._path, work)
        self._pending = []
        return self._generation

    async def _optimize_in_child(self, work: Path) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPTIMIZE_SCRIPT,
            str(work),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
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
            raise TrackIndexError(f"Edge optimize failed (exit {proc.returncode}): {detail}")

    def _abandon_optimize(self) -> None:
        self._pending = None
        shutil.rmtree(self._side_paths()[0], ignore_errors=True)

    def _swap_in_optimized(self, generation: int, work: Path | None = None) -> bool:
        """Replay the pending writes on the copy at ``work`` and make it the live shard, in
        one executor call (so between two queries). False when it was thrown away instead."""
        work = work or self._side_paths()[0]
        _, old = self._side_paths()
        if generation != self._generation or self._shard is None:
            self._pending = None
            shutil.rmtree(work, ignore_errors=True)  # recreated meanwhile: the copy is stale
            return False
        pending = self._pending or []
        self._pending = None
        previous_collab = self._collab
        self._close_shard()
        shutil.rmtree(old, ignore_errors=True)
        self._path.rename(old)
        work.rename(self._path)
        try:
            shard, collab = self._load_shard(self._path)
        except Exception:
            # Keep serving the previous data rather than nothing.
            log.exception("the new Edge shard did not load; keeping the previous one")
            shutil.rmtree(self._path, ignore_errors=True)
            old.rename(self._path)
            self._shard, self._collab = self._load_shard(self._path)  # has every write
            return False
        for op in pending:
            op(shard, collab[1] if collab else None)
        self._shard = shard
        self._collab = collab
        if collab != previous_collab:
            self._memo.clear()  # the memo holds the old model's vectors
        shutil.rmtree(old, ignore_errors=True)
        return True

    # -- the collab swap --------------------------------------------------------------------

    def _collab_path(self) -> Path:
        return self._path.with_name(self._path.name + ".collab")

    async def collab_info(self) -> tuple[str | None, int | None]:
        collab = self._collab
        return (collab[0], collab[1]) if collab else (None, None)

    async def replace_collab(self, model: CollabVectors) -> None:
        """Build a new shard with every point and the model's collab vectors, then swap it in
        (see the module docstring). Serialised with ``optimize`` (one copy at a time)."""
        async with self._optimize_lock:
            work = self._collab_path()
            generation = await self._call(self._begin_collab, work)
            try:
                target = await asyncio.to_thread(self._create_shard, work, model.dim)
                try:
                    await self._copy_with_collab(target, model)
                    await asyncio.to_thread(self._finish_collab_shard, target, work, model)
                except BaseException:
                    with contextlib.suppress(Exception):
                        target.close()
                    raise
                await self._optimize_in_child(work)
            except BaseException:
                if not self._closed:
                    await self._call(self._abandon_collab, work)
                else:
                    self._abandon_collab(work)
                raise
            if self._closed:
                self._abandon_collab(work)
                return
            if not await self._call(self._swap_in_optimized, generation, work):
                raise TrackIndexError("the index was recreated during the collab swap; train again")

    def _begin_collab(self, work: Path) -> int:
        self._open().flush()
        shutil.rmtree(work, ignore_errors=True)
        self._pending = []
        return self._generation

    def _abandon_collab(self, work: Path) -> None:
        self._pending = None
        shutil.rmtree(work, ignore_errors=True)

    def _page(self, offset: Any) -> tuple[list[Any], Any]:
        from qdrant_edge import ScrollRequest

        records, next_offset = self._open().scroll(
            ScrollRequest(offset=offset, limit=COPY_PAGE, with_payload=True, with_vector=True)
        )
        return list(records), next_offset

    async def _copy_with_collab(self, target: Any, model: CollabVectors) -> None:
        """Page through the live shard (short executor calls, so queries interleave) and write
        each page with the model's vectors into ``target`` (in another thread)."""
        rows = model.rows()
        vectors = np.asarray(model.vectors, dtype=np.float32)
        offset: Any = None
        while True:
            records, offset = await self._call(self._page, offset)
            if records:
                points = [self._with_model(r, rows, vectors, model) for r in records]
                await asyncio.to_thread(_upsert_op(points), target, model.dim)
            if offset is None:
                return

    @staticmethod
    def _with_model(
        record: Any, rows: dict[int, int], vectors: np.ndarray, model: CollabVectors
    ) -> IndexPoint:
        track = point_id(record.id)
        payload = {k: v for k, v in dict(record.payload or {}).items()
                   if k not in (COLLAB_VERSION, COLLAB_CONFIDENCE)}
        row = rows.get(track)
        collab = None
        if row is not None:
            collab = vectors[row]
            payload[COLLAB_VERSION] = model.version
            payload[COLLAB_CONFIDENCE] = float(model.confidence[row])
        vector = record.vector
        return IndexPoint(track, _as_array(vector[TEXT]), _as_array(vector[AUDIO]), payload, collab)

    @staticmethod
    def _finish_collab_shard(target: Any, work: Path, model: CollabVectors) -> None:
        target.flush()
        target.close()
        (work / COLLAB_META).write_text(json.dumps({"version": model.version, "dim": model.dim}))

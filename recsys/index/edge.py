"""The embedded back end: Qdrant Edge (``qdrant_edge``), an in-process shard on disk.

Edge's API is synchronous and holds the GIL while it works, so:
- every call runs in ONE dedicated worker thread, never on the event loop (the thread also
  serialises calls, which the shard needs: it is one mutable object);
- ``optimize()`` (the HNSW build: minutes at 100k tracks, and the whole process would
  freeze for that long, measured) runs in a child process on a copy of the shard; the live
  shard keeps serving, writes made meanwhile are replayed on the optimized copy, and the copy
  is swapped in (a reload of well under a second).

Edge recommends from vectors, not ids: callers retrieve vectors first (``vectors``).
"""

from __future__ import annotations

import asyncio
import contextlib
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
    PAYLOAD_INDEXES,
    TEXT,
    TEXT_DIM,
    BlendWeights,
    Hit,
    IndexPoint,
    TrackFilter,
    TrackIndexError,
    VectorName,
    Vectors,
    check_vectors,
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


class EdgeIndex:
    """TrackIndex on a Qdrant Edge shard at ``path`` (one process per path)."""

    def __init__(self, path: Path, max_search_threads: int | None = None) -> None:
        self._path = Path(path)
        self._max_search_threads = max_search_threads
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        self._shard: Any = None
        # Writes made while a copy is being optimized, to replay on it before the swap.
        self._pending: list[Callable[[Any], None]] | None = None
        self._optimize_lock = asyncio.Lock()
        self._generation = 0  # bumped by recreate(): an optimized copy of older data is stale
        self._closed = False
        # Candidates' vectors and payloads, by id. Edge hands them over as Python lists and
        # dicts, and converting ~180 candidates' 394 floats took two thirds of a blended query;
        # with this memo a query asks Edge for ids only. Touched only on the executor thread;
        # every write goes through upsert/delete/recreate, which keep it exact.
        self._memo: OrderedDict[int, tuple[Any, np.ndarray, np.ndarray]] = OrderedDict()
        self._memo_size = MEMO_SIZE

    # -- plumbing ---------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)

    def _config(self) -> Any:
        from qdrant_edge import Distance, EdgeConfig, EdgeVectorParams

        return EdgeConfig(
            vectors={
                TEXT: EdgeVectorParams(size=TEXT_DIM, distance=Distance.Cosine),
                AUDIO: EdgeVectorParams(size=AUDIO_DIM, distance=Distance.Euclid),
            },
            max_search_threads=self._max_search_threads,
        )

    def _open(self) -> Any:
        if self._shard is None:
            raise TrackIndexError("the Edge index is not open: call ensure() first")
        return self._shard

    def _has_data(self) -> bool:
        return self._path.is_dir() and any(self._path.iterdir())

    def _load_or_create(self) -> None:
        from qdrant_edge import EdgeShard, PayloadSchemaType, UpdateOperation

        if self._shard is not None:
            return
        work, old = self._side_paths()
        if not self._path.exists() and old.exists():
            # A crash between the two renames of an optimize swap: the old shard is intact.
            old.rename(self._path)
        shutil.rmtree(work, ignore_errors=True)  # an unfinished optimize's copy
        if self._has_data():
            try:
                # Passing the config makes Edge check that the stored vectors still fit.
                self._shard = EdgeShard.load(str(self._path), self._config())
            except Exception as exc:
                raise TrackIndexError(f"cannot open the Edge index at {self._path}: {exc}") from exc
            return
        self._path.mkdir(parents=True, exist_ok=True)
        shard = EdgeShard.create(str(self._path), self._config())
        kinds = {
            "keyword": PayloadSchemaType.Keyword,
            "integer": PayloadSchemaType.Integer,
            "float": PayloadSchemaType.Float,
        }
        for key, kind in PAYLOAD_INDEXES.items():
            shard.update(UpdateOperation.create_field_index(key, kinds[kind]))
        self._shard = shard

    def _close_shard(self) -> None:
        if self._shard is not None:
            with contextlib.suppress(Exception):  # closing a broken shard must not mask the cause
                self._shard.flush()
            self._shard.close()
            self._shard = None

    def _apply(self, op: Callable[[Any], None]) -> None:
        op(self._open())
        if self._pending is not None:
            self._pending.append(op)

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
            from qdrant_edge import Point, UpdateOperation

            stored = [to_storage_payload(p.payload) for p in points]
            edge_points = [
                Point(
                    p.id,
                    {TEXT: p.text.astype(np.float32).tolist(), AUDIO: p.audio.astype(np.float32).tolist()},
                    payload,
                )
                for p, payload in zip(points, stored, strict=True)
            ]
            self._apply(lambda shard: shard.update(UpdateOperation.upsert_points(edge_points)))
            for p, payload in zip(points, stored, strict=True):
                # Copies: the caller keeps its own arrays.
                self._remember(int(p.id), payload, np.array(p.text, dtype=np.float32),
                               np.array(p.audio, dtype=np.float32))

        await self._call(run)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list: list[Any] = [int(i) for i in ids]
        if not id_list:
            return

        def run() -> None:
            from qdrant_edge import UpdateOperation

            self._apply(lambda shard: shard.update(UpdateOperation.delete_points(id_list)))
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
            if len(queries) == 2:
                # The fusion only forms the union of both candidate lists (its limit keeps all
                # of them); the ranking is the exact weighted score computed below.
                request = QueryRequest(
                    limit=2 * per_vector,
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

    def _remember(self, point: int, payload: Any, text: np.ndarray, audio: np.ndarray) -> None:
        # Shared with every reader from now on: read-only, so nobody can change them in place.
        text.flags.writeable = False
        audio.flags.writeable = False
        self._memo[point] = (payload, text, audio)
        self._memo.move_to_end(point)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)

    def _rows(self, ids: Sequence[int]) -> dict[int, tuple[Any, np.ndarray, np.ndarray]]:
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
            row = (r.payload, _as_array(vector[TEXT]), _as_array(vector[AUDIO]))
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
            return {i: (text, audio) for i, (_, text, audio) in self._rows(list(ids)).items()}

        return await self._call(run)

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        def run() -> dict[int, dict[str, Any]]:
            return {i: from_storage_payload(row[0]) for i, row in self._rows(list(ids)).items()}

        return await self._call(run)

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        def run() -> dict[int, IndexPoint]:
            return {
                i: IndexPoint(id=i, text=text, audio=audio, payload=from_storage_payload(payload))
                for i, (payload, text, audio) in self._rows(list(ids)).items()
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

    def _swap_in_optimized(self, generation: int) -> None:
        from qdrant_edge import EdgeShard

        work, old = self._side_paths()
        if generation != self._generation or self._shard is None:
            self._abandon_optimize()  # recreated meanwhile: the copy holds stale data
            return
        pending = self._pending or []
        self._pending = None
        self._close_shard()
        shutil.rmtree(old, ignore_errors=True)
        self._path.rename(old)
        work.rename(self._path)
        try:
            shard = EdgeShard.load(str(self._path), self._config())
        except Exception:
            # Keep serving the unoptimized data rather than nothing.
            log.exception("optimized Edge shard did not load; keeping the previous one")
            shutil.rmtree(self._path, ignore_errors=True)
            old.rename(self._path)
            self._shard = EdgeShard.load(str(self._path), self._config())  # has every write
            return
        for op in pending:
            op(shard)
        self._shard = shard
        shutil.rmtree(old, ignore_errors=True)

"""The embedded back end: Qdrant Edge (``qdrant_edge``), an in-process shard on disk: queries
and writes.

The shard itself, its worker thread and lock, and the optimize and collab swaps that replace
it are recsys/index/edge_lifecycle.py's (``ShardLifecycle``): writes run on that thread
(``ShardLifecycle.write``), queries on the caller's thread under the shard's lock
(``ShardLifecycle.read``; why: that module's docstring).

Edge recommends from vectors, not ids: callers retrieve vectors first (``vectors``).

Candidates' vectors and payloads are memoised by id: Edge hands them over as Python lists and
dicts, and converting ~180 candidates' 394 floats took two thirds of a blended query; with the
memo a query asks Edge for ids only. The memo is touched only under the shard's lock, and stays
exact: every write goes through ``upsert``/``delete``, and the lifecycle drops it when the
stored data changes wholesale (a recreate). A swap to another collab model keeps it: each
row is brought up to the new model when next read (``_rows``), its collab vector and fields
taken from the model in memory, as the collab build wrote them (``with_model``), so the
queries right after a retrain do not all fall back to converting every candidate again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recsys.index.base import (
    AUDIO,
    TEXT,
    BlendQuery,
    BlendWeights,
    CollabVectors,
    Hit,
    IndexPoint,
    TrackFilter,
    VectorName,
    Vectors,
    as_array,
    check_vectors,
    collab_of,
    from_storage_payload,
    normalise_name,
    point_id,
    scored_hits,
    to_storage_payload,
    with_model,
)
from recsys.index.edge_lifecycle import ShardLifecycle, upsert_op

MEMO_SIZE = 50_000  # points (~3 KB each): the whole of a typical catalog's working set
MemoRow = tuple[Any, np.ndarray, np.ndarray, "np.ndarray | None"]  # payload, text, audio, collab


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


class EdgeIndex:
    """TrackIndex on a Qdrant Edge shard at ``path`` (one process per path)."""

    def __init__(self, path: Path, max_search_threads: int | None = None) -> None:
        self._memo: OrderedDict[int, MemoRow] = OrderedDict()
        self._memo_size = MEMO_SIZE
        # The collab model of the live shard, once a swap installed it here, and its rows; and
        # the ids whose memo rows predate it (and still hold the previous model's collab part).
        self._model: tuple[CollabVectors, dict[int, int]] | None = None
        self._stale: set[int] = set()
        self._shards = ShardLifecycle(path, max_search_threads, forget=self._forget)

    # -- lifecycle (edge_lifecycle.py) -------------------------------------------------------

    async def ensure(self) -> None:
        await self._shards.ensure()

    async def recreate(self) -> None:
        await self._shards.recreate()

    async def close(self) -> None:
        await self._shards.close()

    async def health(self) -> bool:
        return await self._shards.health()

    @property
    def optimizing(self) -> bool:
        """True while an optimized copy (or a new model's shard) is being built."""
        return self._shards.optimizing

    async def optimize(self) -> None:
        await self._shards.optimize()

    async def replace_collab(self, model: CollabVectors) -> None:
        await self._shards.replace_collab(model)

    async def collab_info(self) -> tuple[str | None, int | None]:
        collab = self._shards.collab
        return (collab[0], collab[1]) if collab else (None, None)

    async def count(self) -> int:
        def run() -> int:
            from qdrant_edge import CountRequest

            return int(self._shards.open().count(CountRequest(exact=True)))

        return await self._shards.read(run)

    # -- writes -----------------------------------------------------------------------------

    async def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        check_vectors(points)

        def run() -> None:
            for p in self._shards.apply(upsert_op(list(points))):
                # Copies: the caller keeps its own arrays.
                self._remember(int(p.id), p.payload, np.array(p.text, dtype=np.float32),
                               np.array(p.audio, dtype=np.float32),
                               None if p.collab is None else np.array(p.collab, dtype=np.float32))

        await self._shards.write(run)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list: list[Any] = [int(i) for i in ids]
        if not id_list:
            return

        def run() -> None:
            from qdrant_edge import UpdateOperation

            def op(shard: Any, _dim: int | None) -> list[IndexPoint]:
                shard.update(UpdateOperation.delete_points(id_list))
                return []

            self._shards.apply(op)
            for point in id_list:
                self._memo.pop(int(point), None)

        await self._shards.write(run)

    # -- reads ------------------------------------------------------------------------------

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        def run() -> list[Hit]:
            from qdrant_edge import Query, QueryRequest

            request = QueryRequest(
                limit=limit,
                query=Query.Nearest(as_array(vector).tolist(), using=using),
                filter=_edge_filter(flt),
                with_payload=True,
            )
            return scored_hits(self._shards.open().query(request), using)

        return await self._shards.read(run)

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
        def run() -> list[Hit]:
            from qdrant_edge import Fusion, Prefetch, Query, QueryRequest

            # Under the shard's lock: the installed model cannot change under the query.
            query = BlendQuery.shape(text_vec, audio_vec, weights, limit, collab_vec, collab_version,
                                     self._shards.collab, same_model_only=True)
            sides = [Query.Nearest(vector, using=name) for name, vector in query.sides()]
            edge_filter = _edge_filter(flt)
            if len(sides) >= 2:
                request = QueryRequest(
                    limit=query.candidates(len(sides)),
                    prefetches=[Prefetch(limit=query.per_side, query=q) for q in sides],
                    query=Fusion.Rrf(k=60),  # type: ignore[arg-type]  # the stub omits Fusion.Rrf
                    filter=edge_filter,
                    with_payload=False,
                    with_vector=False,
                )
            else:
                request = QueryRequest(limit=query.per_side, query=sides[0], filter=edge_filter,
                                       with_payload=False, with_vector=False)
            ids = [point_id(p.id) for p in self._shards.open().query(request)]
            rows = self._rows(ids)
            ids = [i for i in ids if i in rows]  # deleted between the two calls: cannot happen here
            if not ids:
                return []
            return query.rank(ids, [rows[i][0] for i in ids], np.stack([rows[i][1] for i in ids]),
                              np.stack([rows[i][2] for i in ids]), [rows[i][3] for i in ids])

        return await self._shards.read(run)

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
                [as_array(v).tolist() for v in positives], [as_array(v).tolist() for v in negatives]
            )
            request = QueryRequest(
                limit=limit,
                query=Query.RecommendBestScore(query, using=using),
                filter=_edge_filter(flt),
                with_payload=True,
            )
            # Recommend scores are already higher-is-better for every distance.
            return scored_hits(self._shards.open().query(request), None)

        return await self._shards.read(run)

    def _remember(self, point: int, payload: Any, text: np.ndarray, audio: np.ndarray,
                  collab: np.ndarray | None) -> None:
        # Shared with every reader from now on: read-only, so nobody can change them in place.
        text.flags.writeable = False
        audio.flags.writeable = False
        if collab is not None:
            collab.flags.writeable = False
        self._memo[point] = (payload, text, audio, collab)
        self._stale.discard(point)
        self._memo.move_to_end(point)
        while len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)

    def _forget(self, model: CollabVectors | None, written: set[int]) -> None:
        """The lifecycle's ``forget``: the stored data changed wholesale (see the docstring)."""
        if model is None:
            self._memo.clear()
            self._stale.clear()
            self._model = None
            return
        for point in written:  # rewritten by the swap's replay: read them again
            self._memo.pop(point, None)
        self._model = (model, model.rows())
        self._stale = set(self._memo)

    def _refreshed(self, point: int, row: MemoRow) -> MemoRow:
        """A memo row of the previous model brought up to the live one: the point as the
        collab build rewrote it (``with_model``), its payload as ``upsert`` stores one."""
        assert self._model is not None
        rewritten = with_model(point, row[0], row[1], row[2], *self._model)
        collab = None if rewritten.collab is None else np.array(rewritten.collab, dtype=np.float32)
        self._remember(point, to_storage_payload(rewritten.payload), row[1], row[2], collab)
        return self._memo[point]

    def _rows(self, ids: Sequence[int]) -> dict[int, MemoRow]:
        """Stored payload and vectors of each id, from the memo, else one retrieve."""
        found = {}
        missing = []
        for point in ids:
            row = self._memo.get(point)
            if row is None:
                missing.append(point)
            elif point in self._stale:
                found[point] = self._refreshed(point, row)
            else:
                self._memo.move_to_end(point)
                found[point] = row
        for r in self._retrieve(missing, True, True):
            vector = r.vector
            point = point_id(r.id)
            row = (r.payload, as_array(vector[TEXT]), as_array(vector[AUDIO]), collab_of(vector))
            self._remember(point, *row)
            found[point] = row
        return found

    def _retrieve(self, ids: Iterable[int], with_vector: bool, with_payload: bool) -> list[Any]:
        id_list = list(dict.fromkeys(int(i) for i in ids))
        if not id_list:
            return []
        return list(self._shards.open().retrieve(id_list, with_payload=with_payload, with_vector=with_vector))

    async def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        def run() -> dict[int, Vectors]:
            return {i: Vectors(text, audio, collab)
                    for i, (_, text, audio, collab) in self._rows(list(ids)).items()}

        return await self._shards.read(run)

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        def run() -> dict[int, dict[str, Any]]:
            return {i: from_storage_payload(row[0]) for i, row in self._rows(list(ids)).items()}

        return await self._shards.read(run)

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        def run() -> dict[int, IndexPoint]:
            return {
                i: IndexPoint(id=i, text=text, audio=audio, payload=from_storage_payload(payload),
                              collab=collab)
                for i, (payload, text, audio, collab) in self._rows(list(ids)).items()
            }

        return await self._shards.read(run)

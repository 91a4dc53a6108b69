"""The embedded back end: Qdrant Edge (``qdrant_edge``), a shard on disk: queries and writes.

The shard is held by a child process, the Edge host; the host, the turns that queries and
writes take on it, and the optimize and collab swaps that replace it are
recsys/index/edge_lifecycle.py's (``ShardLifecycle``; why a child process: its docstring).
Queries take a shared turn (``ShardLifecycle.reading``), writes an exclusive one
(``ShardLifecycle.writing``).

Edge recommends from vectors, not ids: callers retrieve vectors first (``vectors``).

The host ranks a blended query's candidates and picks lists next to its own mirror of the rows
(``search_blend``, ``search_pick``; recsys/index/edge_host.py); the server receives ids and
scores. The vectors and payloads of what it returns are memoised here by id: converting a
point's 394 floats is the slow part of reading it. The memo
stays exact: every write goes through ``upsert``/``delete`` in an exclusive turn, and the
lifecycle drops it when the stored data changes wholesale (a recreate, a host's restart). A
swap to another collab model keeps it: each row is brought up to the new model when next read
(``_rows``), its collab vector and fields taken from the model in memory, as the collab build
wrote them (``with_model``), so the queries right after a retrain do not all fall back to
reading every candidate from the host again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from recsys.index.base import (
    BlendQuery,
    BlendWeights,
    CollabVectors,
    Hit,
    IndexPoint,
    TrackFilter,
    VectorName,
    Vectors,
    check_vectors,
    from_storage_payload,
    scored_hits,
    to_storage_payload,
    with_model,
)
from recsys.index.edge_lifecycle import ShardLifecycle
from recsys.index.edge_remote import EdgeHost
from recsys.index.edge_shard import (
    blend_query_to_wire,
    filter_to_wire,
    point_from_wire,
    point_to_wire,
    vector_to_wire,
)
from recsys.pick import Picked, PickSpec

# Edge's search threads per query. One: the host answers one request at a time, and on two cores
# shared with the event loop a second search thread only adds its hand-off (measured on 2,000
# tracks: 0.40 ms of CPU for a text + audio query with one thread, 0.49-0.53 ms with Edge's
# default).
SEARCH_THREADS = 1
MEMO_SIZE = 50_000  # points (~3 KB each): the whole of a typical catalog's working set
MemoRow = tuple[Any, np.ndarray, np.ndarray, "np.ndarray | None"]  # payload, text, audio, collab


class _Scored(NamedTuple):
    """A scored point as the host sends it, in the shape ``scored_hits`` reads."""

    id: int
    score: float
    payload: dict[str, Any]


class EdgeIndex:
    """TrackIndex on a Qdrant Edge shard at ``path`` (one process per path)."""

    def __init__(self, path: Path, max_search_threads: int | None = SEARCH_THREADS) -> None:
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
        async with self._shards.reading() as host:
            return int(await host.call("count", True))

    # -- writes -----------------------------------------------------------------------------

    async def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        check_vectors(points)
        async with self._shards.writing() as host:
            written = await self._shards.apply(host, "upsert", [point_to_wire(p) for p in points])
            for p in map(point_from_wire, written):
                self._remember(int(p.id), p.payload, p.text, p.audio, p.collab)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list = [int(i) for i in ids]
        if not id_list:
            return
        async with self._shards.writing() as host:
            await self._shards.apply(host, "delete", id_list)
            for point in id_list:
                self._memo.pop(point, None)

    # -- reads ------------------------------------------------------------------------------

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        async with self._shards.reading() as host:
            found = await host.call("nearest", using, vector_to_wire(vector), filter_to_wire(flt), limit)
        return scored_hits([_Scored(*row) for row in found], using)

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
        async with self._shards.reading() as host:
            # In a shared turn: the installed model cannot change under the query.
            query = BlendQuery.shape(text_vec, audio_vec, weights, limit, collab_vec, collab_version,
                                     self._shards.collab, same_model_only=True)
            ranked, scores = await host.call("rank", blend_query_to_wire(query), filter_to_wire(flt))
            hits = await self._hits(host, ranked, scores)
        return [hits[i] for i in ranked if i in hits]

    async def search_pick(
        self,
        text_vec: np.ndarray | None,
        audio_vec: np.ndarray | None,
        weights: BlendWeights,
        flt: TrackFilter | None,
        spec: PickSpec,
        collab_vec: np.ndarray | None = None,
        collab_version: str | None = None,
    ) -> Picked:
        """recsys.pick.PickingIndex: the host ranks and picks next to its vectors (its own
        core); the hits are built here from the memo, for the pool only."""
        async with self._shards.reading() as host:
            query = BlendQuery.shape(text_vec, audio_vec, weights, spec.pool_size, collab_vec, collab_version,
                                     self._shards.collab, same_model_only=True)
            pool, scores, chosen, over_cap = await host.call(
                "pick", blend_query_to_wire(query), filter_to_wire(flt), spec.to_wire())
            hits = await self._hits(host, pool, scores)
        return Picked([hits[i] for i in chosen if i in hits], [hits[i] for i in pool if i in hits],
                      set(over_cap))

    async def _hits(self, host: EdgeHost, ids: Sequence[int], scores: Sequence[float]) -> dict[int, Hit]:
        """The host's ranked ids as hits carrying their scores, payloads and vectors from the
        memo (called in a shared turn, on that turn's host: none can be deleted meanwhile)."""
        rows = await self._rows(host, ids)
        return {i: Hit(i, score, from_storage_payload(rows[i][0]), rows[i][1], rows[i][2], rows[i][3])
                for i, score in zip(ids, scores, strict=True) if i in rows}

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
        async with self._shards.reading() as host:
            found = await host.call("recommend", using, [vector_to_wire(v) for v in positives],
                                    [vector_to_wire(v) for v in negatives], filter_to_wire(flt), limit)
        # Recommend scores are already higher-is-better for every distance.
        return scored_hits([_Scored(*row) for row in found], None)

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

    async def _rows(self, host: EdgeHost, ids: Sequence[int]) -> dict[int, MemoRow]:
        """Stored payload and vectors of each id, from the memo, else one retrieve (called in
        a shared turn, on that turn's host)."""
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
        if missing:
            for wire in await host.call("retrieve", list(dict.fromkeys(missing))):
                p = point_from_wire(wire)
                row = (p.payload, p.text, p.audio, p.collab)
                self._remember(p.id, *row)
                found[p.id] = row
        return found

    async def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        async with self._shards.reading() as host:
            rows = await self._rows(host, list(ids))
        return {i: Vectors(text, audio, collab) for i, (_, text, audio, collab) in rows.items()}

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        async with self._shards.reading() as host:
            rows = await self._rows(host, list(ids))
        return {i: from_storage_payload(row[0]) for i, row in rows.items()}

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        async with self._shards.reading() as host:
            rows = await self._rows(host, list(ids))
        return {
            i: IndexPoint(id=i, text=text, audio=audio, payload=from_storage_payload(payload), collab=collab)
            for i, (payload, text, audio, collab) in rows.items()
        }

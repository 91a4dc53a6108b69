"""The production back end: a Qdrant server through ``qdrant_client.AsyncQdrantClient``.

Also accepts ``location=":memory:"`` or ``path=...``: qdrant-client's local mode speaks the same
API (tests use it, as no server binary exists here). Local mode is slow beyond ~20k points
and blocks the event loop; it is not for production.

The collection name is an ALIAS onto a physical collection ``<name>__<suffix>``. The collab
swap (``replace_collab``) creates a new physical collection with all three vectors, copies
every point into it with the model's vectors, replays the writes this instance made
meanwhile, and switches the alias in one ``update_collection_aliases`` call, which Qdrant
applies atomically: a query resolves the alias once, so it reads the old collection or the
new one, never both. The old collection is dropped afterwards. ``recreate`` switches the
alias the same way. A deployment from before aliases has a real collection under the name:
it keeps working, and its first swap replaces it by an alias (a delete then an alias
create: the only non-atomic moment, logged). Writes made by OTHER processes during a swap
are not replayed; catalog imports and swaps both run rarely, and ``musicrec index rebuild``
followed by ``musicrec train`` restores a consistent index in every case.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

from recsys.features import AUDIO_DIM
from recsys.index.base import (
    AUDIO,
    COLLAB,
    COLLAB_PAYLOAD,
    COLLAB_VERSION,
    PAYLOAD_INDEXES,
    TEXT,
    TEXT_DIM,
    BlendQuery,
    BlendWeights,
    CollabVectors,
    Hit,
    IndexPoint,
    TrackFilter,
    VectorName,
    Vectors,
    as_array,
    carry_collab,
    check_vectors,
    collab_of,
    from_storage_payload,
    named_vectors,
    normalise_name,
    point_id,
    scored_hits,
    to_storage_payload,
    with_model,
    without_collab,
)

_SCHEMA = {
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "integer": qm.PayloadSchemaType.INTEGER,
    "float": qm.PayloadSchemaType.FLOAT,
}

# Converting big batches to lists is worth a thread; small ones are not worth the hop.
_THREAD_CONVERT_MIN = 256
COPY_PAGE = 512  # points per page when a collab swap copies the collection

log = logging.getLogger(__name__)


def _server_filter(flt: TrackFilter | None) -> qm.Filter | None:
    if flt is None:
        return None
    must: list[Any] = []
    must_not: list[Any] = []
    if flt.genres:
        must.append(
            qm.FieldCondition(key="genre", match=qm.MatchAny(any=[normalise_name(g) for g in flt.genres]))
        )
    if flt.explicit is False:
        must.append(qm.FieldCondition(key="explicit", match=qm.MatchValue(value=0)))
    if flt.playable_only:
        must.append(qm.FieldCondition(key="playable", match=qm.MatchValue(value=1)))
    if flt.year_min is not None or flt.year_max is not None:
        must.append(qm.FieldCondition(key="year", range=qm.Range(gte=flt.year_min, lte=flt.year_max)))
    if flt.artists_not:
        must_not.append(
            qm.FieldCondition(
                key="artist", match=qm.MatchAny(any=[normalise_name(a) for a in flt.artists_not])
            )
        )
    if flt.exclude_libraries:
        offline = sorted(flt.exclude_libraries)
        must_not.append(qm.FieldCondition(key="library", match=qm.MatchAny(any=offline)))
    if flt.exclude_ids:
        must_not.append(qm.HasIdCondition(has_id=sorted(flt.exclude_ids)))
    if not must and not must_not:
        return None
    return qm.Filter(must=must or None, must_not=must_not or None)


def _named(vector: Any) -> dict[str, Any]:
    if not isinstance(vector, dict):
        raise TypeError("expected named vectors from Qdrant")
    return vector


def _struct(p: IndexPoint) -> qm.PointStruct:
    return qm.PointStruct(id=p.id, vector=named_vectors(p), payload=to_storage_payload(p.payload))


class ServerIndex:
    """TrackIndex on a Qdrant collection (server, or qdrant-client local mode)."""

    def __init__(
        self,
        collection: str,
        url: str | None = None,
        api_key: str | None = None,
        location: str | None = None,
        path: str | None = None,
        timeout: int = 10,
    ) -> None:
        if sum(x is not None for x in (url, location, path)) != 1:
            raise ValueError("give exactly one of url, location or path")
        self._collection = collection
        self._local = url is None
        # (version, dim) of the collab model this instance last saw installed; refreshed on
        # ensure, after a swap, and when a query finds the collection changed under it.
        self._collab: tuple[str, int] | None = None
        # Writes made while this instance builds a swap's new collection, for replay on it.
        self._pending: list[Sequence[IndexPoint] | list[int]] | None = None
        self._swap_lock = asyncio.Lock()
        if url is not None:
            self._client = AsyncQdrantClient(url=url, api_key=api_key, timeout=timeout)
        elif location is not None:
            self._client = AsyncQdrantClient(location=location)
        else:
            self._client = AsyncQdrantClient(path=path)

    def _physical_name(self) -> str:
        return f"{self._collection}__{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(3)}"

    async def _create_physical(self, name: str, collab_dim: int | None) -> None:
        vectors = {
            TEXT: qm.VectorParams(size=TEXT_DIM, distance=qm.Distance.COSINE),
            AUDIO: qm.VectorParams(size=AUDIO_DIM, distance=qm.Distance.EUCLID),
        }
        if collab_dim is not None:
            vectors[COLLAB] = qm.VectorParams(size=collab_dim, distance=qm.Distance.COSINE)
        await self._client.create_collection(name, vectors_config=vectors)
        if self._local:
            return  # local mode ignores payload indexes (and warns about each)
        for key, kind in PAYLOAD_INDEXES.items():
            await self._client.create_payload_index(name, key, _SCHEMA[kind], wait=True)

    async def _target(self) -> str | None:
        """The physical collection behind the alias; None when the name is not an alias."""
        aliases = (await self._client.get_aliases()).aliases
        return next((a.collection_name for a in aliases if a.alias_name == self._collection), None)

    async def _point_alias(self, physical: str) -> None:
        """Make the alias name ``physical``: one atomic alias update where it is an alias
        already; the delete of a pre-alias real collection first otherwise."""
        current = await self._target()
        ops: list[Any] = []
        if current is not None:
            ops.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=self._collection)))
        elif await self._client.collection_exists(self._collection):
            log.warning("replacing the pre-alias collection %s by an alias (a moment without it)",
                        self._collection)
            await self._client.delete_collection(self._collection)
        ops.append(qm.CreateAliasOperation(
            create_alias=qm.CreateAlias(collection_name=physical, alias_name=self._collection)))
        await self._client.update_collection_aliases(change_aliases_operations=ops)
        if current is not None and current != physical:
            await self._client.delete_collection(current)

    async def _refresh_collab(self) -> None:
        info = await self._client.get_collection(self._collection)
        params = info.config.params.vectors
        vector = params.get(COLLAB) if isinstance(params, dict) else None
        if vector is None:
            self._collab = None
            return
        version = "unknown"
        has_version = qm.Filter(must_not=[qm.IsEmptyCondition(is_empty=qm.PayloadField(key=COLLAB_VERSION))])
        records, _ = await self._client.scroll(
            self._collection, limit=1, with_payload=[COLLAB_VERSION], with_vectors=False,
            scroll_filter=has_version,
        )
        for record in records:
            version = str((record.payload or {}).get(COLLAB_VERSION) or version)
        self._collab = (version, int(vector.size))

    async def ensure(self) -> None:
        if await self._target() is None and not await self._client.collection_exists(self._collection):
            physical = self._physical_name()
            await self._create_physical(physical, None)
            await self._point_alias(physical)
        await self._refresh_collab()

    async def recreate(self) -> None:
        physical = self._physical_name()
        await self._create_physical(physical, None)
        await self._point_alias(physical)
        self._collab = None
        self._pending = None  # a swap being built now holds stale data; it will fail

    async def collab_info(self) -> tuple[str | None, int | None]:
        return (self._collab[0], self._collab[1]) if self._collab else (None, None)

    async def close(self) -> None:
        await self._client.close()

    async def health(self) -> bool:
        try:
            return bool(await self._client.collection_exists(self._collection))
        except Exception:
            return False

    async def count(self) -> int:
        return int((await self._client.count(self._collection, exact=True)).count)

    async def optimize(self) -> None:
        """A server builds its indexes itself, in the background."""

    async def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        check_vectors(points)
        await self._upsert_into(self._collection, list(points), self._collab[1] if self._collab else None)
        if self._pending is not None:
            self._pending.append(list(points))

    async def _upsert_into(self, collection: str, points: list[IndexPoint], collab_dim: int | None) -> None:
        """Upsert keeping the collab vector a point already has in ``collection`` (see base)."""
        lacking = [p.id for p in points if p.collab is None]
        if collab_dim is not None and lacking:
            held = {point_id(r.id): r for r in await self._client.retrieve(
                collection, ids=lacking, with_payload=list(COLLAB_PAYLOAD), with_vectors=[COLLAB])}
            points = [
                carry_collab(p, collab_of(_named(held[p.id].vector)), held[p.id].payload)
                if p.id in held and held[p.id].vector else p
                for p in points
            ]
        points = [p if p.collab is None or p.collab.shape == (collab_dim,) else without_collab(p)
                  for p in points]

        def convert() -> list[qm.PointStruct]:
            return [_struct(p) for p in points]

        structs = await asyncio.to_thread(convert) if len(points) >= _THREAD_CONVERT_MIN else convert()
        with warnings.catch_warnings():
            # Local mode warns once the collection passes 20k points; the tests know.
            warnings.simplefilter("ignore", UserWarning)
            await self._client.upsert(collection, points=structs, wait=True)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list: list[Any] = [int(i) for i in ids]
        if id_list:
            await self._client.delete(
                self._collection, points_selector=qm.PointIdsList(points=id_list), wait=True
            )
            if self._pending is not None:
                self._pending.append(id_list)

    async def replace_collab(self, model: CollabVectors) -> None:
        """New physical collection with every point and the model's vectors; the alias switch
        makes it live at one instant (see the module docstring)."""
        async with self._swap_lock:
            physical = self._physical_name()
            await self._create_physical(physical, model.dim)
            self._pending = []
            try:
                await self._copy_with_collab(physical, model)
                pending, self._pending = self._pending, None
                if pending is None:
                    raise RuntimeError("the index was recreated during the collab swap; train again")
                for write in pending:
                    if write and isinstance(write[0], IndexPoint):
                        await self._upsert_into(physical, list(write), model.dim)  # type: ignore[arg-type]
                    elif write:
                        await self._client.delete(
                            physical, points_selector=qm.PointIdsList(points=list(write)), wait=True)  # type: ignore[arg-type]
                await self._point_alias(physical)
            except BaseException:
                self._pending = None
                await self._client.delete_collection(physical)
                raise
            self._collab = (model.version, model.dim)

    async def _copy_with_collab(self, physical: str, model: CollabVectors) -> None:
        rows = model.rows()
        offset: Any = None
        while True:
            records, offset = await self._client.scroll(
                self._collection, limit=COPY_PAGE, offset=offset, with_payload=True, with_vectors=True
            )
            points = [with_model(point_id(r.id), r.payload, _named(r.vector)[TEXT], _named(r.vector)[AUDIO],
                                 model, rows) for r in records]
            if points:
                await self._upsert_into(physical, points, model.dim)
            if offset is None:
                return

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        response = await self._client.query_points(
            self._collection,
            query=as_array(vector).tolist(),
            using=using,
            query_filter=_server_filter(flt),
            limit=limit,
            with_payload=True,
        )
        return scored_hits(response.points, using)

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
        query = BlendQuery.shape(text_vec, audio_vec, weights, limit, collab_vec, collab_version,
                                 self._collab, same_model_only=False)
        try:
            return await self._search_blend(query, flt)
        except Exception:
            if query.collab is None:
                raise
            # Another instance may have swapped or recreated the collection: look again, and
            # answer without the collab prefetch rather than fail the listener's query.
            await self._refresh_collab()
            return await self._search_blend(query.without_collab(), flt)

    async def _search_blend(self, query: BlendQuery, flt: TrackFilter | None) -> list[Hit]:
        query_filter = _server_filter(flt)
        sides = query.sides()
        if len(sides) >= 2:
            response = await self._client.query_points(
                self._collection,
                prefetch=[qm.Prefetch(query=vec, using=name, limit=query.per_side) for name, vec in sides],
                query=qm.FusionQuery(fusion=qm.Fusion.RRF),
                query_filter=query_filter,
                limit=query.candidates(len(sides)),
                with_payload=True,
                with_vectors=True,
            )
        else:
            name, vec = sides[0]
            response = await self._client.query_points(
                self._collection, query=vec, using=name, query_filter=query_filter, limit=query.per_side,
                with_payload=True, with_vectors=True,
            )
        points = response.points
        if not points:
            return []
        vectors = [_named(p.vector) for p in points]
        return query.rank([point_id(p.id) for p in points], [p.payload for p in points],
                          as_array([v[TEXT] for v in vectors]), as_array([v[AUDIO] for v in vectors]),
                          [collab_of(v) for v in vectors])

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
        query = qm.RecommendQuery(
            recommend=qm.RecommendInput(
                positive=[as_array(v).tolist() for v in positives],
                negative=[as_array(v).tolist() for v in negatives],
                strategy=qm.RecommendStrategy.BEST_SCORE,
            )
        )
        response = await self._client.query_points(
            self._collection,
            query=query,
            using=using,
            query_filter=_server_filter(flt),
            limit=limit,
            with_payload=True,
        )
        return scored_hits(response.points, None)

    async def _retrieve(self, ids: Iterable[int], with_vectors: bool, with_payload: bool) -> list[qm.Record]:
        id_list: list[Any] = list(dict.fromkeys(int(i) for i in ids))
        if not id_list:
            return []
        return await self._client.retrieve(
            self._collection, ids=id_list, with_payload=with_payload, with_vectors=with_vectors
        )

    async def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        records = await self._retrieve(ids, True, False)
        return {
            point_id(r.id): Vectors(as_array(_named(r.vector)[TEXT]), as_array(_named(r.vector)[AUDIO]),
                                    collab_of(_named(r.vector)))
            for r in records
        }

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        records = await self._retrieve(ids, False, True)
        return {point_id(r.id): from_storage_payload(r.payload) for r in records}

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        records = await self._retrieve(ids, True, True)
        return {
            point_id(r.id): IndexPoint(
                id=point_id(r.id),
                text=as_array(_named(r.vector)[TEXT]),
                audio=as_array(_named(r.vector)[AUDIO]),
                payload=from_storage_payload(r.payload),
                collab=collab_of(_named(r.vector)),
            )
            for r in records
        }

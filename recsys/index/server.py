"""The production back end: a Qdrant server through ``qdrant_client.AsyncQdrantClient``.

Also accepts ``location=":memory:"`` or ``path=...``: qdrant-client's local mode speaks the same
API (tests use it, as no server binary exists here). Local mode is slow beyond ~20k points
and blocks the event loop; it is not for production.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm

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

_SCHEMA = {
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "integer": qm.PayloadSchemaType.INTEGER,
    "float": qm.PayloadSchemaType.FLOAT,
}

# Converting big batches to lists is worth a thread; small ones are not worth the hop.
_THREAD_CONVERT_MIN = 256


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


def _as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _named(vector: Any) -> dict[str, Any]:
    if not isinstance(vector, dict):
        raise TypeError("expected named vectors from Qdrant")
    return vector


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
        if url is not None:
            self._client = AsyncQdrantClient(url=url, api_key=api_key, timeout=timeout)
        elif location is not None:
            self._client = AsyncQdrantClient(location=location)
        else:
            self._client = AsyncQdrantClient(path=path)

    async def _create(self) -> None:
        await self._client.create_collection(
            self._collection,
            vectors_config={
                TEXT: qm.VectorParams(size=TEXT_DIM, distance=qm.Distance.COSINE),
                AUDIO: qm.VectorParams(size=AUDIO_DIM, distance=qm.Distance.EUCLID),
            },
        )
        if self._local:
            return  # local mode ignores payload indexes (and warns about each)
        for key, kind in PAYLOAD_INDEXES.items():
            await self._client.create_payload_index(self._collection, key, _SCHEMA[kind], wait=True)

    async def ensure(self) -> None:
        if not await self._client.collection_exists(self._collection):
            await self._create()

    async def recreate(self) -> None:
        if await self._client.collection_exists(self._collection):
            await self._client.delete_collection(self._collection)
        await self._create()

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

        def convert() -> list[qm.PointStruct]:
            return [
                qm.PointStruct(
                    id=p.id,
                    vector={
                        TEXT: p.text.astype(np.float32).tolist(),
                        AUDIO: p.audio.astype(np.float32).tolist(),
                    },
                    payload=to_storage_payload(p.payload),
                )
                for p in points
            ]

        structs = await asyncio.to_thread(convert) if len(points) >= _THREAD_CONVERT_MIN else convert()
        with warnings.catch_warnings():
            # Local mode warns once the collection passes 20k points; the tests know.
            warnings.simplefilter("ignore", UserWarning)
            await self._client.upsert(self._collection, points=structs, wait=True)

    async def delete(self, ids: Iterable[int]) -> None:
        id_list: list[Any] = [int(i) for i in ids]
        if id_list:
            await self._client.delete(
                self._collection, points_selector=qm.PointIdsList(points=id_list), wait=True
            )

    def _hits(self, points: Sequence[qm.ScoredPoint], using: VectorName | None) -> list[Hit]:
        hits = []
        for p in points:
            score = float(p.score)
            if using == AUDIO:
                score = float(audio_similarity(score))  # Qdrant reports the Euclidean distance
            hits.append(Hit(id=point_id(p.id), score=score, payload=from_storage_payload(p.payload)))
        return hits

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        response = await self._client.query_points(
            self._collection,
            query=_as_array(vector).tolist(),
            using=using,
            query_filter=_server_filter(flt),
            limit=limit,
            with_payload=True,
        )
        return self._hits(response.points, using)

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
        query_filter = _server_filter(flt)
        per_vector = prefetch_limit(limit)
        sides: list[tuple[str, list[float]]] = []
        if text_vec is not None:
            sides.append((TEXT, _as_array(text_vec).tolist()))
        if audio_vec is not None:
            sides.append((AUDIO, _as_array(audio_vec).tolist()))
        if len(sides) == 2:
            # The fusion only forms the union of both candidate lists; the ranking is the
            # exact weighted score computed from the returned vectors (see base.py).
            response = await self._client.query_points(
                self._collection,
                prefetch=[qm.Prefetch(query=vec, using=name, limit=per_vector) for name, vec in sides],
                query=qm.FusionQuery(fusion=qm.Fusion.RRF),
                query_filter=query_filter,
                limit=2 * per_vector,
                with_payload=True,
                with_vectors=True,
            )
        else:
            name, vec = sides[0]
            response = await self._client.query_points(
                self._collection,
                query=vec,
                using=name,
                query_filter=query_filter,
                limit=per_vector,
                with_payload=True,
                with_vectors=True,
            )
        points = response.points
        if not points:
            return []
        return rank_blended(
            [point_id(p.id) for p in points],
            [p.payload for p in points],
            _as_array([_named(p.vector)[TEXT] for p in points]),
            _as_array([_named(p.vector)[AUDIO] for p in points]),
            None if text_vec is None else _as_array(text_vec),
            None if audio_vec is None else _as_array(audio_vec),
            weights,
            limit,
        )

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
                positive=[_as_array(v).tolist() for v in positives],
                negative=[_as_array(v).tolist() for v in negatives],
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
        return self._hits(response.points, None)

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
            point_id(r.id): (_as_array(_named(r.vector)[TEXT]), _as_array(_named(r.vector)[AUDIO]))
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
                text=_as_array(_named(r.vector)[TEXT]),
                audio=_as_array(_named(r.vector)[AUDIO]),
                payload=from_storage_payload(r.payload),
            )
            for r in records
        }

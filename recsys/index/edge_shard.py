"""What is done to one open Qdrant Edge shard, in whichever process holds it: its config, create
and load, the upsert that keeps a held collab vector, the filter, and the wire form of points
and filters that the Edge host (recsys/index/edge_host.py) and the serving process exchange.

The serving process never opens the live shard itself: a child process does
(recsys/index/edge_lifecycle.py says why). The collab build's child (edge_collab_build.py)
uses the same functions on the shards it reads and writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from recsys.features import AUDIO_DIM
from recsys.index.base import (
    AUDIO,
    COLLAB,
    PAYLOAD_INDEXES,
    TEXT,
    TEXT_DIM,
    BlendQuery,
    BlendWeights,
    CollabVectors,
    IndexPoint,
    TrackFilter,
    carry_collab,
    collab_of,
    named_vectors,
    normalise_name,
    point_id,
    to_storage_payload,
    without_collab,
)

COLLAB_META = "musicrec-collab.json"  # {"version": ..., "dim": ...}, inside the shard directory
COPY_PAGE = 512  # points per page when a collab build copies the shard

# A write as a function of the shard it applies to and that shard's collab dim (None: the
# shard has no collab vector); it returns the points it wrote (a reader's cache keeps those).
ShardOp = Callable[[Any, "int | None"], list[IndexPoint]]


def save_collab_vectors(model: CollabVectors, path: Path) -> None:
    """The model as the collab build's child reads it (load_collab_vectors)."""
    with path.open("wb") as out:
        np.savez(out, version=np.array(model.version), ids=model.ids, vectors=model.vectors,
                 confidence=model.confidence)


def load_collab_vectors(path: Path) -> CollabVectors:
    with np.load(path, allow_pickle=False) as data:
        return CollabVectors(str(data["version"]), data["ids"], data["vectors"], data["confidence"])


def read_collab_meta(path: Path) -> tuple[str, int] | None:
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

    collab = read_collab_meta(path)
    # Passing the config makes Edge check that the stored vectors still fit.
    shard = EdgeShard.load(str(path), shard_config(collab[1] if collab else None, max_search_threads))
    return shard, collab


def edge_filter(flt: TrackFilter | None) -> Any:
    """The Edge filter of a TrackFilter (None: no filter)."""
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


# -- the wire form (msgpack) ---------------------------------------------------------------------

WireVector = bytes  # float32, native byte order: both ends are the same machine


def vector_to_wire(vector: Any) -> WireVector:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def vector_from_wire(data: WireVector) -> np.ndarray:
    """Read-only (it is a view of the message): whoever keeps it must not change it anyway."""
    return np.frombuffer(data, dtype=np.float32)


def point_to_wire(point: IndexPoint) -> list[Any]:
    collab = None if point.collab is None else vector_to_wire(point.collab)
    return [int(point.id), vector_to_wire(point.text), vector_to_wire(point.audio), point.payload, collab]


def point_from_wire(wire: Sequence[Any]) -> IndexPoint:
    point, text, audio, payload, collab = wire
    return IndexPoint(int(point), vector_from_wire(text), vector_from_wire(audio), payload,
                      None if collab is None else vector_from_wire(collab))


def blend_query_to_wire(query: BlendQuery) -> list[Any]:
    def vector(v: np.ndarray | None) -> WireVector | None:
        return None if v is None else vector_to_wire(v)

    w = query.weights
    return [vector(query.text), vector(query.audio), vector(query.collab), query.collab_version,
            [w.text, w.audio, w.collab], query.limit]


def blend_query_from_wire(wire: Sequence[Any]) -> BlendQuery:
    def vector(data: WireVector | None) -> np.ndarray | None:
        return None if data is None else vector_from_wire(data)

    text, audio, collab, version, weights, limit = wire
    return BlendQuery(vector(text), vector(audio), vector(collab), version, BlendWeights(*weights),
                      int(limit))


def filter_to_wire(flt: TrackFilter | None) -> dict[str, Any] | None:
    if flt is None:
        return None
    # By hand, not dataclasses.asdict: that deep-copies a session's hundreds of excluded ids.
    wire = {f.name: getattr(flt, f.name) for f in fields(flt)}
    wire["exclude_ids"] = list(flt.exclude_ids)
    wire["exclude_libraries"] = list(flt.exclude_libraries)
    return wire


def filter_from_wire(wire: dict[str, Any] | None) -> TrackFilter | None:
    if wire is None:
        return None
    return TrackFilter(**{**wire, "exclude_ids": set(wire["exclude_ids"]),
                          "exclude_libraries": set(wire["exclude_libraries"])})


def wire_default(value: Any) -> Any:
    """msgpack's fallback: NumPy scalars and arrays in payloads become plain values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to the Edge host")

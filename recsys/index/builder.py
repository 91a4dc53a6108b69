"""Turning catalog tracks into index points, and loading them into an index in batches."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from recsys.catalog import CatalogTrack, is_playable, parse_library_ref
from recsys.encoder import AsyncEncoder
from recsys.features import audio_matrix
from recsys.index.base import IndexPoint, TrackIndex, normalise_name
from recsys.text import FACET_WEIGHTS, describe_facets

# Audio features copied into the payload, for reasons ("energy 0.82") and payload filters.
PAYLOAD_AUDIO = ("energy", "valence", "tempo", "danceability", "acousticness")

ProgressCallback = Callable[[int, int], Any]  # (done, total)


def track_payload(track: CatalogTrack) -> dict[str, Any]:
    """The payload stored with a track's point (see recsys.index.base for the fields)."""
    payload: dict[str, Any] = {
        "id": track.id,
        "title": track.title,
        "artist": list(dict.fromkeys(normalise_name(a) for a in track.artists if a.strip())),
        "genre": list(dict.fromkeys(normalise_name(g) for g in track.genres if g.strip())),
        "year": track.year,
        "explicit": bool(track.explicit),
        "popularity": float(track.popularity) if track.popularity is not None else None,
        "playable": is_playable(track),
    }
    library = parse_library_ref(track.media_ref)
    if library is not None:
        payload["library"] = str(library[0])
    for feature in PAYLOAD_AUDIO:
        value = track.audio.get(feature)
        payload[feature] = float(value) if value is not None else None
    return payload


def _points_without_text(
    tracks: Sequence[CatalogTrack],
) -> tuple[list[dict[str, str]], Any, list[dict[str, Any]]]:
    facets = [describe_facets(t) for t in tracks]
    audios = audio_matrix([t.audio for t in tracks])
    payloads = [track_payload(t) for t in tracks]
    return facets, audios, payloads


class FacetCache:
    """Facet line → vector, bounded (LRU): one import's batches share artists and mood words."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    async def vectors(self, lines: Sequence[str], encoder: AsyncEncoder) -> dict[str, np.ndarray]:
        missing = [line for line in dict.fromkeys(lines) if line not in self._vectors]
        if missing:
            for line, vector in zip(missing, await encoder.encode(missing), strict=True):
                self._vectors[line] = vector
        found = {}
        for line in lines:
            self._vectors.move_to_end(line)
            found[line] = self._vectors[line]
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return found


_facet_cache = FacetCache()


def combine_facets(facets: dict[str, str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    total = sum(FACET_WEIGHTS[name] * vectors[line] for name, line in facets.items())
    vector = np.asarray(total, dtype=np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


async def build_points(tracks: Sequence[CatalogTrack], encoder: AsyncEncoder) -> list[IndexPoint]:
    """Index points for ``tracks``: text vectors in the encoder's worker, the rest in a thread."""
    if not tracks:
        return []
    facets, audios, payloads = await asyncio.to_thread(_points_without_text, tracks)
    lines = [line for track_facets in facets for line in track_facets.values()]
    vectors = await _facet_cache.vectors(lines, encoder)
    return [
        IndexPoint(id=t.id, text=combine_facets(facets[i], vectors), audio=audios[i], payload=payloads[i])
        for i, t in enumerate(tracks)
    ]


async def index_tracks(
    index: TrackIndex,
    tracks: Sequence[CatalogTrack],
    encoder: AsyncEncoder,
    batch: int = 512,
    on_progress: ProgressCallback | None = None,
) -> int:
    """Encode and upsert ``tracks`` in batches; returns how many were indexed.

    Encoding batch n+1 overlaps with upserting batch n (different worker threads). The
    caller starts ``index.optimize()`` in the background afterwards (Edge builds HNSW there).
    ``on_progress`` may be a plain function or a coroutine function.
    """
    total = len(tracks)
    done = 0
    pending: tuple[asyncio.Task[None], int] | None = None
    try:
        for start in range(0, total, batch):
            points = await build_points(tracks[start : start + batch], encoder)
            if pending is not None:
                await pending[0]
                done += pending[1]
                await _report(on_progress, done, total)
            pending = (asyncio.create_task(index.upsert(points)), len(points))
        if pending is not None:
            await pending[0]
            done += pending[1]
            pending = None
            await _report(on_progress, done, total)
    finally:
        if pending is not None and not pending[0].done():
            pending[0].cancel()
    return done


async def _report(on_progress: ProgressCallback | None, done: int, total: int) -> None:
    if on_progress is None:
        return
    result = on_progress(done, total)
    if asyncio.iscoroutine(result):
        await result

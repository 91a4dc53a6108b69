"""The track index: one async interface over Qdrant's data model, two back ends.

Every point is a track (point id = database id) with two named vectors:
- "text": 384-d MiniLM vector of the track's descriptive line, cosine distance (the model
  is trained for cosine, and its vectors are normalised).
- "audio": AUDIO_DIM standardised audio features, Euclidean distance: a mood is a target
  point, and closeness to it is what counts (see recsys.features). Searches on "audio"
  report ``audio_similarity(distance)`` so that every Hit score is "higher is better".

Payload (what filters and the engine read): id, title, artist (normalised lowercase names),
genre (lowercase), year, explicit, playable (this server has the track's media), popularity,
energy, valence, tempo, danceability, acousticness, library (the id, as text, of the library
server its sound comes from; absent for other tracks).

``search_blend`` (the mood query) prefetches the nearest candidates on both vectors in ONE
query, gets their vectors back, and ranks the union by an exact weighted sum of the two
similarities. Not rank fusion (RRF): RRF throws away how close a track is, and a mood mix
needs "energy 0.15 is better than 0.3", not just "ranked 3rd". Both scores live in about
[0, 1], so plain weights blend them, and the returned vectors feed diversification and
"because you liked X" reasons without another round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from recsys.encoder import EMBEDDING_DIM
from recsys.features import AUDIO_DIM, audio_similarity

TEXT = "text"
AUDIO = "audio"
VectorName = Literal["text", "audio"]
TEXT_DIM = EMBEDDING_DIM

# Payload fields with an index, and their kinds. "explicit" and "playable" are stored as 0/1:
# qdrant-edge-py 0.9 turns MatchValue(True) into the integer 1, which never matches a stored
# bool (measured), so flags are kept as integers in both back ends and turned back into bools
# on reads.
PAYLOAD_INDEXES: dict[str, Literal["keyword", "integer", "float"]] = {
    "genre": "keyword",
    "artist": "keyword",
    "year": "integer",
    "explicit": "integer",
    "playable": "integer",
    "popularity": "float",
    "library": "keyword",
}
FLAG_FIELDS = ("explicit", "playable")


class TrackIndexError(Exception):
    """The index is unusable (incompatible schema on disk, closed, unreachable)."""


def normalise_name(name: str) -> str:
    """Artist and genre names as stored and filtered: lowercase, single spaces."""
    return " ".join(name.lower().split())


@dataclass(slots=True)
class TrackFilter:
    """Hard constraints on results. Every field is optional; the default matches everything.

    genres: any-of (names are normalised). explicit: False excludes explicit tracks; True
    or None allow them. year_min/year_max: inclusive; a track without a year fails a bound.
    artists_not: none of these artists. exclude_ids: never return these track ids.
    """

    genres: list[str] | None = None
    explicit: bool | None = None
    year_min: int | None = None
    year_max: int | None = None
    artists_not: list[str] | None = None
    exclude_ids: set[int] = field(default_factory=set)
    playable_only: bool = False
    # Library ids (payload "library") whose tracks are left out: the offline ones.
    exclude_libraries: set[str] = field(default_factory=set)

    def excluding(self, ids: Iterable[int]) -> TrackFilter:
        """A copy that also excludes ``ids`` (the original is left alone)."""
        extra = set(ids)
        if not extra:
            return self
        return replace(self, exclude_ids=set(self.exclude_ids) | extra)

    def matches(self, payload: Mapping[str, Any]) -> bool:
        """The same rules in Python, for checks on payloads already fetched (and tests)."""
        if payload.get("id") in self.exclude_ids:
            return False
        if self.genres:
            wanted = {normalise_name(g) for g in self.genres}
            if not wanted & set(payload.get("genre") or []):
                return False
        if self.explicit is False and payload.get("explicit"):
            return False
        if self.playable_only and not payload.get("playable"):
            return False
        if self.exclude_libraries and payload.get("library") in self.exclude_libraries:
            return False
        year = payload.get("year")
        if self.year_min is not None and (year is None or year < self.year_min):
            return False
        if self.year_max is not None and (year is None or year > self.year_max):
            return False
        if self.artists_not:
            banned = {normalise_name(a) for a in self.artists_not}
            if banned & set(payload.get("artist") or []):
                return False
        return True


@dataclass(slots=True)
class IndexPoint:
    """One track as the index stores it."""

    id: int
    text: np.ndarray  # (TEXT_DIM,) float32, L2-normalised
    audio: np.ndarray  # (AUDIO_DIM,) float32, recsys.features.audio_vector
    payload: dict[str, Any]


@dataclass(slots=True, eq=False)  # compared by identity: value equality over arrays is meaningless
class Hit:
    """A search result; ``score`` is higher-is-better. Vectors only where a method says so."""

    id: int
    score: float
    payload: dict[str, Any]
    text: np.ndarray | None = None
    audio: np.ndarray | None = None


Vectors = tuple[np.ndarray, np.ndarray]  # (text, audio)


@dataclass(frozen=True, slots=True)
class BlendWeights:
    """How much the text and the audio similarity count in a blended score."""

    text: float = 0.5
    audio: float = 0.5


def to_storage_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Payload as written to Qdrant (see PAYLOAD_INDEXES on why flags are 0/1)."""
    stored = dict(payload)
    for flag in FLAG_FIELDS:
        if flag in stored:
            stored[flag] = int(bool(stored[flag]))
    return stored


def from_storage_payload(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """Payload as the engine reads it."""
    public = dict(payload or {})
    for flag in FLAG_FIELDS:
        if flag in public:
            public[flag] = bool(public[flag])
    return public


def point_id(raw: Any) -> int:
    """Qdrant ids come back as int (or str from some paths); track ids are ints."""
    return int(raw)


def blend_scores(
    text_query: np.ndarray | None,
    audio_query: np.ndarray | None,
    weights: BlendWeights,
    texts: np.ndarray,
    audios: np.ndarray,
) -> np.ndarray:
    """Exact blended similarity of candidates (rows) to the query, shape (n,).

    text: cosine (rows and query are normalised, so a dot product); audio: audio_similarity
    of the Euclidean distance. A missing query side contributes nothing.
    """
    n = len(texts) if text_query is not None else len(audios)
    total = np.zeros(n, dtype=np.float32)
    weight_sum = 0.0
    if text_query is not None and weights.text > 0:
        total += weights.text * (texts @ text_query)
        weight_sum += weights.text
    if audio_query is not None and weights.audio > 0:
        distances = np.linalg.norm(audios - audio_query[None, :], axis=1)
        total += weights.audio * np.asarray(audio_similarity(distances), dtype=np.float32)
        weight_sum += weights.audio
    return total / weight_sum if weight_sum > 0 else total


def rank_blended(
    ids: Sequence[int],
    payloads: Sequence[Mapping[str, Any] | None],
    texts: np.ndarray,
    audios: np.ndarray,
    text_query: np.ndarray | None,
    audio_query: np.ndarray | None,
    weights: BlendWeights,
    limit: int,
) -> list[Hit]:
    """The best ``limit`` candidates by exact blended score, as Hits carrying their vectors.

    Ties are broken by id, so the same inputs always give the same order (Quick Mix relies
    on it for caching).
    """
    if not ids:
        return []
    scores = blend_scores(text_query, audio_query, weights, texts, audios)
    order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))[:limit]
    return [
        Hit(
            id=ids[i],
            score=float(scores[i]),
            payload=from_storage_payload(payloads[i]),
            text=texts[i],
            audio=audios[i],
        )
        for i in order
    ]


def check_vectors(points: Sequence[IndexPoint]) -> None:
    """Refuse malformed points before they reach the index (a wrong dim corrupts nothing
    in Qdrant, it fails the whole batch; a clear message is better)."""
    for p in points:
        if p.text.shape != (TEXT_DIM,) or p.audio.shape != (AUDIO_DIM,):
            raise ValueError(
                f"point {p.id}: vectors must be ({TEXT_DIM},) and ({AUDIO_DIM},), "
                f"got {p.text.shape} and {p.audio.shape}"
            )


def prefetch_limit(limit: int) -> int:
    """Candidates to prefetch per vector for a blended query of ``limit`` results.

    Up to 1.5x (at most 50 extra): the engine already asks for pools 2-4x the size it
    returns, and every candidate comes back with its 394 floats, which is what a blended
    query spends most of its time on (measured: ~4 ms per 160 candidates).
    """
    return max(limit + min(limit // 2, 50), 30)


class TrackIndex(Protocol):
    """The async index interface. Implementations: EdgeIndex, ServerIndex."""

    async def ensure(self) -> None:
        """Open the collection, creating it (vectors + payload indexes) if it does not exist."""
        ...

    async def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    async def delete(self, ids: Iterable[int]) -> None: ...

    async def search(
        self, using: VectorName, vector: np.ndarray, flt: TrackFilter | None = None, limit: int = 20
    ) -> list[Hit]:
        """Nearest tracks on one named vector."""
        ...

    async def search_blend(
        self,
        text_vec: np.ndarray | None,
        audio_vec: np.ndarray | None,
        weights: BlendWeights,
        flt: TrackFilter | None = None,
        limit: int = 20,
    ) -> list[Hit]:
        """The mood query: one round trip, best ``limit`` by blended score, with vectors."""
        ...

    async def recommend(
        self,
        using: VectorName,
        positives: list[np.ndarray],
        negatives: list[np.ndarray],
        flt: TrackFilter | None = None,
        limit: int = 20,
    ) -> list[Hit]:
        """Qdrant's recommend (best-score strategy) from example vectors."""
        ...

    async def vectors(self, ids: Iterable[int]) -> dict[int, Vectors]:
        """(text, audio) of the given ids; unknown ids are absent."""
        ...

    async def payloads(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]: ...

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        """Vectors and payload together, in one retrieve."""
        ...

    async def count(self) -> int: ...

    async def recreate(self) -> None:
        """Drop everything and create the empty collection again."""
        ...

    async def optimize(self) -> None:
        """Build search structures after a bulk import (Edge: HNSW; server: no-op)."""
        ...

    async def health(self) -> bool: ...

    async def close(self) -> None: ...

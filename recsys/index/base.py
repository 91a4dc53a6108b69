"""The track index: one async interface over Qdrant's data model, two back ends.

Every point is a track (point id = database id) with two named vectors, and a third once a
collaborative model has been installed:
- "text": 384-d MiniLM vector of the track's descriptive line, cosine distance (the model
  is trained for cosine, and its vectors are normalised).
- "audio": AUDIO_DIM standardised audio features, Euclidean distance: a mood is a target
  point, and closeness to it is what counts (see recsys.features). Searches on "audio"
  report ``audio_similarity(distance)`` so that every Hit score is "higher is better".
- "collab": the track's item factors from the last training (recsys.collab), L2-normalised,
  cosine distance, dim from the model (64 by default). Its payload carries
  ``collab_version`` (the model) and ``collab_confidence`` (in [0, 1]: how much listening
  data stands behind the vector; cold tracks carry a content-predicted vector with a low
  confidence). A point may lack it (a track added after the last training): it then counts
  as confidence 0.

Invariant of the collab vector: it is installed WHOLE (``replace_collab``): a query reads
the collab vectors of one model version only, never a mix of two (each back end says how).
An ``upsert`` of a point without a collab vector keeps the collab vector and payload fields
the track already has in the index (a catalog re-import must not erase what was learned).

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

With a collab query vector (optional; without it nothing changes for a caller), a third
prefetch on "collab" joins the union and each candidate's score becomes
``(wt*text + wa*audio + wc*c_i*collab_i) / (wt + wa + wc*c_i)`` with c_i the track's
collab confidence: a cold track (c_i = 0) is ranked on content alone, on the same scale.
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
COLLAB = "collab"
VectorName = Literal["text", "audio", "collab"]
TEXT_DIM = EMBEDDING_DIM
# Payload fields the collab swap writes beside the collab vector.
COLLAB_VERSION = "collab_version"
COLLAB_CONFIDENCE = "collab_confidence"
COLLAB_PAYLOAD = (COLLAB_VERSION, COLLAB_CONFIDENCE)

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
    collab: np.ndarray | None = None  # (collab dim,) float32, L2-normalised; None: no model yet


@dataclass(slots=True, eq=False)  # compared by identity: value equality over arrays is meaningless
class Hit:
    """A search result; ``score`` is higher-is-better. Vectors only where a method says so."""

    id: int
    score: float
    payload: dict[str, Any]
    text: np.ndarray | None = None
    audio: np.ndarray | None = None
    collab: np.ndarray | None = None


class Vectors(tuple[np.ndarray, np.ndarray]):
    """(text, audio) of a track, unpacking as it always did; ``.collab`` is its collab vector
    (None when the index has none for it). A tuple subclass so that existing callers that
    unpack two values or index [0] and [1] keep working."""

    collab: np.ndarray | None

    def __new__(cls, text: np.ndarray, audio: np.ndarray, collab: np.ndarray | None = None) -> Vectors:
        self = super().__new__(cls, (text, audio))
        self.collab = collab
        return self

    @property
    def text(self) -> np.ndarray:
        return self[0]

    @property
    def audio(self) -> np.ndarray:
        return self[1]


@dataclass(frozen=True, slots=True)
class BlendWeights:
    """How much the text, the audio and the collab similarity count in a blended score.

    ``collab`` counts only when search_blend is given a collab query vector; it is scaled per
    track by the track's collab confidence (see the module docstring)."""

    text: float = 0.5
    audio: float = 0.5
    collab: float = 0.0


@dataclass(frozen=True, slots=True)
class CollabVectors:
    """A whole collaborative model as the index installs it (see ``replace_collab``).

    ids: (n,) int64 track ids; vectors: (n, dim) float32, L2-normalised rows; confidence:
    (n,) float32 in [0, 1]. Index tracks absent from ``ids`` end up without a collab vector.
    """

    version: str
    ids: np.ndarray
    vectors: np.ndarray
    confidence: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != n or self.confidence.shape != (n,):
            raise ValueError(
                f"collab vectors: ids {self.ids.shape}, vectors {self.vectors.shape} and "
                f"confidence {self.confidence.shape} do not agree"
            )
        if not self.version or not all(c.isalnum() or c in "-_." for c in self.version):
            raise ValueError(f"collab version {self.version!r}: letters, digits, '-', '_', '.' only")

    def rows(self) -> dict[int, int]:
        """Track id → row."""
        return {int(t): i for i, t in enumerate(self.ids)}


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


@dataclass(frozen=True, slots=True)
class CollabSide:
    """The collab part of a blended ranking: the candidates' collab vectors (zero rows where
    a track has none), their confidences (0 there) and the query vector."""

    query: np.ndarray
    vectors: np.ndarray  # (n, dim)
    confidence: np.ndarray  # (n,)


def blend_scores(
    text_query: np.ndarray | None,
    audio_query: np.ndarray | None,
    weights: BlendWeights,
    texts: np.ndarray,
    audios: np.ndarray,
    collab: CollabSide | None = None,
) -> np.ndarray:
    """Exact blended similarity of candidates (rows) to the query, shape (n,).

    text: cosine (rows and query are normalised, so a dot product); audio: audio_similarity
    of the Euclidean distance. A missing query side contributes nothing. collab: cosine,
    weighted per candidate by weights.collab * its confidence, normalised per candidate, so
    a track without collab data keeps exactly its content score.
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
    if collab is None or weights.collab <= 0:
        return total / weight_sum if weight_sum > 0 else total
    query = collab.query / max(float(np.linalg.norm(collab.query)), 1e-9)
    per_track = (weights.collab * np.clip(collab.confidence, 0.0, 1.0)).astype(np.float32)
    total += per_track * (collab.vectors @ query).astype(np.float32)
    sums = weight_sum + per_track
    return np.where(sums > 0, total / np.maximum(sums, 1e-12), total).astype(np.float32)


def collab_side(
    collab_query: np.ndarray | None,
    collab_version: str | None,
    weights: BlendWeights,
    payloads: Sequence[Mapping[str, Any] | None],
    collabs: Sequence[np.ndarray | None],
) -> CollabSide | None:
    """The collab side of a ranking, or None when it cannot count.

    None when no query vector or weight is given, when no candidate has a collab vector,
    when the query's dimension differs from the candidates', or when ``collab_version`` is
    given and the candidates were trained by another model (a swap happened between the
    caller building its query and this search: mixing two models' spaces means nothing).
    """
    if collab_query is None or weights.collab <= 0:
        return None
    dim = int(collab_query.shape[0])
    present = [c for c in collabs if c is not None]
    if not present or any(c.shape != (dim,) for c in present):
        return None
    if collab_version is not None:
        versions = {(p or {}).get(COLLAB_VERSION) for p, c in zip(payloads, collabs, strict=True)
                    if c is not None}
        if versions != {collab_version}:
            return None
    vectors = np.zeros((len(collabs), dim), dtype=np.float32)
    confidence = np.zeros(len(collabs), dtype=np.float32)
    for i, (p, c) in enumerate(zip(payloads, collabs, strict=True)):
        if c is not None:
            vectors[i] = c
            confidence[i] = float((p or {}).get(COLLAB_CONFIDENCE) or 0.0)
    return CollabSide(np.asarray(collab_query, dtype=np.float32), vectors, confidence)


def rank_blended(
    ids: Sequence[int],
    payloads: Sequence[Mapping[str, Any] | None],
    texts: np.ndarray,
    audios: np.ndarray,
    text_query: np.ndarray | None,
    audio_query: np.ndarray | None,
    weights: BlendWeights,
    limit: int,
    collabs: Sequence[np.ndarray | None] | None = None,
    collab_query: np.ndarray | None = None,
    collab_version: str | None = None,
) -> list[Hit]:
    """The best ``limit`` candidates by exact blended score, as Hits carrying their vectors.

    Ties are broken by id, so the same inputs always give the same order (Quick Mix relies
    on it for caching).
    """
    if not ids:
        return []
    side = None
    if collabs is not None:
        side = collab_side(collab_query, collab_version, weights, payloads, collabs)
    scores = blend_scores(text_query, audio_query, weights, texts, audios, side)
    # Best score first, then the lower id (lexsort's last key is its primary one).
    order = np.lexsort((np.asarray(ids, dtype=np.int64), -scores))[:limit].tolist()
    values = scores.tolist()
    return [
        Hit(
            id=ids[i],
            score=values[i],
            payload=from_storage_payload(payloads[i]),
            text=texts[i],
            audio=audios[i],
            collab=None if collabs is None else collabs[i],
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
        if p.collab is not None and p.collab.ndim != 1:
            raise ValueError(f"point {p.id}: the collab vector must be one-dimensional")


def collab_of(vector: Mapping[str, Any] | None) -> np.ndarray | None:
    """The collab vector in a retrieved named-vector mapping, or None."""
    if not vector:
        return None
    value = vector.get(COLLAB)
    return None if value is None else np.asarray(value, dtype=np.float32)


def carry_collab(point: IndexPoint, existing_vector: np.ndarray | None,
                 existing_payload: Mapping[str, Any] | None) -> IndexPoint:
    """``point`` with the collab vector and payload fields the index already holds for it
    (the upsert rule: a point written without a collab vector keeps the learned one)."""
    if point.collab is not None or existing_vector is None:
        return point
    payload = dict(point.payload)
    for key in COLLAB_PAYLOAD:
        if existing_payload and key in existing_payload:
            payload[key] = existing_payload[key]
    return replace(point, collab=existing_vector, payload=payload)


def prefetch_limit(limit: int) -> int:
    """Candidates to prefetch per vector for a blended query of ``limit`` results.

    Up to 1.5x (at most 50 extra): the engine already asks for pools 2-4x the size it
    returns, and every candidate comes back with its 394 floats, which is what a blended
    query spends most of its time on (measured: ~4 ms per 160 candidates).
    """
    return max(limit + min(limit // 2, 50), 30)


def as_array(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def stack_rows(vectors: Sequence[Any]) -> np.ndarray:
    """Equal-length vectors as the rows of one float32 matrix: ``np.stack``'s result, in one
    concatenate. np.stack makes a view of every row first, which for the ~200 candidates of a
    query cost three times as much, and queues stack their candidates several times over."""
    if not vectors:
        raise ValueError("stack_rows needs at least one vector")
    width = len(vectors[0])
    flat = np.concatenate(vectors).astype(np.float32, copy=False)
    if flat.size != width * len(vectors):
        raise ValueError("stack_rows needs vectors of one length")
    return flat.reshape(len(vectors), width)


def unit_vector(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays zero): cosines become dot products."""
    return v / max(float(np.linalg.norm(v)), 1e-12)


def named_vectors(point: IndexPoint) -> dict[str, Any]:
    """A point's vectors as both back ends write them: plain lists by name, collab if it has one."""
    vectors: dict[str, Any] = {TEXT: as_array(point.text).tolist(), AUDIO: as_array(point.audio).tolist()}
    if point.collab is not None:
        vectors[COLLAB] = as_array(point.collab).tolist()
    return vectors


def without_collab(point: IndexPoint) -> IndexPoint:
    """A point whose collab vector does not fit the index's model is written without one."""
    payload = {k: v for k, v in point.payload.items() if k not in COLLAB_PAYLOAD}
    return IndexPoint(point.id, point.text, point.audio, payload, None)


def with_model(
    track: int, payload: Mapping[str, Any] | None, text: Any, audio: Any, model: CollabVectors,
    rows: Mapping[int, int],
) -> IndexPoint:
    """A stored point as a collab swap rewrites it: the model's vector and payload fields where
    the model has the track (``rows``: ``model.rows()``), none otherwise; the previous model's
    fields never survive."""
    fields = {k: v for k, v in (payload or {}).items() if k not in COLLAB_PAYLOAD}
    row = rows.get(track)
    collab = None
    if row is not None:
        collab = as_array(model.vectors[row])
        fields[COLLAB_VERSION] = model.version
        fields[COLLAB_CONFIDENCE] = float(model.confidence[row])
    return IndexPoint(track, as_array(text), as_array(audio), from_storage_payload(fields), collab)


def scored_hits(points: Iterable[Any], using: VectorName | None) -> list[Hit]:
    """Hits from a back end's scored points (``.id``, ``.score``, ``.payload``). Qdrant reports
    the Euclidean distance for "audio": it becomes ``audio_similarity``, higher is better."""
    hits = []
    for p in points:
        score = float(p.score)
        if using == AUDIO:
            score = float(audio_similarity(score))
        hits.append(Hit(id=point_id(p.id), score=score, payload=from_storage_payload(p.payload)))
    return hits


@dataclass(frozen=True, slots=True)
class BlendQuery:
    """One ``search_blend`` as both back ends run it: the query vectors as float32, the collab
    side kept only where it can count, the prefetch sizes, and the exact ranking of what the
    prefetches returned. A back end only turns ``sides()`` into its own request."""

    text: np.ndarray | None
    audio: np.ndarray | None
    collab: np.ndarray | None
    collab_version: str | None
    weights: BlendWeights
    limit: int

    @classmethod
    def shape(
        cls,
        text_vec: np.ndarray | None,
        audio_vec: np.ndarray | None,
        weights: BlendWeights,
        limit: int,
        collab_vec: np.ndarray | None,
        collab_version: str | None,
        installed: tuple[str, int] | None,
        same_model_only: bool,
    ) -> BlendQuery:
        """The request; the collab side only when a weight asks for it and the vector fits the
        ``installed`` (version, dim). With ``same_model_only`` it must also come from the
        installed version (Edge knows its model exactly; a server instance's view may lag
        another instance's swap, and the ranking checks each candidate's own version anyway)."""
        if text_vec is None and audio_vec is None:
            raise ValueError("search_blend needs a text or an audio vector")
        fits = (
            collab_vec is not None and weights.collab > 0 and installed is not None
            and collab_vec.shape == (installed[1],)
            and (not same_model_only or collab_version is None or collab_version == installed[0])
        )
        return cls(
            None if text_vec is None else as_array(text_vec),
            None if audio_vec is None else as_array(audio_vec),
            as_array(collab_vec) if fits else None,
            collab_version,
            weights,
            limit,
        )

    def without_collab(self) -> BlendQuery:
        return replace(self, collab=None, collab_version=None)

    def sides(self) -> list[tuple[str, list[float]]]:
        """(vector, query) of each prefetch: text, audio and collab, those the query has."""
        named: list[tuple[str, np.ndarray | None]] = [
            (TEXT, self.text), (AUDIO, self.audio), (COLLAB, self.collab)]
        return [(name, vector.tolist()) for name, vector in named if vector is not None]

    @property
    def per_side(self) -> int:
        return prefetch_limit(self.limit)

    def candidates(self, sides: int) -> int:
        """How many the union of ``sides`` prefetches may hold: a fusion's limit keeps them all
        (it only forms the union; the ranking is ``rank``'s exact weighted score)."""
        return sides * self.per_side

    def rank(
        self,
        ids: Sequence[int],
        payloads: Sequence[Mapping[str, Any] | None],
        texts: np.ndarray,
        audios: np.ndarray,
        collabs: Sequence[np.ndarray | None],
    ) -> list[Hit]:
        """The best ``limit`` of the candidates by exact blended score (``rank_blended``)."""
        return rank_blended(ids, payloads, texts, audios, self.text, self.audio, self.weights, self.limit,
                            collabs, self.collab, self.collab_version)


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
        collab_vec: np.ndarray | None = None,
        collab_version: str | None = None,
    ) -> list[Hit]:
        """The mood query: one round trip, best ``limit`` by blended score, with vectors.

        ``collab_vec`` (with ``weights.collab`` > 0) adds the collab side; ``collab_version``
        (the model the caller built collab_vec from) drops it if the index holds another."""
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
        """(text, audio) of the given ids, ``.collab`` set where present; unknown ids are absent."""
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

    async def replace_collab(self, model: CollabVectors) -> None:
        """Install a whole collaborative model: every point gets its collab vector (or none,
        if the model lacks the track) and payload, and queries switch from the old model to
        the new one at one instant, never seeing a mix. Writes made meanwhile are kept."""
        ...

    async def collab_info(self) -> tuple[str | None, int | None]:
        """(version, dim) of the installed collab model; (None, None) before the first."""
        ...

"""The engine: recommendations, similar tracks, text search, Quick Mix and session queues.

Orchestration only: queries go to the TrackIndex, text to the AsyncEncoder, ranking
arithmetic to recsys.session / recsys.diversify, words to recsys.reasons. Each public call
makes one index query for its candidates (plus a cached retrieve when it needs the vectors
of given tracks), and never calls the encoder for feedback events.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.diversify import (
    arc_targets,
    artists_of,
    energy_arc_chooser,
    energy_of,
    mmr,
    sequence_with_spacing,
)
from recsys.encoder import AsyncEncoder
from recsys.features import audio_similarity
from recsys.index.base import BlendWeights, Hit, IndexPoint, TrackFilter, TrackIndex
from recsys.moods import AUDIO_ONLY_WEIGHTS, MoodQuery, MoodSpec, resolve
from recsys.reasons import list_explanation, mood_reason, quote_title
from recsys.session import SessionProfile, SessionTargets, Signal

ARTIST_GAP = 4  # no artist twice within this many consecutive tracks
QUICKMIX_MIN, QUICKMIX_MAX = 10, 100
# A prior toward better-known tracks among near-equal fits. 0.04 before the offline evaluation;
# 0.1 cut the simulated skip rate and raised mood precision there (docs/evaluation.md).
POPULARITY_WEIGHT = 0.1
DISLIKED_ARTIST_PENALTY = 0.08
LIKED_REASON_MIN_SIMILARITY = 0.55
MAX_LIMIT = 500  # callers enforce their own (smaller) limits; this only stops absurd requests
MAX_QUERY_CHARS = 500


class UnknownTrack(KeyError):
    """A track id the index does not hold."""


@dataclass(slots=True)
class Scored:
    """A recommended track: id, score (higher is better), a human reason, the index payload."""

    id: int
    score: float
    reason: str
    payload: dict[str, Any]


class _PointCache:
    """LRU of track vectors and payloads seen in results, so feedback rarely hits the index."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[int, IndexPoint] = OrderedDict()

    def get(self, track_id: int) -> IndexPoint | None:
        point = self._items.get(track_id)
        if point is not None:
            self._items.move_to_end(track_id)
        return point

    def put(self, point: IndexPoint) -> None:
        self._items[point.id] = point
        self._items.move_to_end(point.id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def put_hits(self, hits: Iterable[Hit]) -> None:
        for h in hits:
            if h.text is not None and h.audio is not None:
                # Copies: a hit's vectors are rows of its whole result matrix, and one cached
                # row would keep the entire matrix alive.
                self.put(IndexPoint(h.id, h.text.copy(), h.audio.copy(), h.payload))

    def clear(self) -> None:
        self._items.clear()


def _scored(hit: Hit, reason: str) -> Scored:
    # A copy: the hit's payload is also held by the vector cache, and callers decorate results.
    return Scored(hit.id, hit.score, reason, dict(hit.payload))


def _with_popularity(hits: Sequence[Hit]) -> np.ndarray:
    scores = np.array([h.score for h in hits], dtype=np.float32)
    popularity = np.array([float(h.payload.get("popularity") or 0.0) for h in hits], dtype=np.float32)
    return scores + POPULARITY_WEIGHT * np.clip(popularity, 0.0, 100.0) / 100.0


def _similarity(a_text: np.ndarray, a_audio: np.ndarray, b_text: np.ndarray, b_audio: np.ndarray) -> float:
    return 0.5 * float(a_text @ b_text) + 0.5 * float(
        audio_similarity(float(np.linalg.norm(a_audio - b_audio)))
    )


class Engine:
    """Recommendation engine over one index and one encoder (both owned by the caller)."""

    def __init__(self, index: TrackIndex, encoder: AsyncEncoder, cache_size: int = 10_000) -> None:
        self.index = index
        self.encoder = encoder
        self._cache = _PointCache(cache_size)

    # -- helpers ----------------------------------------------------------------------------

    async def resolve_mood(self, mood: MoodSpec | None) -> MoodQuery:
        """A MoodQuery for a spec; no mood (or an empty one) gives the neutral 'Anything'."""
        return await resolve(mood or MoodSpec(), self.encoder)

    async def points(self, ids: Iterable[int]) -> dict[int, IndexPoint]:
        """Vectors and payloads of tracks, from the cache where possible (one retrieve otherwise)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[int, IndexPoint] = {}
        missing = []
        for track_id in wanted:
            point = self._cache.get(track_id)
            if point is None:
                missing.append(track_id)
            else:
                found[track_id] = point
        if missing:
            fetched = await self.index.points(missing)
            for point in fetched.values():
                self._cache.put(point)
            found.update(fetched)
        return found

    def forget_cache(self) -> None:
        """Drop cached vectors (after a reindex changed them)."""
        self._cache.clear()

    async def _blend(
        self,
        text: np.ndarray | None,
        audio: np.ndarray,
        weights: BlendWeights,
        flt: TrackFilter | None,
        pool: int,
    ) -> list[Hit]:
        hits = await self.index.search_blend(text if weights.text > 0 else None, audio, weights, flt, pool)
        self._cache.put_hits(hits)
        return hits

    # -- one-shot lists ---------------------------------------------------------------------

    async def recommend(
        self, mood: MoodSpec | None, flt: TrackFilter | None = None, limit: int = 20
    ) -> tuple[list[Scored], str]:
        """Tracks for a mood under filters, with a reason each and one overall explanation."""
        limit = min(max(1, limit), MAX_LIMIT)
        query = await self.resolve_mood(mood)
        weights = query.weights if query.text_vector is not None else AUDIO_ONLY_WEIGHTS
        pool = await self._blend(
            query.text_vector, query.audio_vector, weights, flt, min(max(3 * limit, 60), 300)
        )
        chosen = mmr(pool, limit, lam=0.85, max_per_artist=2, relevance=_with_popularity(pool))
        tracks = [_scored(h, mood_reason(h.payload, query)) for h in chosen]
        return tracks, list_explanation(query, flt, len(tracks))

    async def similar(self, track_id: int, limit: int = 20, flt: TrackFilter | None = None) -> list[Scored]:
        """Tracks close to one track in both sound and description. UnknownTrack if absent."""
        source = (await self.points([track_id])).get(track_id)
        if source is None:
            raise UnknownTrack(track_id)
        base = flt or TrackFilter()
        hits = await self._blend(
            source.text,
            source.audio,
            BlendWeights(0.5, 0.5),
            base.excluding({track_id}),
            min(max(1, limit), MAX_LIMIT),
        )
        title = quote_title(source.payload.get("title"))
        source_artists = frozenset(source.payload.get("artist") or ())
        source_genres = set(source.payload.get("genre") or ())
        results = []
        for h in hits:
            if artists_of(h) & source_artists:
                reason = f"same artist as {title}"
            elif source_genres & set(h.payload.get("genre") or ()):
                genre = sorted(source_genres & set(h.payload.get("genre") or ()))[0]
                reason = f"{genre}, sounds like {title}"
            else:
                reason = f"sounds like {title}"
            results.append(_scored(h, reason))
        return results

    async def search_text(self, q: str, limit: int = 20, flt: TrackFilter | None = None) -> list[Scored]:
        """Tracks whose description is closest to the words (semantic, not keyword, search)."""
        q = q.strip()[:MAX_QUERY_CHARS]
        if not q:
            return []
        vector = await self.encoder.encode_query(q)
        hits = await self.index.search("text", vector, flt, min(max(1, limit), MAX_LIMIT))
        return [_scored(h, f"matches '{q}'") for h in hits]

    # -- Quick Mix --------------------------------------------------------------------------

    async def quickmix(
        self,
        mood: MoodSpec | None,
        seed_ids: Sequence[int] = (),
        size: int = 30,
        flt: TrackFilter | None = None,
        recent_ids: set[int] | None = None,
    ) -> list[Scored]:
        """A ready-to-play mix: ``size`` tracks (clamped to 10..100; fewer only if the catalog
        runs out), diverse (MMR over a pool 3x the size), no artist twice within 4 tracks,
        nothing from ``recent_ids``, seeds excluded, energy in a gentle arc. Deterministic
        for the same inputs and index contents.
        """
        size = min(max(size, QUICKMIX_MIN), QUICKMIX_MAX)
        query = await self.resolve_mood(mood)
        seeds = list((await self.points(seed_ids)).values()) if seed_ids else []
        text, audio, weights = query.text_vector, query.audio_vector, query.weights
        if query.text_vector is None:
            weights = AUDIO_ONLY_WEIGHTS
        if seeds:
            # Seeds and mood count alike: the mix sits between what was asked and what was picked.
            seed_text = np.mean([s.text for s in seeds], axis=0)
            seed_audio = np.mean([s.audio for s in seeds], axis=0)
            text = seed_text if text is None else text + seed_text
            text = (text / max(float(np.linalg.norm(text)), 1e-12)).astype(np.float32)
            has_mood = bool(query.target) or query.text is not None
            audio = ((audio + seed_audio) / 2 if has_mood else seed_audio).astype(np.float32)
            weights = BlendWeights(text=max(weights.text, 0.5), audio=1.0 - max(weights.text, 0.5))
        exclude = set(recent_ids or ()) | set(seed_ids)
        base = flt or TrackFilter()
        pool = await self._blend(text, audio, weights, base.excluding(exclude), min(3 * size, 300))
        per_artist = max(1, min(3, size // 10))
        chosen = mmr(pool, size, lam=0.7, max_per_artist=per_artist, relevance=_with_popularity(pool))
        chosen_ids = {h.id for h in chosen}
        spare = [h for h in pool if h.id not in chosen_ids]
        targets = arc_targets([energy_of(h) for h in chosen])
        ordered = sequence_with_spacing(
            chosen, spare, ARTIST_GAP, choose=energy_arc_chooser(targets), count=len(chosen)
        )
        return [_scored(h, self._seed_or_mood_reason(h, seeds, query)) for h in ordered]

    @staticmethod
    def _seed_or_mood_reason(hit: Hit, seeds: list[IndexPoint], query: MoodQuery) -> str:
        text, audio = hit.text, hit.audio
        if seeds and text is not None and audio is not None:
            closeness = {s.id: _similarity(text, audio, s.text, s.audio) for s in seeds}
            best = max(seeds, key=lambda s: (closeness[s.id], -s.id))
            if closeness[best.id] >= LIKED_REASON_MIN_SIMILARITY:
                return f"in the spirit of {quote_title(best.payload.get('title'))}"
        return mood_reason(hit.payload, query)

    # -- live sessions ----------------------------------------------------------------------

    async def new_session(
        self, mood: MoodSpec | None = None, flt: TrackFilter | None = None
    ) -> SessionProfile:
        """A fresh session profile with its mood resolved (the only encoder call it needs)."""
        return SessionProfile(mood=await self.resolve_mood(mood), flt=flt or TrackFilter())

    async def set_mood(self, profile: SessionProfile, mood: MoodSpec | None) -> None:
        """Change a session's mood; its history keeps steering."""
        profile.mood = await self.resolve_mood(mood)

    async def observe(self, profile: SessionProfile, track_id: int, action: str) -> None:
        """Record feedback on a track (vectors from the cache, else one retrieve). ValueError
        for an unknown action; an unknown track is still excluded from the queue."""
        point = (await self.points([track_id])).get(track_id)
        if point is None:
            profile.observe(track_id, action, None)
        else:
            profile.observe(track_id, action, (point.text, point.audio), point.payload)

    async def next_queue(
        self, profile: SessionProfile, size: int = 20, now_playing_id: int | None = None
    ) -> list[Scored]:
        """The upcoming queue: the mood moved by the session's feedback, one index query,
        without anything already played, skipped or disliked, artists spaced."""
        size = min(max(1, size), MAX_LIMIT)
        targets = profile.targets()
        excluded = profile.excluded_ids()
        if now_playing_id is not None:
            excluded.add(now_playing_id)
        history = profile.recent_artists(ARTIST_GAP - 1)
        if now_playing_id is not None and now_playing_id not in profile.history:
            # Usually cached from the queue it came from; otherwise one small retrieve.
            playing = (await self.points([now_playing_id])).get(now_playing_id)
            history = [*history, frozenset(playing.payload.get("artist") or ()) if playing else frozenset()]
        pool = await self._blend(
            targets.text,
            targets.audio,
            targets.weights,
            profile.flt.excluding(excluded),
            min(max(2 * size, 40), 200),
        )
        if not pool:
            return []
        relevance = _with_popularity(pool)
        banned = profile.disliked_artists()
        if banned:
            relevance = relevance - DISLIKED_ARTIST_PENALTY * np.array(
                [bool(artists_of(h) & banned) for h in pool], dtype=np.float32
            )
        chosen = mmr(pool, size, lam=0.85, max_per_artist=2, relevance=relevance)
        chosen_ids = {h.id for h in chosen}
        spare = [h for h in pool if h.id not in chosen_ids]
        ordered = sequence_with_spacing(chosen, spare, ARTIST_GAP, history=history, count=len(chosen))
        return [_scored(h, self._session_reason(h, targets, profile)) for h in ordered]

    @staticmethod
    def _session_reason(hit: Hit, targets: SessionTargets, profile: SessionProfile) -> str:
        if hit.text is not None and hit.audio is not None and targets.positives:
            best: Signal | None = None
            best_score = LIKED_REASON_MIN_SIMILARITY
            for signal in targets.positives:
                sim = _similarity(hit.text, hit.audio, signal.event.text, signal.event.audio)
                # Recent, strong signals explain more than old, faint ones.
                if sim * min(1.0, signal.weight + 0.5) > best_score:
                    best, best_score = signal, sim * min(1.0, signal.weight + 0.5)
            if best is not None:
                verb = "liked" if best.event.action == "like" else "played through"
                return f"because you {verb} {quote_title(best.event.title)}"
        if targets.negatives:
            strongest = min(targets.negatives, key=lambda s: s.weight)
            what = "disliked" if strongest.event.action == "dislike" else "skipped"
            base = mood_reason(hit.payload, profile.mood)
            return f"{base}; moving away from what you {what}"
        return mood_reason(hit.payload, profile.mood)

"""The engine: recommendations, similar tracks, text search, Quick Mix and session queues.

Orchestration only: queries go to the TrackIndex, text to the AsyncEncoder, ranking
arithmetic to recsys.session / recsys.diversify, choosing a list from a pool to recsys.pick
(done by the index itself where it can: the Edge host picks next to its vectors), words to
recsys.reasons. Each public call makes one index query for its candidates (plus a cached
retrieve when it needs the vectors of given tracks), and never calls the encoder for feedback
events.

Retrieval runs over all three vectors once a session (or a listener's taste) has a collab
target: ``search_blend`` gets the target with the model version it was built from and
``BlendWeights(text, audio, collab=Tuning.collab_weight)``; the index scales the collab side
per track by its confidence, so cold tracks are ranked on content, and drops it when it
holds another model. Without a collab target (a new listener, no model yet) the query is
exactly the content query.

The collab target is the listener's vector as ALS would solve it (recsys.collab.foldin) once
the model's ``FoldIn`` is handed over with ``use_fold_in`` (whoever installs a model builds
it from the same vectors); until then, or for another model's vectors, it is the average of
the session's item vectors (recsys.session).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.collab.foldin import FoldIn
from recsys.dedupe import DuplicateKey, distinct, duplicate_key, title_key
from recsys.diversify import (
    arc_targets,
    artists_of,
    energy_arc_chooser,
    energy_of,
    mmr,
    sequence_with_spacing,
    similarities,
    similarity_matrix,
)
from recsys.encoder import AsyncEncoder
from recsys.index.base import BlendWeights, Hit, IndexPoint, TrackFilter, TrackIndex, stack_rows, unit_vector
from recsys.moods import AUDIO_ONLY_WEIGHTS, MoodQuery, MoodSpec, resolve
from recsys.pick import Picked, PickingIndex, PickSpec, Relevance, pick_async, relaxed
from recsys.reasons import list_explanation, mood_reason, quote_title
from recsys.session import SessionProfile, SessionTargets, Signal
from recsys.taste import Taste
from recsys.tuning import DEFAULT_TUNING, Tuning

ARTIST_GAP = 4  # no artist twice within this many consecutive tracks
QUICKMIX_MIN, QUICKMIX_MAX = 10, 100
MAX_LIMIT = 500  # callers enforce their own (smaller) limits; this only stops absurd requests
MAX_QUERY_CHARS = 500
RELAXED_NOTE = "few other artists fit, so this one returns sooner"
# Named vectors beyond text and audio that the index may hold (its points and hits carry them
# as attributes of the same name when present): they re-rank a pool, never required.
EXTRA_VECTORS = ("collab",)
USUAL_TASTE_REASON = "close to what you usually like"


def extra_vectors(item: object) -> dict[str, np.ndarray]:
    """The extra named vectors an IndexPoint or Hit carries (none on an index without them)."""
    found = {}
    for name in EXTRA_VECTORS:
        vector = getattr(item, name, None)
        if vector is not None:
            found[name] = np.asarray(vector, dtype=np.float32)
    return found


def named_vectors(point: IndexPoint) -> dict[str, np.ndarray]:
    """Every named vector of a point: text, audio and the extra ones present."""
    return {"text": point.text, "audio": point.audio, **extra_vectors(point)}


@dataclass(frozen=True, slots=True)
class CollabTarget:
    """A session's collab query vector and the model version it was built from."""

    vector: np.ndarray
    version: str | None


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
                # The collab vector too: feedback on a track served from this cache must steer
                # the collab target as well.
                collab = None if h.collab is None else _detached(np.asarray(h.collab, dtype=np.float32))
                self.put(IndexPoint(h.id, _detached(h.text), _detached(h.audio), h.payload, collab))


def _detached(vector: np.ndarray) -> np.ndarray:
    """``vector`` itself when it holds only its own data (an index's memo row), else a copy: a
    hit's vector may be a row of its whole result matrix, and one cached row would keep the
    entire matrix alive."""
    base = vector.base
    if base is None or (isinstance(base, bytes) and len(base) == vector.nbytes):
        return vector
    return vector.copy()


def _collab_query(weights: BlendWeights, collab: CollabTarget | None) -> dict[str, Any]:
    """The collab arguments of a blended query: none unless the collab side counts (so an index
    without a collab side is asked exactly as before)."""
    if collab is None or weights.collab <= 0:
        return {}
    return {"collab_vec": collab.vector, "collab_version": collab.version}


def _noted(reason: str, over_cap: bool) -> str:
    return f"{reason}; {RELAXED_NOTE}" if over_cap else reason


def _scored(hit: Hit, reason: str) -> Scored:
    # A copy: the hit's payload is also held by the vector cache, and callers decorate results.
    return Scored(hit.id, hit.score, reason, dict(hit.payload))


def _text_centroid(hits: Sequence[Hit]) -> np.ndarray | None:
    """The unit mean of the hits' text vectors (None when none carries one)."""
    texts = [np.asarray(h.text, dtype=np.float32) for h in hits if h.text is not None]
    if not texts:
        return None
    return unit_vector(np.mean(texts, axis=0)).astype(np.float32)


def _closeness(hits: Sequence[Hit], target: np.ndarray) -> np.ndarray:
    """Cosine of each hit's (unit) text vector to ``target``; 0 for a hit without one."""
    return np.array(
        [float(np.asarray(h.text, dtype=np.float32) @ target) if h.text is not None else 0.0 for h in hits],
        dtype=np.float32,
    )


def _with_vectors(hits: Sequence[Hit]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Positions of the hits that carry both vectors, and those vectors stacked."""
    known = [i for i, h in enumerate(hits) if h.text is not None and h.audio is not None]
    if not known:
        return known, np.zeros((0, 0), dtype=np.float32), np.zeros((0, 0), dtype=np.float32)
    return known, stack_rows([hits[i].text for i in known]), stack_rows([hits[i].audio for i in known])


class Engine:
    """Recommendation engine over one index and one encoder (both owned by the caller)."""

    def __init__(
        self, index: TrackIndex, encoder: AsyncEncoder, cache_size: int = 10_000,
        tuning: Tuning = DEFAULT_TUNING,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.tuning = tuning
        self.fold_in: FoldIn | None = None
        self._cache = _PointCache(cache_size)

    def use_fold_in(self, fold_in: FoldIn | None) -> None:
        """The installed collab model's fold-in (None: average item vectors). Sessions pick it
        up at their next queue; one of another model's version is simply not used."""
        self.fold_in = fold_in

    # -- helpers ----------------------------------------------------------------------------

    @property
    def _popular(self) -> Relevance:
        return Relevance(self.tuning.popularity_weight)

    @property
    def _mood_list_popular(self) -> Relevance:
        # A list from the mood alone has its own prior: the shared one is set for lists a
        # session or taste steers (Tuning.mood_list_popularity_weight says why).
        return Relevance(self.tuning.mood_list_popularity_weight)

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

    async def _blend(
        self,
        text: np.ndarray | None,
        audio: np.ndarray,
        weights: BlendWeights,
        flt: TrackFilter | None,
        pool: int,
        collab: CollabTarget | None = None,
    ) -> list[Hit]:
        hits = await self.index.search_blend(text if weights.text > 0 else None, audio, weights, flt, pool,
                                             **_collab_query(weights, collab))
        self._cache.put_hits(hits)
        return hits

    def _query(self, targets: SessionTargets) -> tuple[BlendWeights, CollabTarget | None]:
        """The blend weights and collab target of a session's query: the collab side joins
        when the session has a collab target and Tuning.collab_weight is positive."""
        vector = targets.extra.get("collab")
        if vector is None or self.tuning.collab_weight <= 0:
            return targets.weights, None
        weights = BlendWeights(targets.weights.text, targets.weights.audio, self.tuning.collab_weight)
        return weights, CollabTarget(vector, targets.collab_version)

    async def _pick(
        self,
        text: np.ndarray | None,
        audio: np.ndarray,
        weights: BlendWeights,
        flt: TrackFilter,
        pool_size: int,
        size: int,
        lam: float,
        per_artist: int,
        relevance: Relevance,
        taken: Iterable[DuplicateKey | None] = (),
        collab: CollabTarget | None = None,
    ) -> Picked:
        """``size`` hits by MMR from a pool without near-duplicates, never fewer than the
        catalog allows (recsys.pick). An index that picks next to its vectors (the Edge host)
        does it there; the hits it returns are cached like a search's."""
        spec = PickSpec(pool_size, size, lam, per_artist, relevance, tuple(taken))
        if isinstance(self.index, PickingIndex):
            text = text if weights.text > 0 else None  # as _blend asks
            picked = await self.index.search_pick(text, audio, weights, flt, spec,
                                                  **_collab_query(weights, collab))
            self._cache.put_hits(picked.pool)
            return picked
        return await pick_async(lambda n: self._blend(text, audio, weights, flt, n, collab), spec)

    # -- one-shot lists ---------------------------------------------------------------------

    async def recommend(
        self, mood: MoodSpec | None, flt: TrackFilter | None = None, limit: int = 20,
        taste: Taste | None = None,
    ) -> tuple[list[Scored], str]:
        """Tracks for a mood under filters, with a reason each and one overall explanation.
        With a listener's ``taste``, the mood is moved toward it as a new session's would be
        (and ranked with Tuning.popularity_weight); without one, the list ranks on the mood
        with Tuning.mood_list_popularity_weight, then once more by its own best tracks
        (_mood_list_feedback)."""
        limit = min(max(1, limit), MAX_LIMIT)
        query = await self.resolve_mood(mood)
        text, audio = query.text_vector, query.audio_vector
        weights = query.weights if query.text_vector is not None else AUDIO_ONLY_WEIGHTS
        profile: SessionProfile | None = None
        relevance: Relevance = self._mood_list_popular
        collab: CollabTarget | None = None
        if taste is not None:
            profile = SessionProfile(mood=query, tuning=self.tuning, taste=taste, fold_in=self.fold_in)
            targets = profile.targets()
            text, audio = targets.text, targets.audio
            weights, collab = self._query(targets)
            relevance = self._relevance(targets, set())
        picked = await self._pick(
            text, audio, weights, flt or TrackFilter(), min(max(3 * limit, 60), 300), limit,
            self.tuning.recommend_lambda, 2, relevance, collab=collab,
        )
        if taste is None and query.text_vector is not None:
            picked = self._mood_list_feedback(picked, limit)
        tastes = self._taste_reasons(picked.chosen, profile)
        tracks = [
            _scored(h, _noted(taste_reason or mood_reason(h.payload, query), h.id in picked.over_cap))
            for h, taste_reason in zip(picked.chosen, tastes, strict=True)
        ]
        return tracks, list_explanation(query, flt, len(tracks))

    def _mood_list_feedback(self, first: Picked, limit: int) -> Picked:
        """The mood list re-ranked by its own best tracks (pseudo-relevance feedback): the same
        pool, each hit's score raised by its text closeness to the centroid of the first list's
        top Tuning.mood_list_feedback_tracks. A mood's words reach its tracks only roughly (the
        text vector holds genres and tags, the query is a sentence); the tracks they rank first
        share a style, and its centroid speaks the tracks' own vocabulary. No index query."""
        weight = self.tuning.mood_list_feedback_weight
        centroid = _text_centroid(first.chosen[: self.tuning.mood_list_feedback_tracks])
        if weight <= 0 or centroid is None:
            return first
        lam, pool = self.tuning.recommend_lambda, first.pool
        scores = self._mood_list_popular.scores(pool) + weight * _closeness(pool, centroid)
        chosen = mmr(pool, limit, lam=lam, max_per_artist=2, relevance=scores)
        return relaxed(pool, scores, chosen, limit, lam, 2)

    async def similar(self, track_id: int, limit: int = 20, flt: TrackFilter | None = None) -> list[Scored]:
        """Tracks close to one track in both sound and description. UnknownTrack if absent."""
        source = (await self.points([track_id])).get(track_id)
        if source is None:
            raise UnknownTrack(track_id)
        base = flt or TrackFilter()
        limit = min(max(1, limit), MAX_LIMIT)
        # A few more than asked: the source's own twins (same song, another id) are dropped.
        hits = await self._blend(
            source.text,
            source.audio,
            BlendWeights(0.5, 0.5),
            base.excluding({track_id}),
            limit + 10,
        )
        hits = distinct(hits, [duplicate_key(source.payload)])[:limit]
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
        """Tracks whose style and feel are closest to the words (semantic, not keyword, search).

        The text vector holds no names (recsys.text), so a title or an artist is not found
        here: the search route matches names lexically first (app.store.tracks
        .search_title_artist) and fills the rest from this."""
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
            text = unit_vector(text).astype(np.float32)
            has_mood = bool(query.target) or query.text is not None
            audio = ((audio + seed_audio) / 2 if has_mood else seed_audio).astype(np.float32)
            weights = BlendWeights(text=max(weights.text, 0.5), audio=1.0 - max(weights.text, 0.5))
        exclude = set(recent_ids or ()) | set(seed_ids)
        base = flt or TrackFilter()
        per_artist = max(1, min(3, size // 10))
        picked = await self._pick(
            text, audio, weights, base.excluding(exclude), min(3 * size, 300), size, 0.7, per_artist,
            self._popular, [duplicate_key(s.payload) for s in seeds],
        )
        targets = arc_targets([energy_of(h) for h in picked.chosen])
        ordered = sequence_with_spacing(
            picked.chosen, picked.spare, ARTIST_GAP, choose=energy_arc_chooser(targets),
            count=len(picked.chosen),
        )
        return [_scored(h, _noted(self._seed_or_mood_reason(h, seeds, query), h.id in picked.over_cap))
                for h in ordered]

    def _seed_or_mood_reason(self, hit: Hit, seeds: list[IndexPoint], query: MoodQuery) -> str:
        text, audio = hit.text, hit.audio
        if seeds and text is not None and audio is not None:
            to_seeds = similarities(np.stack([np.asarray(s.text, dtype=np.float32) for s in seeds]),
                                    np.stack([np.asarray(s.audio, dtype=np.float32) for s in seeds]),
                                    text, audio)
            closeness = {s.id: float(c) for s, c in zip(seeds, to_seeds.tolist(), strict=True)}
            best = max(seeds, key=lambda s: (closeness[s.id], -s.id))
            if closeness[best.id] >= self.tuning.liked_reason_min_similarity:
                return f"in the spirit of {quote_title(best.payload.get('title'))}"
        return mood_reason(hit.payload, query)

    # -- live sessions ----------------------------------------------------------------------

    async def new_session(
        self, mood: MoodSpec | None = None, flt: TrackFilter | None = None, taste: Taste | None = None
    ) -> SessionProfile:
        """A fresh session profile with its mood resolved (the only encoder call it needs).
        A returning listener's ``taste`` starts it from mood + taste; a new one from the mood."""
        return SessionProfile(
            mood=await self.resolve_mood(mood), flt=flt or TrackFilter(), tuning=self.tuning, taste=taste,
            fold_in=self.fold_in,
        )

    async def set_mood(self, profile: SessionProfile, mood: MoodSpec | None) -> None:
        """Change a session's mood; its history keeps steering."""
        profile.mood = await self.resolve_mood(mood)

    async def observe(self, profile: SessionProfile, track_id: int, action: str) -> None:
        """Record feedback on a track (vectors from the cache, else one retrieve). ValueError
        for an unknown action; an unknown track is still excluded from the queue."""
        await self.observe_all(profile, [(track_id, action)])

    async def observe_all(self, profile: SessionProfile, events: Sequence[tuple[int, str]]) -> None:
        """``observe`` each (track, action) in order, the tracks' vectors read at once."""
        if not events:
            return
        points = await self.points([track for track, _ in events])
        for track_id, action in events:
            point = points.get(track_id)
            if point is None:
                profile.observe(track_id, action, None)
            else:
                profile.observe(track_id, action, (point.text, point.audio), point.payload,
                                extra_vectors(point))

    async def next_queue(
        self, profile: SessionProfile, size: int = 20, now_playing_id: int | None = None
    ) -> list[Scored]:
        """The upcoming queue: the mood moved by the session's feedback, one index query,
        without anything already played, skipped or disliked, artists spaced."""
        return (await self.next_queue_and_targets(profile, size, now_playing_id))[0]

    async def next_queue_and_targets(
        self, profile: SessionProfile, size: int = 20, now_playing_id: int | None = None
    ) -> tuple[list[Scored], SessionTargets]:
        """``next_queue``, and the session's targets it was drawn from (a caller that reads
        them too need not solve them again)."""
        size = min(max(1, size), MAX_LIMIT)
        if self.fold_in is not None:
            profile.fold_in = self.fold_in  # a model installed since the session began
        targets = profile.targets()
        excluded = profile.excluded_ids()
        if now_playing_id is not None:
            excluded.add(now_playing_id)
        history = profile.recent_artists(ARTIST_GAP - 1)
        playing_payload: dict[str, Any] | None = None
        if now_playing_id is not None and now_playing_id not in profile.history:
            # Usually cached from the queue it came from; otherwise one small retrieve.
            playing = (await self.points([now_playing_id])).get(now_playing_id)
            playing_payload = playing.payload if playing else None
            history = [*history, frozenset(playing.payload.get("artist") or ()) if playing else frozenset()]
        relevance = self._relevance(targets, profile.disliked_artists())
        # Twins of what was heard (same song, another id) are as good as heard.
        taken: list[DuplicateKey | None] = [
            (e.artists, title_key(e.title)) for e in profile.events if e.title
        ]
        if playing_payload is not None:
            taken.append(duplicate_key(playing_payload))
        weights, collab = self._query(targets)
        picked = await self._pick(
            targets.text, targets.audio, weights, profile.flt.excluding(excluded),
            min(max(2 * size, 40), 200), size, 0.85, 2, relevance, taken, collab,
        )
        if not picked.chosen:
            return [], targets
        ordered = sequence_with_spacing(
            picked.chosen, picked.spare, ARTIST_GAP, history=history, count=len(picked.chosen)
        )
        reasons = self._session_reasons(ordered, targets, profile)
        return [_scored(h, _noted(reason, h.id in picked.over_cap))
                for h, reason in zip(ordered, reasons, strict=True)], targets

    def _relevance(self, targets: SessionTargets, banned: set[str]) -> Relevance:
        """Pool scores: the blended score, the popularity prior, a penalty for disliked artists,
        and closeness on every extra named vector the session has a target for and the hit
        carries (a hit without it gets nothing there)."""
        tuning = self.tuning
        return Relevance(tuning.popularity_weight, frozenset(banned), tuning.disliked_artist_penalty,
                         tuple(targets.extra.items()), tuning.extra_vector_weight)

    def _taste_reasons(self, hits: Sequence[Hit], profile: SessionProfile | None) -> list[str | None]:
        """Per hit: "because you often play <artist>" or "close to what you usually like", or
        None."""
        taste = profile.taste if profile is not None else None
        if taste is None:
            return [None] * len(hits)
        min_count = self.tuning.frequent_artist_min
        reasons: list[str | None] = []
        for hit in hits:
            artist = taste.frequent_artist(artists_of(hit), min_count)
            reasons.append(f"because you often play {artist}" if artist is not None else None)
        usual_text, usual_audio = taste.pull.get("text"), taste.pull.get("audio")
        # "is not None" one by one: "None in (arrays)" would compare arrays element-wise.
        if usual_text is None or usual_audio is None:
            return reasons
        known, texts, audios = _with_vectors(hits)
        if known:
            closeness = similarities(texts, audios, unit_vector(usual_text), usual_audio)
            for i, close in zip(known, closeness.tolist(), strict=True):
                if reasons[i] is None and close >= self.tuning.liked_reason_min_similarity:
                    reasons[i] = USUAL_TASTE_REASON
        return reasons

    def _session_reasons(self, hits: Sequence[Hit], targets: SessionTargets,
                         profile: SessionProfile) -> list[str]:
        """Each hit's reason: the session's like or complete it is closest to (recent, strong
        signals explain more than old, faint ones), else the long-term taste, else the mood
        (moving away from what was skipped, when something was)."""
        liked_by: list[Signal | None] = [None] * len(hits)
        known, texts, audios = _with_vectors(hits)
        positives = targets.positives
        if known and positives:
            # Every hit against every like (hits x signals, one column per like), then per hit
            # the like with the best scaled similarity above the floor; argmax keeps the
            # earlier like on a tie.
            scale = np.array([min(1.0, s.weight + 0.5) for s in positives], dtype=np.float32)
            scaled = scale * similarity_matrix(texts, audios, stack_rows([s.event.text for s in positives]),
                                               stack_rows([s.event.audio for s in positives]))
            best = np.argmax(scaled, axis=1)
            floor = self.tuning.liked_reason_min_similarity
            for i, n, score in zip(known, best.tolist(), scaled[np.arange(len(known)), best].tolist(),
                                   strict=True):
                liked_by[i] = positives[n] if score > floor else None
        # The session's own feedback explains first; the long-term taste only what it leaves.
        unexplained = [i for i, signal in enumerate(liked_by) if signal is None]
        taste_of = dict(zip(unexplained, self._taste_reasons([hits[i] for i in unexplained], profile),
                            strict=True))
        reasons = []
        for i, (hit, signal) in enumerate(zip(hits, liked_by, strict=True)):
            taste_reason = taste_of.get(i)
            if signal is not None:
                verb = "liked" if signal.event.action == "like" else "played through"
                reasons.append(f"because you {verb} {quote_title(signal.event.title)}")
            elif taste_reason is not None:
                reasons.append(taste_reason)
            elif targets.negatives:
                strongest = min(targets.negatives, key=lambda s: s.weight)
                what = "disliked" if strongest.event.action == "dislike" else "skipped"
                reasons.append(f"{mood_reason(hit.payload, profile.mood)}; moving away from what you {what}")
            else:
                reasons.append(mood_reason(hit.payload, profile.mood))
        return reasons

"""A listening session's profile: what the listener did, turned into query targets.

The live session (realtime/) and offline evaluation both drive ranking through this one
class, so what is measured offline is what runs.

How events move the query (Rocchio-style arithmetic on the mood query, no model call):
- every event has a signed weight: like +1, complete +0.6, play 0, skip -0.5, dislike -1;
  a track's strongest signal counts (a like after a play is a like, not both); an unlike
  is a verdict of weight 0: it cancels an earlier like of the track;
- weights decay with recency: ``0.5 ** (age / half_life_tracks)``, age counted in tracks
  (a track sends two or three events: play, then complete/skip, maybe like; counting events
  made a liked track fade faster than a skipped one), so the last several tracks steer and an
  early skip fades without vanishing;
- text target = normalise(mood_text + saturation(pos) * weighted mean of liked vectors
  - gamma * saturation(neg) * weighted mean of disliked vectors);
- audio target (a point, Euclidean space) moves ``pull`` of the way toward the liked centroid
  and a bounded step directly away from the disliked centroid.
Every observed track (played, completed, liked, skipped, disliked) is excluded from what
comes next, so a skipped track never comes back within the session.

A returning listener's long-term taste (recsys.taste) joins the arithmetic as one more
positive (its pull centroids) and one more negative (its push centroids), each weighing
``taste_weight`` times the taste's strength: at most half a fresh like by default, so it
colours the first queue and then yields to the session's own feedback. Named vectors beyond
text and audio (``extra``, e.g. "collab" when the index has it) are averaged the same way and
returned as targets: the collab target joins the index query itself (recsys.engine) and
re-ranks the pool.

Collab vectors of two models live in two unrelated spaces, so the collab target is built
from ONE model only: the model of the newest event that carries a collab vector (the taste's
collab centroid counts only when it came from that same model). ``SessionTargets
.collab_version`` names it, and the index drops the collab side if it meanwhile holds another.

Given that model's ``FoldIn`` (recsys.collab.foldin; the engine hands over the installed
model's), the collab target is not an average but the listener's vector as ALS would solve
it: ONE least-squares solve over the session's tracks (each at its strongest outcome's
training evidence, times its recency decay) together with the taste's per-track evidence
(``Taste.collab_rows``) where the taste is of the same model. Skips and dislikes weigh in
the solve as ALS weighs them (confidence without a target). Without a fold-in (no model
installed, or another model) the averaged target above is used.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recsys.actions import ACTIONS
from recsys.collab.foldin import FoldIn, evidence_of, matrix_value
from recsys.features import AUDIO_DIM
from recsys.index.base import BlendWeights, TrackFilter, Vectors
from recsys.moods import MoodQuery
from recsys.taste import Taste
from recsys.tuning import DEFAULT_TUNING, Tuning

ACTION_SET: frozenset[str] = frozenset(ACTIONS)

ACTION_WEIGHTS: dict[str, float] = {
    "like": 1.0, "unlike": 0.0, "complete": 0.6, "play": 0.0, "skip": -0.5, "dislike": -1.0,
}
# Which signal about a track wins: an explicit verdict over a listening outcome over a start.
_PRIORITY: dict[str, int] = {"like": 2, "unlike": 2, "dislike": 2, "complete": 1, "skip": 1, "play": 0}



@dataclass(slots=True)
class SessionEvent:
    track_id: int
    action: str
    seq: int
    text: np.ndarray
    audio: np.ndarray
    title: str | None
    artists: frozenset[str]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # other named vectors ("collab")
    collab_version: str | None = None  # the model of extra["collab"] (payload collab_version)


@dataclass(slots=True)
class Signal:
    """One track's current pull (weight > 0) or push (weight < 0) on the queue."""

    event: SessionEvent
    weight: float


@dataclass(slots=True)
class SessionTargets:
    text: np.ndarray | None
    audio: np.ndarray
    weights: BlendWeights
    positives: list[Signal]
    negatives: list[Signal]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # targets of other named vectors
    collab_version: str | None = None  # the model extra["collab"] was built from


def _saturation(total_weight: float) -> float:
    """0 with no evidence, towards 1 with plenty: one like gives 0.63, three 0.95."""
    return 1.0 - float(np.exp(-total_weight))


def _vectors(event: SessionEvent, collab_version: str | None) -> dict[str, np.ndarray]:
    """An event's named vectors; its collab vector only if it is of ``collab_version``."""
    found = {"text": event.text, "audio": event.audio, **event.extra}
    if "collab" in found and event.collab_version != collab_version:
        del found["collab"]
    return found


def _side(
    signals: list[Signal], taste_weight: float, taste: dict[str, np.ndarray], collab_version: str | None
) -> tuple[dict[str, np.ndarray], float]:
    """Weighted means per named vector of one side's signals, the taste's centroids counting
    as one more signal of ``taste_weight``; and the side's total weight. Collab vectors of
    another model than ``collab_version`` are left out (the caller drops the taste's)."""
    items: list[tuple[float, dict[str, np.ndarray]]] = [
        (abs(s.weight), _vectors(s.event, collab_version)) for s in signals
    ]
    if taste_weight > 0 and taste:
        items.append((taste_weight, taste))
    # Per named vector, one weighted sum over the signals that carry it (a vector-matrix
    # product, not a NumPy call per signal: a returning listener's session has dozens).
    by_name: dict[str, tuple[list[float], list[np.ndarray]]] = {}
    for weight, vectors in items:
        for name, vector in vectors.items():
            weights, stacked = by_name.setdefault(name, ([], []))
            weights.append(weight)
            stacked.append(np.asarray(vector, dtype=np.float32))
    means = {}
    for name, (weights, stacked) in by_name.items():
        w = np.asarray(weights, dtype=np.float32)
        means[name] = (w @ np.stack(stacked)) / max(float(w.sum()), 1e-12)
    total = sum(weight for weight, _ in items)
    return means, total


@dataclass
class SessionProfile:
    """Mood, filters and the recent history of one listening session (in memory)."""

    mood: MoodQuery | None = None
    flt: TrackFilter = field(default_factory=TrackFilter)
    tuning: Tuning = DEFAULT_TUNING  # the numbers (recsys/tuning.py)
    events: deque[SessionEvent] = field(default_factory=deque)
    played: set[int] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)
    disliked: set[int] = field(default_factory=set)
    liked: set[int] = field(default_factory=set)
    history: deque[int] = field(default_factory=lambda: deque(maxlen=8))  # distinct tracks, newest last
    taste: Taste | None = None  # the listener's long-term taste (None: a new listener)
    fold_in: FoldIn | None = None  # the installed collab model's (None: average the vectors)
    _artists: dict[int, frozenset[str]] = field(default_factory=dict)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.events = deque(self.events, maxlen=self.tuning.max_events)

    def observe(
        self,
        track_id: int,
        action: str,
        vectors: tuple[np.ndarray, np.ndarray] | Vectors | None,
        payload: Mapping[str, Any] | None = None,
        extra: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Record one event. Without vectors (unknown track) it still excludes the track.
        ``extra``: the track's other named vectors ("collab"), where the index has them."""
        if action not in ACTION_SET:
            raise ValueError(f"unknown action {action!r}")
        self._seq += 1
        self.played.add(track_id)
        if action == "skip":
            self.skipped.add(track_id)
        elif action == "dislike":
            self.disliked.add(track_id)
            self.liked.discard(track_id)
        elif action == "like":
            self.liked.add(track_id)
            self.disliked.discard(track_id)
        elif action == "unlike":
            self.liked.discard(track_id)
        artists = frozenset((payload or {}).get("artist") or ())
        self._artists[track_id] = artists
        if not self.history or self.history[-1] != track_id:
            if track_id in self.history:
                self.history.remove(track_id)
            self.history.append(track_id)
        if vectors is None:
            return
        title = (payload or {}).get("title")
        version = (payload or {}).get("collab_version")
        self.events.append(
            SessionEvent(
                track_id=track_id,
                action=action,
                seq=self._seq,
                text=np.asarray(vectors[0], dtype=np.float32),
                audio=np.asarray(vectors[1], dtype=np.float32),
                title=str(title) if title else None,
                artists=artists,
                extra={k: np.asarray(v, dtype=np.float32) for k, v in (extra or {}).items()},
                collab_version=str(version) if version else None,
            )
        )

    def excluded_ids(self) -> set[int]:
        """Tracks that must not be queued again in this session."""
        return self.played | self.skipped | self.disliked

    def recent_artists(self, count: int) -> list[frozenset[str]]:
        """Artists of the last ``count`` distinct tracks, oldest first (for artist spacing)."""
        recent = list(self.history)[-count:] if count > 0 else []
        return [self._artists.get(t, frozenset()) for t in recent]

    def disliked_artists(self) -> set[str]:
        names: set[str] = set()
        for track_id in self.disliked:
            names |= self._artists.get(track_id, frozenset())
        return names

    def signals(self) -> list[Signal]:
        """The current signed, decayed weight of each track still in the event window."""
        best: dict[int, SessionEvent] = {}
        latest: dict[int, int] = {}
        for event in self.events:  # oldest first, so a later event of equal priority wins
            latest[event.track_id] = event.seq
            current = best.get(event.track_id)
            if current is None or _PRIORITY[event.action] >= _PRIORITY[current.action]:
                best[event.track_id] = event
        # Age in tracks: 0 for the track heard last, 1 for the one before, ...
        newest_first = sorted(latest, key=latest.__getitem__, reverse=True)
        age = {track_id: rank for rank, track_id in enumerate(newest_first)}
        signals = []
        for track_id, event in best.items():
            base = ACTION_WEIGHTS[event.action]
            if base == 0.0:
                continue
            signals.append(Signal(event, base * 0.5 ** (age[track_id] / self.tuning.half_life_tracks)))
        return signals

    def collab_version(self) -> str | None:
        """The model the collab target is built from: that of the newest event with a collab
        vector, else the taste's."""
        for event in reversed(self.events):
            if "collab" in event.extra and event.collab_version is not None:
                return event.collab_version
        taste = self.taste
        return taste.collab_version if taste is not None and "collab" in taste.pull else None

    def _taste_vectors(self, side: dict[str, np.ndarray], version: str | None) -> dict[str, np.ndarray]:
        """The taste's centroids of one side, its collab one only if of ``version``."""
        taste = self.taste
        if taste is None or "collab" not in side or taste.collab_version == version:
            return side
        return {name: v for name, v in side.items() if name != "collab"}

    def _can_fold_in(self, version: str | None) -> bool:
        """Whether the collab target is solved by fold-in: the model's fold-in is here, and a
        taste of that model carries its per-track evidence (a taste combined elsewhere from
        centroids only, e.g. a group's, keeps the averaged target)."""
        fold, taste = self.fold_in, self.taste
        if fold is None or version is None or fold.version != version:
            return False
        return taste is None or taste.collab_version != version or bool(taste.collab_rows)

    def _folded_collab(self, signals: list[Signal], version: str) -> np.ndarray | None:
        """The collab target by fold-in (see the module docstring); None without a positive."""
        assert self.fold_in is not None
        items: list[np.ndarray] = []
        values: list[float] = []
        for signal in signals:
            event = signal.event
            vector = event.extra.get("collab")
            base = ACTION_WEIGHTS[event.action]
            if vector is None or event.collab_version != version or base == 0.0:
                continue
            decay = signal.weight / base
            items.append(vector)
            values.append(matrix_value(evidence_of(event.action) * decay))
        taste = self.taste
        if taste is not None and taste.collab_version == version:
            for vector, value in taste.collab_rows:
                items.append(vector)
                values.append(value)
        if not items:
            return None
        return self.fold_in.user_vector(np.stack(items), values)

    def targets(self) -> SessionTargets:
        """The query the next queue is drawn from: the mood, moved by the session's events."""
        signals = self.signals()
        version = self.collab_version()
        positives = [s for s in signals if s.weight > 0]
        negatives = [s for s in signals if s.weight < 0]
        mood = self.mood
        base_text = mood.text_vector if mood is not None else None
        base_audio = mood.audio_vector if mood is not None else np.zeros(AUDIO_DIM, dtype=np.float32)
        text_weight = mood.weights.text if (mood is not None and base_text is not None) else 0.0

        text: np.ndarray | None = (
            None if base_text is None else np.asarray(base_text, dtype=np.float32).copy()
        )
        audio = np.asarray(base_audio, dtype=np.float32).copy()
        taste = self.taste
        taste_pull = self.tuning.taste_weight * taste.pull_strength if taste is not None else 0.0
        taste_push = self.tuning.taste_weight * taste.push_strength if taste is not None else 0.0
        extra: dict[str, np.ndarray] = {}
        taste_pulls = self._taste_vectors(taste.pull, version) if taste is not None else {}
        pos, pos_total = _side(positives, taste_pull, taste_pulls, version)
        if pos_total > 0 and "audio" in pos:
            strength = _saturation(pos_total)
            if "text" in pos:
                text = strength * pos["text"] if text is None else text + strength * pos["text"]
            audio = audio + self.tuning.pull * strength * (pos["audio"] - audio)
            text_weight = max(text_weight, self.tuning.text_from_likes * strength)
            extra = {name: strength * v for name, v in pos.items() if name not in ("text", "audio")}
        taste_pushes = self._taste_vectors(taste.push, version) if taste is not None else {}
        neg, neg_total = _side(negatives, taste_push, taste_pushes, version)
        if neg_total > 0 and "audio" in neg:
            strength = _saturation(neg_total)
            if text is not None and "text" in neg:
                text = text - self.tuning.gamma * strength * neg["text"]
            away = audio - neg["audio"]
            norm = float(np.linalg.norm(away))
            if norm > 1e-6:
                audio = audio + self.tuning.push * strength * away / norm
            for name, v in neg.items():
                if name in extra:
                    extra[name] = extra[name] - self.tuning.gamma * strength * v
        if version is not None and self._can_fold_in(version):
            extra.pop("collab", None)
            folded = self._folded_collab(signals, version)
            if folded is not None:
                extra["collab"] = folded
        if text is not None:
            norm = float(np.linalg.norm(text))
            text = (text / norm).astype(np.float32) if norm > 1e-6 else None
        if text is None:
            text_weight = 0.0
        weights = BlendWeights(text=text_weight, audio=1.0 - text_weight)
        extra = {name: v / n for name, v in extra.items() if (n := float(np.linalg.norm(v))) > 1e-6}
        return SessionTargets(
            text, audio.astype(np.float32), weights, positives, negatives, extra,
            version if "collab" in extra else None,
        )

"""The audio feature space: a small fixed vector per track, and the mood words it implies.

The vector is standardised with FIXED constants (roughly the mean and spread of each feature
over a large public catalog of Spotify audio features), never with statistics of the
current catalog. That keeps the index rebuildable from PostgreSQL alone and makes a vector
mean the same thing in every install: 0 is "a typical track" on every axis.

The space is searched with Euclidean distance (see ``recsys.index.base``): a mood target is
a point ("energy 0.1, acoustic"), and how far a track sits from it is what matters. Cosine
would rate a slightly calm track as close to a calm target as a very calm one, since both
point the same way from the average.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recsys.catalog import AUDIO_FEATURES


@dataclass(frozen=True, slots=True)
class _Axis:
    center: float  # the neutral value: a missing feature sits here (z = 0)
    scale: float  # one "typical spread"; z = (x - center) / scale
    weight: float  # how much this axis counts in distances (mood is mostly energy and valence)
    lo: float  # valid raw range, for clamping bad importer input
    hi: float


# Key is left out on purpose: it is circular (11 is next to 0) and says little about mood.
_AXES: dict[str, _Axis] = {
    "energy": _Axis(0.64, 0.25, 1.5, 0.0, 1.0),
    "valence": _Axis(0.47, 0.26, 1.5, 0.0, 1.0),
    "danceability": _Axis(0.57, 0.17, 1.0, 0.0, 1.0),
    "acousticness": _Axis(0.31, 0.33, 1.0, 0.0, 1.0),
    "instrumentalness": _Axis(0.16, 0.31, 0.8, 0.0, 1.0),
    "speechiness": _Axis(0.08, 0.10, 0.5, 0.0, 1.0),
    "liveness": _Axis(0.21, 0.19, 0.3, 0.0, 1.0),
    "tempo": _Axis(122.0, 30.0, 0.7, 0.0, 250.0),  # BPM
    "loudness": _Axis(-8.3, 5.0, 0.6, -60.0, 5.0),  # dB
    "mode": _Axis(0.5, 0.5, 0.3, 0.0, 1.0),  # 1 major, 0 minor
}

# The fixed, ordered axes of the audio vector. Changing this order or set changes AUDIO_DIM
# and means a full reindex.
AUDIO_VECTOR_FEATURES: tuple[str, ...] = tuple(_AXES)
AUDIO_DIM: int = len(AUDIO_VECTOR_FEATURES)

# |z| is clipped here so that one absurd value (tempo 0 from a broken analyser) cannot
# dominate a distance.
Z_CLIP = 3.0

assert set(AUDIO_VECTOR_FEATURES) <= set(AUDIO_FEATURES)

_CENTER = np.array([_AXES[f].center for f in AUDIO_VECTOR_FEATURES], dtype=np.float32)
_SCALE = np.array([_AXES[f].scale for f in AUDIO_VECTOR_FEATURES], dtype=np.float32)
_WEIGHT = np.array([_AXES[f].weight for f in AUDIO_VECTOR_FEATURES], dtype=np.float32)


def neutral_value(feature: str) -> float:
    """The value a missing feature is assumed to have."""
    return _AXES[feature].center


def _value(audio: Mapping[str, float], feature: str) -> float:
    axis = _AXES[feature]
    raw = audio.get(feature)
    if raw is None:
        return axis.center
    value = float(raw)
    if not np.isfinite(value):
        return axis.center
    return min(max(value, axis.lo), axis.hi)


def audio_vector(audio: Mapping[str, float]) -> np.ndarray:
    """The standardised, weighted audio vector (float32, AUDIO_DIM); missing features are neutral."""
    raw = np.array([_value(audio, f) for f in AUDIO_VECTOR_FEATURES], dtype=np.float32)
    z = np.clip((raw - _CENTER) / _SCALE, -Z_CLIP, Z_CLIP)
    return (z * _WEIGHT).astype(np.float32)


def audio_matrix(audios: Sequence[Mapping[str, float]]) -> np.ndarray:
    """audio_vector for many tracks at once, shape (n, AUDIO_DIM)."""
    if not audios:
        return np.zeros((0, AUDIO_DIM), dtype=np.float32)
    return np.stack([audio_vector(a) for a in audios])


def audio_features(vector: np.ndarray) -> dict[str, float]:
    """The raw feature values a vector stands for (inverse of audio_vector, up to clipping)."""
    raw = np.asarray(vector, dtype=np.float32) / _WEIGHT * _SCALE + _CENTER
    return {f: float(v) for f, v in zip(AUDIO_VECTOR_FEATURES, raw, strict=True)}


def audio_similarity(distance: float | np.ndarray) -> float | np.ndarray:
    """Map a Euclidean distance in this space onto (0, 1], 1 = the same point.

    1 / (1 + d) keeps the order, needs no tuning constant, and lands in the same range as a
    text cosine, so the two can be blended with plain weights.
    """
    return 1.0 / (1.0 + distance)


def mood_words(audio: Mapping[str, float]) -> list[str]:
    """Plain words for what the features say, used in descriptions and reasons.

    Only features that are present speak; thresholds sit about one spread from the centre
    so that a word means something. The order is fixed, so the output is deterministic.
    """
    words: list[str] = []

    def has(feature: str) -> bool:
        value = audio.get(feature)
        return value is not None and np.isfinite(float(value))

    energy = float(audio["energy"]) if has("energy") else None
    valence = float(audio["valence"]) if has("valence") else None
    if energy is not None:
        if energy >= 0.75:
            words.append("energetic")
        elif energy <= 0.35:
            words.append("calm")
    if valence is not None:
        if valence >= 0.65:
            words.append("happy")
        elif valence <= 0.3:
            words.append("melancholic")
    if has("acousticness") and float(audio["acousticness"]) >= 0.6:
        words.append("acoustic")
    if has("danceability") and float(audio["danceability"]) >= 0.7:
        words.append("danceable")
    if has("instrumentalness") and float(audio["instrumentalness"]) >= 0.6:
        words.append("instrumental")
    if has("speechiness") and float(audio["speechiness"]) >= 0.45:
        words.append("spoken")
    if has("liveness") and float(audio["liveness"]) >= 0.8:
        words.append("live")
    if has("tempo"):
        tempo = float(audio["tempo"])
        if tempo >= 145:
            words.append("fast")
        elif 0 < tempo <= 80:
            words.append("slow")
    if energy is not None and energy <= 0.2 and (valence is None or valence < 0.65):
        words.append("peaceful")
    return words

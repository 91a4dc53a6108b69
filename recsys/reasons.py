"""Human-readable reasons: why a track was picked, and what a list as a whole is.

Built only from payload fields and the resolved query, so it costs no index or model call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recsys.features import mood_words, neutral_value
from recsys.index.base import TrackFilter
from recsys.moods import MoodQuery

# Features the payload carries, so a reason can quote the track's own value.
_QUOTABLE = ("energy", "valence", "danceability", "acousticness", "tempo")
_MOOD_WORD_PRIORITY = (
    "calm",
    "energetic",
    "happy",
    "melancholic",
    "acoustic",
    "danceable",
    "instrumental",
    "peaceful",
    "fast",
    "slow",
)


def track_features(payload: Mapping[str, Any]) -> dict[str, float]:
    return {f: float(payload[f]) for f in _QUOTABLE if payload.get(f) is not None}


def describe_words(payload: Mapping[str, Any], limit: int = 2) -> str:
    """Up to ``limit`` mood words for the track ("calm acoustic"), or ''."""
    words = mood_words(track_features(payload))
    ranked = [w for w in _MOOD_WORD_PRIORITY if w in words]
    return " ".join(ranked[:limit])


def _defining_feature(target: Mapping[str, float]) -> str | None:
    """The quotable target feature that is furthest from neutral: what the mood is about."""
    best, distance = None, 0.0
    for feature in _QUOTABLE:
        if feature in target:
            gap = abs(target[feature] - neutral_value(feature)) / (200.0 if feature == "tempo" else 1.0)
            if gap > distance:
                best, distance = feature, gap
    return best


def _quote(feature: str, value: float) -> str:
    return f"{value:.0f} BPM" if feature == "tempo" else f"{feature} {value:.2f}"


def mood_reason(payload: Mapping[str, Any], mood: MoodQuery | None) -> str:
    """Why a track fits the mood: "calm acoustic, matches 'rainy sunday morning'" or
    "energy 0.82 fits Workout"."""
    words = describe_words(payload)
    if mood is None or (not mood.target and mood.text is None):
        return f"{words} pick" if words else "a well-rounded pick"
    if mood.text is not None:
        match = f"matches '{mood.text}'"
        return f"{words}, {match}" if words else match
    feature = _defining_feature(mood.target)
    features = track_features(payload)
    if feature is not None and feature in features:
        fits = f"{_quote(feature, features[feature])} fits {mood.label}"
        return f"{words}, {fits}" if words else fits
    return f"{words}, fits {mood.label}" if words else f"fits {mood.label}"


def filter_summary(flt: TrackFilter | None) -> str:
    """The filters in words ("jazz, 1990-2005, no explicit"), or ''."""
    if flt is None:
        return ""
    parts = []
    if flt.genres:
        parts.append(" or ".join(flt.genres))
    if flt.year_min is not None and flt.year_max is not None:
        parts.append(f"{flt.year_min}-{flt.year_max}")
    elif flt.year_min is not None:
        parts.append(f"from {flt.year_min}")
    elif flt.year_max is not None:
        parts.append(f"up to {flt.year_max}")
    if flt.explicit is False:
        parts.append("no explicit lyrics")
    if flt.artists_not:
        parts.append("without " + ", ".join(flt.artists_not))
    return ", ".join(parts)


def list_explanation(mood: MoodQuery | None, flt: TrackFilter | None, count: int) -> str:
    """One sentence about a whole list of recommendations."""
    if count == 0:
        base = "No tracks match"
        if mood is not None and mood.label != "Anything":
            base += f" {mood.label}"
        summary = filter_summary(flt)
        return base + (f" with these filters ({summary})." if summary else ".")
    head = (mood.description if mood is not None else "A balanced selection").rstrip(" .")
    summary = filter_summary(flt)
    text = f"{head}: {count} tracks"
    if summary:
        text += f", filtered to {summary}"
    return text + ", ranked by how closely their sound and description fit, with artists kept varied."


def quote_title(title: str | None) -> str:
    return f"'{title}'" if title else "a track"

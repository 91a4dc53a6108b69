"""Mood input from HTTP and WebSocket bodies, checked against the presets."""

from __future__ import annotations

from app.errors import ApiError
from app.store.moods import StoredMood
from recsys.moods import PRESETS, MoodSpec

_PRESET_IDS = frozenset(p.id for p in PRESETS)


def is_preset(preset: str) -> bool:
    return preset in _PRESET_IDS


def mood_spec(
    preset: str | None, text: str | None, energy: float | None, valence: float | None
) -> MoodSpec:
    if preset is not None and not is_preset(preset):
        raise ApiError(422, "unknown_mood", f"no mood preset '{preset}'; see GET /api/moods")
    return MoodSpec(preset=preset, text=text.strip() if text else None, energy=energy, valence=valence)


def stored_spec(mood: StoredMood | None) -> MoodSpec | None:
    if mood is None:
        return None
    return MoodSpec(preset=mood.preset, text=mood.text, energy=mood.energy, valence=mood.valence)

"""Mood input from HTTP and WebSocket bodies, checked against the presets, and free words
checked for meaning (recsys.vocabulary, then the catalog's own names and tags)."""

from __future__ import annotations

import asyncio

from app.errors import ApiError
from app.store import tracks
from app.store.db import Database
from app.store.moods import StoredMood
from recsys.moods import MoodSpec, is_preset
from recsys.vocabulary import unknown_words


def mood_spec(
    preset: str | None, text: str | None, energy: float | None, valence: float | None
) -> MoodSpec:
    if preset is not None and not is_preset(preset):
        raise ApiError(422, "unknown_mood", f"no mood preset '{preset}'; see GET /api/moods")
    return MoodSpec(preset=preset, text=text.strip() if text else None, energy=energy, valence=valence)


def stored_spec(mood: StoredMood | None) -> MoodSpec | None:
    return mood.spec if mood is not None else None


async def words_mean_something(db: Database, text: str) -> bool:
    """Whether any word of ``text`` means something: to the text model, or as a name or tag
    in the catalog (a genre like "jig", an artist's name)."""
    known, unknown = await asyncio.to_thread(unknown_words, text)
    if known:
        return True
    return bool(unknown) and await tracks.any_mentions(db, unknown)


async def checked_mood_spec(
    db: Database, preset: str | None, text: str | None, energy: float | None, valence: float | None
) -> MoodSpec:
    """mood_spec, and free words that mean nothing are refused (422 unknown_mood_words) rather
    than turned into an arbitrary queue."""
    spec = mood_spec(preset, text, energy, valence)
    if spec.text and not await words_mean_something(db, spec.text):
        raise ApiError(
            422, "unknown_mood_words",
            f"none of the words in '{spec.text[:60]}' mean anything to the engine: try words for "
            "a feeling, a moment or a style (\"rainy sunday morning\", \"upbeat\"), or pick a preset",
        )
    return spec

"""Which Last.fm tags stand for each evaluated mood, and stripping them from catalog text.

Ground truth for a mood is "a track by an artist that listeners tagged with one of the
mood's tags". The tag lists are the spellings that actually occur in HetRec (checked
against tags.dat: there is no "workout" or "focus" tag, so those presets borrow the nearest
ones). Presets map onto several tags, free-text moods onto the word and its inflections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from recsys.catalog import CatalogTrack
from recsys.moods import PRESETS


@dataclass(frozen=True, slots=True)
class MoodTags:
    """One evaluated mood: how it is asked for (a preset id or free text) and its tags."""

    name: str  # "preset:sad" or "text:sad"
    preset: str | None
    text: str | None
    tags: tuple[str, ...]


PRESET_TAGS: dict[str, tuple[str, ...]] = {
    "focus": ("instrumental", "ambient", "study tunes", "studying"),
    "chill": ("chill", "chillout", "chill out", "mellow", "downtempo", "lounge", "relaxing", "relax"),
    "happy": ("happy", "feel good", "fun", "upbeat", "makes me happy"),
    "sad": ("sad", "sadness", "depressing", "heartbroke", "melancholy"),
    "energetic": ("energetic", "energy", "high energy", "powerful", "heavy"),
    "workout": ("energetic", "energy", "high energy", "party", "club"),
    "party": ("party", "dance party", "party time", "dance", "club"),
    "romantic": ("romantic", "love songs", "love", "sexy"),
    "sleep": ("sleep", "sleep music", "sleepy time", "relaxing", "calming", "calm", "peaceful", "ambient"),
    "melancholy": ("melancholic", "melancholy", "sad"),
    "road_trip": ("road trip", "driving", "driving music", "driving songs", "drive"),
    "rainy_day": ("rain", "rainy day"),
    "intense": ("intense", "aggressive", "heavy", "angry", "dark"),
    "acoustic": ("acoustic", "acoustic rock", "acoustic guitar", "singer-songwriter"),
    "morning": ("morning", "good morning", "sunday morning"),
}

TEXT_TAGS: dict[str, tuple[str, ...]] = {
    "sad": ("sad", "sadness", "sad and slow"),
    "chill": ("chill", "chillout", "chill out", "chill zone", "just chillin"),
    "party": ("party", "dance party", "party time"),
    "relaxing": ("relaxing", "relax", "relaxing music", "relaxed"),
    "melancholic": ("melancholic", "melancholy"),
    "energetic": ("energetic", "energy", "high energy"),
    "happy": ("happy", "makes me happy", "feel good"),
    "romantic": ("romantic", "love songs"),
    "mellow": ("mellow",),
    "dark": ("dark",),
    "dreamy": ("dreamy", "dream"),
    "summer": ("summer", "summer song", "summer time"),
    "sexy": ("sexy", "sexy songs"),
    "atmospheric": ("atmospheric",),
}

assert set(PRESET_TAGS) == {p.id for p in PRESETS}, "every preset needs its tags"


def evaluated_moods() -> list[MoodTags]:
    """Every preset, then every free-text mood, in a fixed order."""
    moods = [MoodTags(f"preset:{p.id}", p.id, None, PRESET_TAGS[p.id]) for p in PRESETS]
    moods += [MoodTags(f"text:{word}", None, word, tags) for word, tags in TEXT_TAGS.items()]
    return moods


def all_tags(moods: Iterable[MoodTags]) -> set[str]:
    return {tag for mood in moods for tag in mood.tags}


def leak_pattern(tags: Iterable[str]) -> re.Pattern[str]:
    """Matches a catalog label that contains any of ``tags`` as whole words.

    Whole words, not exact labels: "dark ambient" says "dark" and "heavy metal" says
    "heavy" to the text model as plainly as the bare tag does; but "funk" does not say "fun".
    """
    words = sorted({re.escape(t) for t in tags}, key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(words) + r")(?![a-z0-9])")


def without_tags(tracks: Iterable[CatalogTrack], tags: Iterable[str]) -> list[CatalogTrack]:
    """Copies of ``tracks`` whose genres and descriptors no longer mention any of ``tags``.

    Used for the mood-quality index, so the engine cannot find "sad" tracks by reading the
    word "sad" that the Last.fm enrichment put into their text: it has to get there from
    the sound and the remaining words. (Mood words the engine derives from the audio
    features itself stay: they are its own reading of the track, not the answer.)
    """
    pattern = leak_pattern(tags)

    def keep(labels: list[str]) -> list[str]:
        return [label for label in labels if not pattern.search(label.lower())]

    stripped = []
    for t in tracks:
        stripped.append(
            CatalogTrack(
                source=t.source,
                external_id=t.external_id,
                title=t.title,
                artists=list(t.artists),
                album=t.album,
                genres=keep(t.genres),
                year=t.year,
                duration_ms=t.duration_ms,
                explicit=t.explicit,
                popularity=t.popularity,
                audio=dict(t.audio),
                descriptors=keep(t.descriptors),
                media_kind=t.media_kind,
                media_ref=t.media_ref,
                id=t.id,
            )
        )
    return stripped

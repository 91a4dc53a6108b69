"""The descriptive line a track's text vector is computed from.

One short, deterministic sentence: the same track always gives the same line (so vectors are
reproducible and identical lines are encoded once), and it stays far below MiniLM's 256
word-piece limit, since truncation would silently drop the mood words at the end.
"""

from __future__ import annotations

from collections.abc import Iterable

from recsys.catalog import TrackRecord
from recsys.features import mood_words

# Caps keep the line short whatever an importer hands over (some tag lists run to hundreds).
MAX_ARTISTS = 4
MAX_GENRES = 6
MAX_DESCRIPTORS = 10
MAX_FIELD_CHARS = 120
MAX_LINE_CHARS = 600  # ~150 word pieces at worst


def _clean(text: str) -> str:
    return " ".join(text.split())[:MAX_FIELD_CHARS]


def _unique(items: Iterable[str], limit: int) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        # Lowercase: MiniLM's tokenizer is uncased anyway, and it makes "Rock"/"rock" one tag.
        key = _clean(item).lower()
        if key and key not in seen:
            seen[key] = None
        if len(seen) >= limit:
            break
    return list(seen)


def describe(track: TrackRecord) -> str:
    """Title, artists, album, genres, descriptors and derived mood words, in one line."""
    parts: list[str] = []
    head = _clean(track.title) or "Untitled"
    artists = [_clean(a) for a in track.artists[:MAX_ARTISTS] if _clean(a)]
    if artists:
        head += " by " + ", ".join(artists)
    if track.album and _clean(track.album):
        head += " from " + _clean(track.album)
    parts.append(head)
    genres = _unique(track.genres, MAX_GENRES)
    if genres:
        parts.append("genre: " + ", ".join(genres))
    if track.year:
        # The decade helps queries like "80s synth pop" without making every year a token.
        parts.append(f"{track.year // 10 * 10}s")
    descriptors = _unique(track.descriptors, MAX_DESCRIPTORS)
    moods = [w for w in mood_words(track.audio) if w not in descriptors]
    tags = descriptors + moods
    if tags:
        parts.append("mood: " + ", ".join(tags))
    line = ". ".join(parts)
    return line[:MAX_LINE_CHARS]


# The text vector is a weighted sum of facet vectors rather than one vector of the whole line.
# MiniLM's cost grows with line length, and a full line averages ~90 word pieces on the Hit
# Predictor catalog; split into facets, the long part (the artist's genres and tags) is shared by
# all of that artist's tracks and the mood words by thousands, so an import encodes each once.
# Measured on 41k tracks: ~4x fewer word pieces to encode.
FACET_WEIGHTS = {"identity": 0.45, "style": 0.35, "feel": 0.20}


def describe_facets(track: TrackRecord) -> dict[str, str]:
    """The facets of a track's text: who and what it is, its style, and how it feels."""
    identity = _clean(track.title) or "Untitled"
    artists = [_clean(a) for a in track.artists[:MAX_ARTISTS] if _clean(a)]
    if artists:
        identity += " by " + ", ".join(artists)
    if track.album and _clean(track.album):
        identity += " from " + _clean(track.album)
    facets = {"identity": identity}
    genres = _unique(track.genres, MAX_GENRES)
    descriptors = _unique(track.descriptors, MAX_DESCRIPTORS)
    style = []
    if genres:
        style.append("genre: " + ", ".join(genres))
    if descriptors:
        style.append("tags: " + ", ".join(descriptors))
    if style:
        facets["style"] = ". ".join(style)[:MAX_LINE_CHARS]
    feel = [w for w in mood_words(track.audio) if w not in descriptors]
    if track.year:
        feel.insert(0, f"{track.year // 10 * 10}s")
    if feel:
        facets["feel"] = "mood: " + ", ".join(feel)
    return facets

"""The descriptive line of a track, and the facets its text vector is computed from.

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
    """Title, artists, album, genres, descriptors and derived mood words, in one line: how a
    track reads to a person. The text *vector* is made from ``describe_facets``, without names."""
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
#
# The vector describes only a track's style and feel, never its title, artist or album: moods
# are matched against it, and a name is not a mood ("rainy sunday morning" used to bring Taking
# Back Sunday and every title with "Sunday" in it). Names are found by the lexical half of
# search (app.store.tracks.search_title_artist). Style and feel keep their old proportion.
FACET_WEIGHTS = {"style": 0.64, "feel": 0.36}
# Bump whenever the facets or their weights change: an index built with an older text is
# rebuilt (the evaluation's index cache keys on it; app.demo_loader compares a stored vector).
TEXT_VERSION = 2
# A track with neither tags nor audio still needs a (neutral) vector: Qdrant's cosine has no
# meaning for a zero vector.
NEUTRAL_FEEL = "mood: unknown"


def describe_facets(track: TrackRecord) -> dict[str, str]:
    """The facets of a track's text: its style (genres, tags) and how it feels (decade and the
    mood words read from its audio). No names: see FACET_WEIGHTS."""
    facets: dict[str, str] = {}
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
    if not facets:
        facets["feel"] = NEUTRAL_FEEL
    return facets

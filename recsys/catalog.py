"""The engine's view of a catalog track, shared by importers, the store and the index.

PostgreSQL holds these rows; the index holds vectors and a payload derived from them.
Nothing here knows about SQL or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MediaKind = Literal["midi", "audio", "none"]

# Canonical audio-feature names, Spotify's vocabulary. Every importer maps its source onto
# these (a missing feature is simply absent from the dict), so one feature space serves all.
AUDIO_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
)


@dataclass(slots=True)
class TrackRecord:
    """One track as an importer produces it, before it has a database id."""

    source: str  # "spotify", "audio", "demo", ...
    external_id: str  # unique within source (a Spotify id, a file path, a corpus path)
    title: str
    artists: list[str]
    album: str | None = None
    genres: list[str] = field(default_factory=list)
    year: int | None = None
    duration_ms: int | None = None
    explicit: bool = False
    popularity: float | None = None  # 0..100
    audio: dict[str, float] = field(default_factory=dict)  # keys from AUDIO_FEATURES
    descriptors: list[str] = field(default_factory=list)  # tags / mood words, for the text vector
    media_kind: MediaKind = "none"
    media_ref: str | None = None  # file path or corpus reference; never sent to clients


LIBRARY_MEDIA_PREFIX = "library:"


def library_media_ref(library_id: int, song_id: str) -> str:
    """media_ref of a track whose sound is a song on a library server (see app/library.py)."""
    return f"{LIBRARY_MEDIA_PREFIX}{library_id}:{song_id}"


def parse_library_ref(ref: str | None) -> tuple[int, str] | None:
    """(library id, song id) of a library media_ref; None for a file, a MIDI piece or nothing."""
    if not ref or not ref.startswith(LIBRARY_MEDIA_PREFIX):
        return None
    library, _, song = ref[len(LIBRARY_MEDIA_PREFIX):].partition(":")
    if not library.isdigit() or not song:
        return None
    return int(library), song


def is_playable(track: TrackRecord) -> bool:
    """Whether this server can play the track: it has media of its own (a demo piece's MIDI,
    an audio file). The one rule; the index payload, the Track JSON and the queue filter use it.
    A track known only from a features table (a Spotify CSV row) is not playable here."""
    return track.media_kind != "none" and bool(track.media_ref)


@dataclass(slots=True)
class CatalogTrack(TrackRecord):
    """A stored track: a TrackRecord with its database id."""

    id: int = 0

"""Reading title/artist/album/genre/year/duration from an audio file's tags (mutagen).

Tags are often missing or partial in personal collections, so every field has a fallback:
the file name ("Artist - Title.mp3", "01 Title.flac") and the usual Artist/Album/track folder
layout. Reading tags never raises: a file whose tags cannot be read is still analysed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsys.importers.artists import split_artists, unique_names
from recsys.importers.fields import parse_year
from recsys.importers.genres import clean_tag

UNKNOWN_ARTIST = "Unknown Artist"
_ID3_FRAMES = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "genre": "TCON",
    "date": "TDRC",
    "year": "TYER",
}
_TRACK_PREFIX = re.compile(r"^\s*(?:\d{1,3}[\s._-]+)(?=\S)")
_GENRE_SPLIT = re.compile(r"\s*[;/,|]\s*")


@dataclass(slots=True)
class FileTags:
    title: str
    artists: list[str]
    album: str | None = None
    genres: list[str] = field(default_factory=list)
    year: int | None = None
    duration_ms: int | None = None
    warning: str | None = None


def _values(tags: Any, key: str) -> list[str]:
    """A tag's values from Easy*/Vorbis/MP4-easy dicts or from raw ID3 (WAV, AIFF)."""
    from mutagen.id3 import ID3

    if tags is None:
        return []
    if isinstance(tags, ID3):
        frame = tags.get(_ID3_FRAMES[key])
        if frame is None:
            return []
        # TCON's .genres resolves ID3v1 numeric genres such as "(17)" to "Rock".
        values = frame.genres if key == "genre" else frame.text
        return [str(value).strip() for value in values if str(value).strip()]
    try:
        values = tags.get(key) or []
    except (KeyError, ValueError, TypeError):
        return []
    if isinstance(values, str):
        values = [values]
    return [str(value).strip() for value in values if str(value).strip()]


def _from_path(path: Path, root: Path) -> tuple[str, list[str], str | None]:
    """(title, artists, album) guessed from the file name and folders."""
    stem = _TRACK_PREFIX.sub("", path.stem).strip() or path.stem
    artists: list[str] = []
    if " - " in stem:
        artist, stem = (part.strip() for part in stem.split(" - ", 1))
        artists = split_artists(artist)
    parents = path.relative_to(root).parts[:-1]
    album = parents[-1] if parents else None
    if not artists and len(parents) >= 2:
        artists = [parents[-2]]
    return stem, artists, album


def read_tags(path: Path, root: Path) -> FileTags:
    import mutagen

    title, artists, album = _from_path(path, root)
    result = FileTags(title=title, artists=artists or [UNKNOWN_ARTIST], album=album)
    try:
        audio = mutagen.File(path, easy=True)
    except Exception as error:  # mutagen raises many types for damaged headers
        result.warning = f"tags unreadable ({type(error).__name__})"
        return result
    if audio is None:
        return result
    tags = audio.tags
    if titles := _values(tags, "title"):
        result.title = titles[0]
    tagged_artists = unique_names(
        [name for value in _values(tags, "artist") for name in split_artists(value)]
    )
    if tagged_artists:
        result.artists = tagged_artists
    if albums := _values(tags, "album"):
        result.album = albums[0]
    result.genres = unique_names(
        [clean_tag(part) for value in _values(tags, "genre") for part in _GENRE_SPLIT.split(value)]
    )
    for value in _values(tags, "date") + _values(tags, "year"):
        if (year := parse_year(value[:10])) is not None:
            result.year = year
            break
    length = getattr(getattr(audio, "info", None), "length", None)
    if length:
        result.duration_ms = round(float(length) * 1000)
    return result

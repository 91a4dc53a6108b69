"""A Subsonic song (a ``Child`` in the API docs) as a validated library song.

Invariants:
- A malformed entry raises ``RowError`` and costs that one song, never the page.
- Strings are bounded and stripped of NUL (PostgreSQL text cannot hold it).
- ``fingerprint`` changes exactly when a field we store changes, so a re-sync rewrites only
  the songs that changed on the server.
- ``media_ref`` of a library track is ``library:<library id>:<song id>``: the media route and
  the index payload (``library`` field) read the library back from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from recsys.catalog import TrackRecord, library_media_ref
from recsys.importers.report import RowError

SOURCE = "subsonic"
MAX_TEXT = 500
MAX_ID = 200
MAX_DURATION_S = 24 * 3600


@dataclass(slots=True)
class LibrarySong:
    """What a library server tells about one song."""

    song_id: str
    title: str
    artists: list[str]
    album: str | None = None
    album_id: str | None = None
    artist_id: str | None = None
    genres: list[str] = field(default_factory=list)
    year: int | None = None
    duration_ms: int | None = None
    track_number: int | None = None
    disc_number: int | None = None
    cover_art: str | None = None
    content_type: str | None = None
    suffix: str | None = None
    size: int | None = None
    isrc: list[str] = field(default_factory=list)
    mbid: str | None = None

    def fingerprint(self) -> str:
        data = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(data.encode("utf-8"), usedforsecurity=False).hexdigest()




def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise RowError(f"expected text, got {type(value).__name__}", "malformed field")
    text = str(value).replace("\x00", "").strip()
    return text[:limit] or None


def _int(value: Any, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def parse_song(raw: Any) -> LibrarySong:
    """One ``song`` entry of search3 / getAlbum, validated."""
    if not isinstance(raw, dict):
        raise RowError("a song entry is not an object", "malformed song")
    if raw.get("isDir") is True or raw.get("isVideo") is True:
        raise RowError("not a song (a folder or a video)", "not a song")
    song_id = _text(raw.get("id"), MAX_ID)
    if not song_id:
        raise RowError("a song without an id", "song without id")
    title = _text(raw.get("title"))
    if not title:
        raise RowError(f"song {song_id}: no title", "song without title")
    artists = _artists(raw)
    genres = _genres(raw)
    duration_s = _int(raw.get("duration"), 0, MAX_DURATION_S)
    isrc_raw = raw.get("isrc")
    isrc = [i for i in (_text(v, 20) for v in (isrc_raw if isinstance(isrc_raw, list) else [isrc_raw]))
            if i] if isrc_raw else []
    return LibrarySong(
        song_id=song_id,
        title=title,
        artists=artists or ["Unknown artist"],
        album=_text(raw.get("album")),
        album_id=_text(raw.get("albumId"), MAX_ID),
        artist_id=_text(raw.get("artistId"), MAX_ID),
        genres=genres,
        year=_int(raw.get("year"), 1000, 2100),
        duration_ms=duration_s * 1000 if duration_s else None,
        track_number=_int(raw.get("track"), 0, 10_000),
        disc_number=_int(raw.get("discNumber"), 0, 1000),
        cover_art=_text(raw.get("coverArt"), MAX_ID),
        content_type=_text(raw.get("contentType"), 100),
        suffix=_text(raw.get("suffix"), 20),
        size=_int(raw.get("size"), 0, 2**62),
        isrc=isrc,
        mbid=_text(raw.get("musicBrainzId"), 64),
    )


def _artists(raw: dict[str, Any]) -> list[str]:
    # OpenSubsonic lists every artist; classic servers give one display string.
    listed = raw.get("artists")
    names: list[str] = []
    if isinstance(listed, list):
        names = [n for n in (_text(a.get("name")) for a in listed if isinstance(a, dict)) if n]
    if not names:
        single = _text(raw.get("artist"))
        names = [single] if single else []
    return names[:20]


def _genres(raw: dict[str, Any]) -> list[str]:
    listed = raw.get("genres")
    names: list[str] = []
    if isinstance(listed, list):
        names = [n for n in (_text(g.get("name"), 100) for g in listed if isinstance(g, dict)) if n]
    if not names:
        single = _text(raw.get("genre"), 200)
        # Tags often hold "Rock; Pop" or "Rock/Pop" in one field.
        if single:
            names = [part.strip() for part in single.replace(";", "/").split("/") if part.strip()]
    return names[:20]


def song_record(library_id: int, song: LibrarySong) -> TrackRecord:
    """A track known only from this library: its metadata, and the library for its sound."""
    return TrackRecord(
        source=SOURCE,
        external_id=f"{library_id}:{song.song_id}",
        title=song.title,
        artists=list(song.artists),
        album=song.album,
        genres=list(song.genres),
        year=song.year,
        duration_ms=song.duration_ms,
        media_kind="audio",
        media_ref=library_media_ref(library_id, song.song_id),
    )

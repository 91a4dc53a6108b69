"""Spotify Extended Streaming History (``Streaming_History_Audio_*.json``, formerly
``endsong_*.json``): one JSON array of plays.

Fields used: ``ts`` (ISO 8601 UTC, when the play stopped), ``ms_played``,
``master_metadata_track_name``, ``master_metadata_album_artist_name``,
``master_metadata_album_album_name``, ``spotify_track_uri``, ``reason_end``, ``skipped``.
Podcast episodes and audiobooks (no track name, episode/audiobook fields) are skipped.

Outcome: a play under ``SKIP_THRESHOLD_MS`` is a skip, except a short track that played to
its end (``reason_end`` "trackdone" and not flagged skipped); a longer play is a complete
even when it was cut short.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from recsys.importers.fields import parse_spotify_id
from recsys.importers.listens.jsonstream import json_object, read_rows
from recsys.importers.listens.records import (
    SKIP_THRESHOLD_MS,
    Format,
    Listen,
    Outcome,
    checked_time,
    optional_ms,
    optional_text,
    text,
)
from recsys.importers.listens.sources import Source
from recsys.importers.report import ImportReport, RowError

SOURCE: Format = "spotify_extended"
# Keys only this export has: how detection tells it from the account-data history.
MARKERS = ("master_metadata_track_name", "spotify_track_uri", "reason_end")


def read(source: Source, report: ImportReport) -> Iterator[Listen]:
    return read_rows(source, report, parse)


def parse(raw: object) -> Listen:
    value = json_object(raw)
    if not value.get("master_metadata_track_name"):
        if value.get("episode_name") or value.get("spotify_episode_uri"):
            raise RowError("a podcast episode", "podcast episode")
        if value.get("audiobook_title") or value.get("audiobook_uri"):
            raise RowError("an audiobook", "audiobook")
        raise RowError("missing master_metadata_track_name", "missing track name")
    played = optional_ms(value.get("ms_played"), "ms_played")
    if played is None:
        raise RowError("missing ms_played", "missing ms_played")
    uri = value.get("spotify_track_uri")
    try:
        spotify_id = parse_spotify_id(uri) if isinstance(uri, str) and uri.strip() else None
    except RowError:
        spotify_id = None  # a local file or a malformed uri: matched by name instead
    return Listen(
        artist=text(value.get("master_metadata_album_artist_name"), "artist"),
        title=text(value.get("master_metadata_track_name"), "track name"),
        listened_at=parse_ts(value.get("ts")),
        outcome=outcome(played, value.get("reason_end"), value.get("skipped")),
        source=SOURCE,
        album=optional_text(value.get("master_metadata_album_album_name")),
        spotify_id=spotify_id,
        ms_played=played,
    )


def outcome(ms_played: int, reason_end: object, skipped: object) -> Outcome:
    if ms_played >= SKIP_THRESHOLD_MS:
        return "complete"
    if reason_end == "trackdone" and skipped is not True:
        return "complete"  # a short track (an interlude) heard to its end
    return "skip"


def parse_ts(value: object) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise RowError("missing ts", "missing ts")
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"bad ts {value!r}", "bad ts") from None
    return checked_time(at, value)

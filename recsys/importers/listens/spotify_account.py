"""Spotify account-data history (``StreamingHistory*.json``, ``StreamingHistory_music_*.json``):
one JSON array of ``{"endTime": "2023-01-31 14:05" (UTC, when the play stopped),
"artistName", "trackName", "msPlayed"}``.

No track ids, so matching is by name. Podcast files (``StreamingHistory_podcast_*``:
``podcastName``/``episodeName``) are skipped row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from recsys.importers.listens.jsonstream import json_object, read_rows
from recsys.importers.listens.records import Format, Listen, checked_time, optional_ms, outcome_for, text
from recsys.importers.listens.sources import Source
from recsys.importers.report import ImportReport, RowError

SOURCE: Format = "spotify_account"
MARKERS = ("endTime", "msPlayed")


def read(source: Source, report: ImportReport) -> Iterator[Listen]:
    return read_rows(source, report, parse)


def parse(raw: object) -> Listen:
    value = json_object(raw)
    if value.get("episodeName") or value.get("podcastName"):
        raise RowError("a podcast episode", "podcast episode")
    played = optional_ms(value.get("msPlayed"), "msPlayed")
    if played is None:
        raise RowError("missing msPlayed", "missing msPlayed")
    return Listen(
        artist=text(value.get("artistName"), "artistName"),
        title=text(value.get("trackName"), "trackName"),
        listened_at=parse_end_time(value.get("endTime")),
        outcome=outcome_for(played),
        source=SOURCE,
        ms_played=played,
    )


def parse_end_time(value: object) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise RowError("missing endTime", "missing endTime")
    try:
        at = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise RowError(f"bad endTime {value!r}", "bad endTime") from None
    return checked_time(at, value)

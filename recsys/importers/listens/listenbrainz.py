"""ListenBrainz exports: JSON lines (one listen a line, the current export's listens/*.jsonl)
or one JSON array (the older export).

A listen: ``{"listened_at": <unix s>, "track_metadata": {"artist_name", "track_name",
"release_name"?, "additional_info"?: {"duration_ms"?, "spotify_id"? (an open.spotify.com
track URL), "recording_msid"?, ...}}}``. ListenBrainz records no play length, so every listen
is a complete; ``duration_ms`` is the recording's length and only helps matching.
"""

from __future__ import annotations

from collections.abc import Iterator

from recsys.importers.fields import parse_spotify_id
from recsys.importers.listens.jsonstream import json_object, read_rows
from recsys.importers.listens.records import Format, Listen, from_unix, optional_ms, optional_text, text
from recsys.importers.listens.sources import Source
from recsys.importers.report import ImportReport, RowError

SOURCE: Format = "listenbrainz"


def read(source: Source, report: ImportReport) -> Iterator[Listen]:
    return read_rows(source, report, parse)


def parse(raw: object) -> Listen:
    value = json_object(raw)
    meta = value.get("track_metadata")
    if not isinstance(meta, dict):
        raise RowError("missing track_metadata", "missing track_metadata")
    if value.get("listened_at") is None:
        raise RowError("missing listened_at", "missing listened_at")
    info = meta.get("additional_info")
    info = info if isinstance(info, dict) else {}
    duration = info.get("duration_ms")
    if duration is None and isinstance(info.get("duration"), int | float):
        duration = info["duration"] * 1000  # some submitters send seconds
    try:
        track_duration = optional_ms(duration, "duration_ms")
    except RowError:
        track_duration = None  # only a matching hint: a bad one costs the hint, not the listen
    return Listen(
        artist=text(meta.get("artist_name"), "artist_name"),
        title=text(meta.get("track_name"), "track_name"),
        listened_at=from_unix(value["listened_at"]),
        outcome="complete",
        source=SOURCE,
        album=optional_text(meta.get("release_name")),
        spotify_id=_spotify_id(info.get("spotify_id")),
        track_duration_ms=track_duration or None,
    )


def _spotify_id(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_spotify_id(value)
    except RowError:
        return None

"""Turning one CSV row of each supported Spotify table into a TrackRecord.

A converter raises `RowError` for anything that makes the row unusable; values that are merely
unreadable but optional (a malformed release date) are dropped and noted in the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recsys.catalog import TrackRecord
from recsys.importers.artists import split_artists, split_list
from recsys.importers.fields import (
    is_blank,
    parse_bool,
    parse_duration_ms,
    parse_feature,
    parse_float,
    parse_popularity,
    parse_spotify_id,
    parse_year,
    require_text,
)
from recsys.importers.report import ImportReport, RowError
from recsys.importers.spotify_schemas import FEATURE_COLUMNS, SchemaName

SOURCE = "spotify"
_DECADE_IN_NAME = re.compile(r"(?:^|[^0-9])(\d{2}|\d{4})s(?:[^0-9a-z]|$)", re.IGNORECASE)


@dataclass(slots=True)
class RowContext:
    """What a converter needs besides the row: column positions and per-file facts."""

    columns: dict[str, int]
    report: ImportReport
    file_decade: int | None = None

    def get(self, row: list[str], name: str) -> str:
        position = self.columns.get(name)
        return row[position] if position is not None and position < len(row) else ""


Converter = Callable[[list[str], RowContext], TrackRecord]


def decade_from_file_name(path: Path) -> int | None:
    """dataset-of-60s.csv → 1960, -00s → 2000, -10s → 2010; None when the name says nothing."""
    match = _DECADE_IN_NAME.search(path.stem)
    if not match:
        return None
    digits = int(match.group(1))
    if digits >= 100:
        return digits if digits % 10 == 0 else None
    # Two digits: the Hit Predictor covers 1960-2019, so 00/10/20 are this century.
    return (1900 if digits >= 30 else 2000) + digits if digits % 10 == 0 else None


def _audio(row: list[str], ctx: RowContext) -> dict[str, float]:
    audio: dict[str, float] = {}
    for name in FEATURE_COLUMNS:
        value = parse_feature(ctx.get(row, name), name)
        if value is not None:
            audio[name] = value
    return audio


def _decade(row: list[str], ctx: RowContext) -> int | None:
    cell = ctx.get(row, "decade")
    if is_blank(cell):
        return ctx.file_decade
    value = parse_float(cell, "decade")
    if value != int(value) or int(value) % 10 or not 1900 <= value <= 2090:
        raise RowError(f"bad decade {cell.strip()!r}", "bad decade")
    return int(value)


def hit_predictor_row(row: list[str], ctx: RowContext) -> TrackRecord:
    # No genre and no exact year in this table: the decade file a track charted in is the
    # best date there is, and "billboard hit" is the one label it carries.
    track_id = parse_spotify_id(ctx.get(row, "uri"))
    title = require_text(ctx.get(row, "track"), "track name")
    artists = split_artists(require_text(ctx.get(row, "artist"), "artist"))
    audio = _audio(row, ctx)
    duration = parse_duration_ms(ctx.get(row, "duration_ms"))
    hit = parse_bool(ctx.get(row, "target"), "target")
    decade = _decade(row, ctx)
    descriptors = [f"{decade}s"] if decade else []
    if hit:
        descriptors.append("billboard hit")
    return TrackRecord(
        source=SOURCE,
        external_id=track_id,
        title=title,
        artists=artists,
        year=decade,
        duration_ms=duration,
        audio=audio,
        descriptors=descriptors,
    )


def spotify_tracks_row(row: list[str], ctx: RowContext) -> TrackRecord:
    track_id = parse_spotify_id(ctx.get(row, "track_id"))
    title = require_text(ctx.get(row, "track_name"), "track name")
    artists = split_list(require_text(ctx.get(row, "artists"), "artist"), ";")
    genre = ctx.get(row, "track_genre").strip().lower()
    return TrackRecord(
        source=SOURCE,
        external_id=track_id,
        title=title,
        artists=artists,
        album=ctx.get(row, "album_name").strip() or None,
        genres=[genre] if genre else [],
        duration_ms=parse_duration_ms(ctx.get(row, "duration_ms")),
        explicit=parse_bool(ctx.get(row, "explicit"), "explicit"),
        popularity=parse_popularity(ctx.get(row, "popularity")),
        audio=_audio(row, ctx),
    )


def tidytuesday_row(row: list[str], ctx: RowContext) -> TrackRecord:
    track_id = parse_spotify_id(ctx.get(row, "track_id"))
    title = require_text(ctx.get(row, "track_name"), "track name")
    artists = split_artists(require_text(ctx.get(row, "track_artist"), "artist"))
    release = ctx.get(row, "track_album_release_date")
    year = parse_year(release)
    if year is None and not is_blank(release):
        ctx.report.note_field_issue("unreadable release date (year left empty)")
    genres = [ctx.get(row, name).strip().lower() for name in ("playlist_genre", "playlist_subgenre")]
    return TrackRecord(
        source=SOURCE,
        external_id=track_id,
        title=title,
        artists=artists,
        album=ctx.get(row, "track_album_name").strip() or None,
        genres=[genre for genre in genres if genre],
        year=year,
        duration_ms=parse_duration_ms(ctx.get(row, "duration_ms")),
        popularity=parse_popularity(ctx.get(row, "track_popularity")),
        audio=_audio(row, ctx),
    )


CONVERTERS: dict[SchemaName, Converter] = {
    "hit_predictor": hit_predictor_row,
    "spotify_tracks": spotify_tracks_row,
    "tidytuesday": tidytuesday_row,
}
ID_COLUMN: dict[SchemaName, str] = {
    "hit_predictor": "uri",
    "spotify_tracks": "track_id",
    "tidytuesday": "track_id",
}

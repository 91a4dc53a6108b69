"""Recognising which public Spotify audio-feature table a CSV header belongs to.

Matching is by column *names* (case-insensitive, any order, BOM and quotes ignored), never by
position, because these files circulate re-saved by spreadsheets and pandas with columns
shuffled or an extra index column in front.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from recsys.catalog import AUDIO_FEATURES

SchemaName = Literal["hit_predictor", "spotify_tracks", "tidytuesday"]

FEATURE_COLUMNS: tuple[str, ...] = AUDIO_FEATURES  # Spotify's column names are the canonical ones


class SchemaError(ValueError):
    """The file is not one of the supported tables; the message lists what was expected."""


@dataclass(frozen=True, slots=True)
class Schema:
    name: SchemaName
    title: str
    required: frozenset[str]
    optional: frozenset[str]


def _schema(name: SchemaName, title: str, required: Sequence[str], optional: Sequence[str]) -> Schema:
    return Schema(name, title, frozenset(required) | frozenset(FEATURE_COLUMNS), frozenset(optional))


SCHEMAS: tuple[Schema, ...] = (
    _schema(
        "hit_predictor",
        "Spotify Hit Predictor (dataset-of-<decade>s.csv)",
        ["track", "artist", "uri", "duration_ms", "target"],
        ["time_signature", "chorus_hit", "sections", "decade"],
    ),
    _schema(
        "spotify_tracks",
        "Spotify Tracks Dataset (114k tracks, track_genre)",
        [
            "track_id",
            "artists",
            "album_name",
            "track_name",
            "popularity",
            "duration_ms",
            "explicit",
            "track_genre",
        ],
        ["", "unnamed: 0", "time_signature"],
    ),
    _schema(
        "tidytuesday",
        "TidyTuesday spotify_songs (playlist_genre)",
        [
            "track_id",
            "track_name",
            "track_artist",
            "track_popularity",
            "track_album_name",
            "track_album_release_date",
            "playlist_genre",
            "playlist_subgenre",
            "duration_ms",
        ],
        ["track_album_id", "playlist_name", "playlist_id"],
    ),
)
SCHEMA_BY_NAME: dict[SchemaName, Schema] = {schema.name: schema for schema in SCHEMAS}


def normalise_header(header: Sequence[str]) -> list[str]:
    return [cell.replace("\ufeff", "").strip().strip('"').strip().lower() for cell in header]


def detect_schema(header: Sequence[str]) -> SchemaName:
    """The schema whose required columns all appear in `header`; SchemaError otherwise."""
    columns = set(normalise_header(header))
    for schema in SCHEMAS:
        if schema.required <= columns:
            return schema.name
    raise SchemaError(_explain(columns))


def column_index(header: Sequence[str]) -> dict[str, int]:
    """Column name → position; the first occurrence wins if a name repeats."""
    index: dict[str, int] = {}
    for position, name in enumerate(normalise_header(header)):
        index.setdefault(name, position)
    return index


def _explain(columns: set[str]) -> str:
    shown = ", ".join(sorted(c for c in columns if c)) or "(none)"
    closest = min(SCHEMAS, key=lambda schema: len(schema.required - columns))
    lines = [f"unrecognised CSV header; it has the columns: {shown}.", "Expected one of:"]
    for schema in SCHEMAS:
        lines.append(f"  {schema.title}: {', '.join(sorted(schema.required))}")
    missing = ", ".join(sorted(closest.required - columns))
    lines.append(f"Closest match is {closest.title}, which lacks: {missing}")
    return "\n".join(lines)

"""Shared helpers for the importer tests: tiny fixture writers and real-data locations."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path("/work/shared/data")
HIT_PREDICTOR = SHARED_DATA / "spotify_hit_predictor"
LASTFM = SHARED_DATA / "lastfm_hetrec"

needs_hit_predictor = pytest.mark.skipif(
    not any(HIT_PREDICTOR.glob("dataset-of-*.csv")), reason="Hit Predictor CSVs not available"
)
needs_lastfm = pytest.mark.skipif(
    not (LASTFM / "artists.dat").is_file(), reason="Last.fm HetRec not available"
)

FEATURES = "0.5,0.6,5,-7.5,1,0.04,0.2,0.0,0.1,0.7,120.0"
FEATURE_HEADER = (
    "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo"
)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path

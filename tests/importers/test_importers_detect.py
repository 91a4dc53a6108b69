"""detect_format and the package's public surface."""

from __future__ import annotations

from pathlib import Path

import pytest
from importers_helpers import FEATURE_HEADER, write_text

import recsys.importers as importers
from recsys.importers import SchemaError, detect_format


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format("demo") == "demo"
    csv_file = write_text(
        tmp_path / "dataset-of-60s.csv", f"track,artist,uri,{FEATURE_HEADER},duration_ms,target\n"
    )
    assert detect_format(csv_file) == "spotify_csv"
    assert detect_format(tmp_path) == "spotify_csv"

    lastfm = tmp_path / "hetrec"
    lastfm.mkdir()
    for name in importers.LASTFM_FILES:
        (lastfm / name).write_text("header\n")
    assert detect_format(lastfm) == "lastfm_hetrec"

    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(SchemaError, match="Expected one of"):
        detect_format(write_text(other / "x.csv", "a,b\n1,2\n"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no Last\.fm"):
        detect_format(empty)
    with pytest.raises(ValueError, match="does not exist"):
        detect_format(tmp_path / "missing")


def test_public_names_exist() -> None:
    for name in importers.__all__:
        assert hasattr(importers, name), name

"""Catalog importers: public tables, Last.fm tags, local audio and the built-in demo corpus.

Every importer produces `recsys.catalog.TrackRecord`s and fills an `ImportReport`; none of
them touches the database or the network. Heavy dependencies (librosa, music21) are imported
only inside the functions that need them, so importing this package stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from recsys.importers.audio_folder import (
    AUDIO_SUFFIXES,
    content_type_for,
    find_audio_files,
    read_audio_folder,
)
from recsys.importers.lastfm import ArtistProfile, enrich, load_artist_profiles, match_rate, normalise_artist
from recsys.importers.report import ImportReport, RowError
from recsys.importers.spotify_csv import inspect_csv, read_spotify_csv, read_spotify_csvs
from recsys.importers.spotify_schemas import SchemaError, detect_schema

if TYPE_CHECKING:
    from recsys.importers.demo_music21 import demo_records, render_midi

__all__ = [
    "ArtistProfile",
    "ImportFormat",
    "ImportReport",
    "RowError",
    "SchemaError",
    "content_type_for",
    "demo_records",
    "detect_format",
    "detect_schema",
    "enrich",
    "find_audio_files",
    "inspect_csv",
    "load_artist_profiles",
    "match_rate",
    "normalise_artist",
    "read_audio_folder",
    "read_spotify_csv",
    "read_spotify_csvs",
    "render_midi",
]

ImportFormat = Literal["spotify_csv", "lastfm_hetrec", "audio_folder", "demo"]
LASTFM_FILES = ("artists.dat", "tags.dat", "user_taggedartists.dat", "user_artists.dat")


def detect_format(path: str | Path) -> ImportFormat:
    """What kind of import `path` is; ValueError (with what was looked for) otherwise.

    "demo" is the literal word (the built-in corpus has no path). A folder is Last.fm HetRec
    when it holds the four .dat files, Spotify CSVs when it holds .csv files with a known
    header, an audio folder when it holds audio files anywhere below it.
    """
    if str(path) == "demo":
        return "demo"
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() == ".csv":
            inspect_csv(path)  # raises SchemaError naming the expected columns
            return "spotify_csv"
        if path.suffix.lower() in AUDIO_SUFFIXES:
            raise ValueError(f"{path} is a single audio file; import the folder that contains it")
        raise ValueError(f"{path}: not a supported file (expected a Spotify feature .csv)")
    if not path.is_dir():
        raise ValueError(f"{path} does not exist")
    if all((path / name).is_file() for name in LASTFM_FILES):
        return "lastfm_hetrec"
    csvs = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if csvs:
        for csv_path in csvs:
            inspect_csv(csv_path)
        return "spotify_csv"
    if find_audio_files(path):
        return "audio_folder"
    raise ValueError(
        f"{path}: no Last.fm HetRec files ({', '.join(LASTFM_FILES)}), no .csv files and no audio "
        f"files ({', '.join(sorted(AUDIO_SUFFIXES))}) found"
    )


def __getattr__(name: str) -> object:
    # demo_music21 is loaded on first use rather than with the package, so that
    # `python -m recsys.importers.demo_music21` does not find itself already imported.
    if name in {"demo_records", "render_midi"}:
        from recsys.importers import demo_music21

        return getattr(demo_music21, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

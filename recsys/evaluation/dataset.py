"""The evaluation catalog: Spotify feature rows enriched with Last.fm tags, in memory.

Only tracks whose artist Last.fm knows are kept. Every measure here judges a track by its
artist's Last.fm data (tags, listeners); a track without it could be neither right nor
wrong, and leaving it in would only add noise that looks like a mistake of the engine.
Ids are assigned here (1..n in Spotify-id order), so they are the same on every run.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from recsys.catalog import CatalogTrack
from recsys.importers.lastfm import ArtistProfile, enrich, find_profile, load_artist_profiles
from recsys.importers.names import normalise_artist
from recsys.importers.report import ImportReport
from recsys.importers.spotify_csv import csv_paths, read_spotify_csvs
from recsys.index.base import normalise_name


@dataclass(slots=True)
class EvalCatalog:
    tracks: list[CatalogTrack]
    profiles: dict[str, ArtistProfile]
    artist_of: dict[int, str] = field(default_factory=dict)  # track id → Last.fm artist key
    by_artist: dict[str, list[int]] = field(default_factory=dict)  # artist key → track ids
    # Artist key → the names the index payload holds for it (TrackFilter.artists_not speaks these).
    payload_names: dict[str, set[str]] = field(default_factory=dict)
    rows_read: int = 0

    def __post_init__(self) -> None:
        by_artist: dict[str, list[int]] = defaultdict(list)
        names: dict[str, set[str]] = defaultdict(set)
        for track in self.tracks:
            profile = find_profile(track.artists, self.profiles)
            if profile is None:
                continue
            key = normalise_artist(profile.name)
            self.artist_of[track.id] = key
            by_artist[key].append(track.id)
            names[key].update(normalise_name(a) for a in track.artists if normalise_artist(a) == key)
        self.by_artist = dict(by_artist)
        self.payload_names = dict(names)

    @property
    def ids(self) -> list[int]:
        return [t.id for t in self.tracks]

    def popularity(self, track_id: int) -> float:
        return float(self.tracks[track_id - 1].popularity or 0.0)


def build_catalog(spotify_dir: str | Path, profiles: dict[str, ArtistProfile]) -> EvalCatalog:
    """Read every CSV in ``spotify_dir``, enrich with ``profiles``, keep the matched tracks."""
    report = ImportReport()
    records = [r for r in read_spotify_csvs(csv_paths(spotify_dir), report) if enrich(r, profiles)]
    records.sort(key=lambda r: (r.source, r.external_id))
    tracks = [
        CatalogTrack(
            source=r.source,
            external_id=r.external_id,
            title=r.title,
            artists=r.artists,
            album=r.album,
            genres=r.genres,
            year=r.year,
            duration_ms=r.duration_ms,
            explicit=r.explicit,
            popularity=r.popularity,
            audio=r.audio,
            descriptors=r.descriptors,
            media_kind=r.media_kind,
            media_ref=r.media_ref,
            id=i,
        )
        for i, r in enumerate(records, start=1)
    ]
    return EvalCatalog(tracks=tracks, profiles=profiles, rows_read=report.rows_seen)


def load_catalog(spotify_dir: str | Path, lastfm_dir: str | Path) -> EvalCatalog:
    return build_catalog(spotify_dir, load_artist_profiles(lastfm_dir))


def catalog_fingerprint(tracks: list[CatalogTrack]) -> str:
    """A hash of everything the index is built from (ids, text fields, audio, popularity).

    Keyed on the tracks rather than on the input files, so a change in an importer that
    alters the tracks also invalidates a cached index, and a touched but equal file does not.
    """
    digest = hashlib.sha256()
    for t in tracks:
        record = [t.id, t.title, t.artists, t.album, t.genres, t.year, t.explicit, t.popularity]
        record += [sorted(t.audio.items()), t.descriptors]
        digest.update(json.dumps(record, sort_keys=True, default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()

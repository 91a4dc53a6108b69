"""Enriching catalog records with Last.fm artist tags and listener counts (HetRec 2011).

Spotify feature tables know how a track *sounds* but often nothing of its genre (the Hit
Predictor has none) or popularity. Last.fm users tagged *artists*, so a record borrows its
lead artist's profile: genre-like tags fill an empty `genres`, the rest become descriptors for
the text vector, and listener counts give a popularity where the source had none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recsys.catalog import TrackRecord
from recsys.importers.genres import is_genre
from recsys.importers.lastfm_profiles import ArtistProfile, load_artist_profiles
from recsys.importers.merge import add_unique
from recsys.importers.names import normalise_artist

__all__ = [
    "ArtistProfile",
    "MatchRate",
    "enrich",
    "find_profile",
    "load_artist_profiles",
    "match_rate",
    "normalise_artist",
]

MAX_GENRES = 3


def find_profile(artists: Iterable[str], profiles: dict[str, ArtistProfile]) -> ArtistProfile | None:
    """The profile of the first credited artist Last.fm knows (the lead, usually)."""
    for artist in artists:
        profile = profiles.get(normalise_artist(artist))
        if profile is not None:
            return profile
    return None


def enrich(record: TrackRecord, profiles: dict[str, ArtistProfile], max_tags: int = 8) -> bool:
    """Add the artist's top tags to `record` in place; False when no artist matched.

    Only fills what is missing: a source's own genres and popularity are more specific to
    the track than tags about the artist, so they are never overwritten.
    """
    profile = find_profile(record.artists, profiles)
    if profile is None:
        return False
    tags = [tag for tag, _ in profile.top_tags[:max_tags]]
    if not record.genres:
        record.genres = [tag for tag in tags if is_genre(tag)][:MAX_GENRES]
    add_unique(record.descriptors, [tag for tag in tags if tag not in record.genres])
    if record.popularity is None:
        record.popularity = profile.popularity
    return True


@dataclass(frozen=True, slots=True)
class MatchRate:
    tracks: int
    matched_tracks: int
    artists: int
    matched_artists: int

    @property
    def track_rate(self) -> float:
        return self.matched_tracks / self.tracks if self.tracks else 0.0

    @property
    def artist_rate(self) -> float:
        return self.matched_artists / self.artists if self.artists else 0.0

    def __str__(self) -> str:
        return (
            f"Last.fm matched {self.matched_artists:,} of {self.artists:,} distinct artists "
            f"({self.artist_rate:.1%}) and {self.matched_tracks:,} of {self.tracks:,} tracks "
            f"({self.track_rate:.1%})"
        )


def match_rate(records: Iterable[TrackRecord], profiles: dict[str, ArtistProfile]) -> MatchRate:
    """How much of a catalog Last.fm can enrich: every credited artist counts once."""
    tracks = matched_tracks = 0
    artist_hits: dict[str, bool] = {}
    for record in records:
        tracks += 1
        hit = False
        for artist in record.artists:
            key = normalise_artist(artist)
            found = artist_hits.setdefault(key, key in profiles)
            hit = hit or found
        matched_tracks += hit
    return MatchRate(tracks, matched_tracks, len(artist_hits), sum(artist_hits.values()))

"""Folding several listings of one track into one record.

Public tables list a track once per genre, playlist or decade it appears in; the catalog wants
it once, carrying all of those labels. Identity is (source, external_id).
"""

from __future__ import annotations

from collections.abc import Iterable

from recsys.catalog import TrackRecord


def add_unique(target: list[str], values: Iterable[str]) -> None:
    """Append values not already present (case-insensitively), keeping first-seen order."""
    seen = {value.casefold() for value in target}
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            target.append(value)


def merge_into(kept: TrackRecord, other: TrackRecord) -> None:
    """Update `kept` in place with what `other` adds.

    Labels are unioned; for single values the first listing wins except where another rule
    is more truthful: the earliest year (a re-charting in a later decade is not a release
    date), the highest popularity, and explicit if any listing says so.
    """
    add_unique(kept.genres, other.genres)
    add_unique(kept.descriptors, other.descriptors)
    add_unique(kept.artists, other.artists)
    if other.year is not None and (kept.year is None or other.year < kept.year):
        kept.year = other.year
    if other.popularity is not None and (kept.popularity is None or other.popularity > kept.popularity):
        kept.popularity = other.popularity
    kept.explicit = kept.explicit or other.explicit
    kept.album = kept.album or other.album
    kept.duration_ms = kept.duration_ms or other.duration_ms
    for name, value in other.audio.items():
        kept.audio.setdefault(name, value)

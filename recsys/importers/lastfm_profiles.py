"""Loading artist profiles (top tags, listeners, plays) from the Last.fm HetRec 2011 files.

Files, all tab-separated with a header line: artists.dat (id, name, url, pictureURL; UTF-8),
tags.dat (tagID, tagValue; Latin-1 with CRLF), user_taggedartists.dat (userID, artistID, tagID,
day, month, year), user_artists.dat (userID, artistID, weight = play count). Each file's
encoding is sniffed rather than assumed, so a re-saved copy still loads.

Popularity: the data set has only 1,892 users, so listener counts are small (median 1, max
611) and heavy-tailed. Popularity is therefore log-scaled:
    popularity = 100 * log(1 + listeners) / log(1 + max_listeners)
which is monotone in listeners, gives the most-listened artist 100, an artist with one
listener about 11, ten listeners about 37, a hundred about 72.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from recsys.importers.genres import clean_tag
from recsys.importers.names import normalise_artist
from recsys.importers.textstream import open_text, sniff_encoding

# A tag used fewer times than this across the whole data set is one user's private label.
MIN_TAG_USES = 3
TAGS_KEPT = 20
MAX_TAG_LENGTH = 40
# Tags about the listener, not the music.
JUNK_TAGS: frozenset[str] = frozenset(
    {
        "seen live",
        "favorite",
        "favorites",
        "favourite",
        "favourites",
        "my favorite",
        "my favorites",
        "my favourite",
        "favorite artists",
        "favourite artists",
        "albums i own",
        "check out",
        "to check out",
        "spotify",
        "love at first listen",
        "under 2000 listeners",
        "all",
        "music",
        "good",
        "cool",
        "awesome",
        "amazing",
        "best",
        "great",
        "fav",
        "favs",
        "top",
        "want to see live",
        "seen in concert",
        "owned",
    }
)


@dataclass(frozen=True, slots=True)
class ArtistProfile:
    """One Last.fm artist: tag weights are the tag's share of the artist's top tag count."""

    name: str
    top_tags: list[tuple[str, float]]
    listeners: int
    plays: int
    popularity: float = 0.0


def _table(path: Path) -> Iterator[list[str]]:
    """Data rows of one HetRec file (header dropped, CR stripped by the csv module)."""
    with open_text(path, sniff_encoding(path)) as (text, _):
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if row:
                yield row


def _is_junk(tag: str) -> bool:
    return (
        not tag
        or tag in JUNK_TAGS
        or len(tag) > MAX_TAG_LENGTH
        or "favo" in tag
        or not any(char.isalpha() for char in tag)
    )


def _load_tag_names(folder: Path) -> dict[str, str]:
    return {row[0]: clean_tag(row[1]) for row in _table(folder / "tags.dat") if len(row) >= 2}


def _tag_counts(folder: Path, tag_names: dict[str, str]) -> dict[str, Counter[str]]:
    """artist id → tag → number of users who put that tag on that artist."""
    per_artist: dict[str, Counter[str]] = defaultdict(Counter)
    for row in _table(folder / "user_taggedartists.dat"):
        if len(row) >= 3 and row[2] in tag_names:
            per_artist[row[1]][tag_names[row[2]]] += 1
    return per_artist


def _listening(folder: Path) -> tuple[Counter[str], Counter[str]]:
    listeners: Counter[str] = Counter()
    plays: Counter[str] = Counter()
    for row in _table(folder / "user_artists.dat"):
        if len(row) >= 3 and row[2].strip().isdigit():
            listeners[row[1]] += 1
            plays[row[1]] += int(row[2])
    return listeners, plays


def _top_tags(counts: Counter[str], global_uses: Counter[str], artist_key: str) -> list[tuple[str, float]]:
    kept = [
        (tag, count)
        for tag, count in counts.items()
        if global_uses[tag] >= MIN_TAG_USES and not _is_junk(tag) and normalise_artist(tag) != artist_key
    ]
    kept.sort(key=lambda item: (-item[1], item[0]))
    if not kept:
        return []
    top = kept[0][1]
    return [(tag, round(count / top, 3)) for tag, count in kept[:TAGS_KEPT]]


def load_artist_profiles(folder: str | Path) -> dict[str, ArtistProfile]:
    """Normalised artist name → profile, for every artist in artists.dat.

    When two artists normalise to the same key, the one with more listeners wins.
    """
    folder = Path(folder)
    tag_names = _load_tag_names(folder)
    per_artist = _tag_counts(folder, tag_names)
    global_uses: Counter[str] = Counter()
    for counts in per_artist.values():
        global_uses.update(counts)
    listeners, plays = _listening(folder)
    scale = math.log1p(max(listeners.values(), default=0)) or 1.0
    profiles: dict[str, ArtistProfile] = {}
    for row in _table(folder / "artists.dat"):
        if len(row) < 2 or not row[1].strip():
            continue
        artist_id, name = row[0], row[1].strip()
        key = normalise_artist(name)
        profile = ArtistProfile(
            name=name,
            top_tags=_top_tags(per_artist.get(artist_id, Counter()), global_uses, key),
            listeners=listeners[artist_id],
            plays=plays[artist_id],
            popularity=round(100.0 * math.log1p(listeners[artist_id]) / scale, 1),
        )
        existing = profiles.get(key)
        if existing is None or profile.listeners > existing.listeners:
            profiles[key] = profile
    return profiles

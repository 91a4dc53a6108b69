"""Listening and tagging data of the Last.fm HetRec 2011 set, keyed by normalised artist name.

The importer (recsys.importers.lastfm_profiles) turns the same files into per-artist
profiles for the catalog text; the evaluation also needs the per-*user* side: who played
which artist how often, and which artists listeners put a given tag on. Artists are keyed
with ``normalise_artist`` so that they meet the catalog's tracks the way enrichment does.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recsys.importers.genres import clean_tag
from recsys.importers.names import normalise_artist
from recsys.importers.textstream import open_text, sniff_encoding


@dataclass(slots=True)
class HetRec:
    """plays: user → artist key → play count; tagged: tag → artist key → users who tagged."""

    plays: dict[int, dict[str, int]] = field(default_factory=dict)
    tagged: dict[str, dict[str, int]] = field(default_factory=dict)

    def users(self) -> list[int]:
        return sorted(self.plays)


def _rows(path: Path) -> Iterator[list[str]]:
    """Data rows of one tab-separated HetRec file (header dropped; encoding sniffed, since
    tags.dat is Latin-1 with CRLF while artists.dat is UTF-8)."""
    with open_text(path, sniff_encoding(path)) as (text, _):
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        for row in reader:
            if row:
                yield row


def _int(cell: str) -> int | None:
    cell = cell.strip()
    return int(cell) if cell.isdigit() else None


def load_hetrec(folder: str | Path) -> HetRec:
    """Read artists.dat, tags.dat, user_artists.dat and user_taggedartists.dat from ``folder``.

    Two HetRec artist ids that normalise to one key (spelling variants) are merged: their
    play counts add up, and a tag counts each user once.
    """
    folder = Path(folder)
    keys = {row[0]: normalise_artist(row[1]) for row in _rows(folder / "artists.dat") if len(row) >= 2}
    tag_names = {row[0]: clean_tag(row[1]) for row in _rows(folder / "tags.dat") if len(row) >= 2}

    plays: dict[int, dict[str, int]] = defaultdict(dict)
    for row in _rows(folder / "user_artists.dat"):
        if len(row) < 3:
            continue
        user, weight, key = _int(row[0]), _int(row[2]), keys.get(row[1])
        if user is None or weight is None or key is None:
            continue
        plays[user][key] = plays[user].get(key, 0) + weight

    taggers: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in _rows(folder / "user_taggedartists.dat"):
        if len(row) < 3:
            continue
        user, key, tag = _int(row[0]), keys.get(row[1]), tag_names.get(row[2])
        if user is None or key is None or not tag:
            continue
        taggers[tag][key].add(user)
    tagged = {tag: {key: len(users) for key, users in artists.items()} for tag, artists in taggers.items()}
    return HetRec(plays=dict(plays), tagged=tagged)

"""One track, many sources: which catalog track a library song (or a file) is.

Rules, in order; the first that finds exactly one track decides, and the report counts it:
1. ``id``: a shared identifier (ISRC, MusicBrainz recording id, Spotify track id).
2. ``name+duration``: the same normalised artist and title, durations within
   ``DURATION_TOLERANCE_MS`` (or ``DURATION_TOLERANCE_RATIO`` of the longer one).
3. ``name``: the same normalised artist and title where either side has no duration.
A song whose artist + title names several tracks with no duration to tell them apart is left
unmatched (counted as ``ambiguous``): a wrong merge is worse than a missing one.

Nothing here touches a database; the caller brings the candidates.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from recsys.importers.names import normalise_artist

DURATION_TOLERANCE_MS = 3000
DURATION_TOLERANCE_RATIO = 0.02

# "(Remastered 2009)", "[Live]", " - 2011 Remaster", "(feat. X)": versions of the same recording
# as far as taste goes, written differently by every source.
_VERSION_SUFFIX = re.compile(
    r"\s*(?:[\(\[][^\)\]]*(?:remaster|mono|stereo|version|edit|feat\.?|ft\.)[^\)\]]*[\)\]]"
    r"|\s-\s.*(?:remaster|version|edit|mono|stereo).*)$",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """A lookup key for a title: version suffixes dropped, accents and punctuation removed."""
    text = title
    for _ in range(3):  # "Song (feat. X) - 2011 Remaster" has two suffixes
        stripped = _VERSION_SUFFIX.sub("", text)
        if stripped == text or not stripped.strip():
            break
        text = stripped
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    key = _NOT_WORD.sub("", text)
    return key or "".join(title.casefold().split())


def title_variants(title: str) -> list[str]:
    """Lowercase titles a catalog row may store for this song, for an indexed lookup
    (``lower(title) = ANY(...)``): as written, and without its version suffix."""
    variants = [title.lower()]
    stripped = _VERSION_SUFFIX.sub("", title).strip()
    if stripped and stripped.lower() not in variants:
        variants.append(stripped.lower())
    return variants


def name_key(artists: Sequence[str], title: str) -> tuple[str, str]:
    """(first artist, title), both normalised: the first-listed artist is the one every
    source agrees on; features and collaborators are listed differently everywhere."""
    return (normalise_artist(artists[0]) if artists else "", normalise_title(title))


def durations_agree(a_ms: int | None, b_ms: int | None) -> bool | None:
    """True/False when both are known; None when either is missing."""
    if not a_ms or not b_ms:
        return None
    tolerance = max(DURATION_TOLERANCE_MS, DURATION_TOLERANCE_RATIO * max(a_ms, b_ms))
    return abs(a_ms - b_ms) <= tolerance


@dataclass(frozen=True, slots=True)
class Candidate:
    """A catalog track that might be the song."""

    track_id: int
    title: str
    artists: tuple[str, ...]
    duration_ms: int | None
    ids: frozenset[str] = frozenset()  # "isrc:...", "mbid:...", "spotify:..."


@dataclass(slots=True)
class MatchStats:
    """Counts per rule, for the import report."""

    by_rule: Counter[str] = field(default_factory=Counter)

    def count(self, rule: str) -> None:
        self.by_rule[rule] += 1

    def lines(self) -> list[str]:
        order = ("id", "name+duration", "name", "ambiguous", "unmatched")
        return [f"{self.by_rule[rule]:>8,}  {rule}" for rule in order if self.by_rule[rule]]


def song_ids(isrc: Iterable[str], mbid: str | None, spotify_id: str | None = None) -> frozenset[str]:
    keys = {f"isrc:{i.upper()}" for i in isrc if i}
    if mbid:
        keys.add(f"mbid:{mbid.lower()}")
    if spotify_id:
        keys.add(f"spotify:{spotify_id}")
    return frozenset(keys)


def best_match(
    artists: Sequence[str],
    title: str,
    duration_ms: int | None,
    ids: frozenset[str],
    candidates: Iterable[Candidate],
) -> tuple[int | None, str]:
    """(track id or None, rule). Rules as in the module docstring."""
    pool = list(candidates)
    if ids:
        by_id = {c.track_id for c in pool if c.ids & ids}
        if len(by_id) == 1:
            return next(iter(by_id)), "id"
    key = name_key(artists, title)
    same_name = [c for c in pool if name_key(c.artists, c.title) == key]
    if not same_name:
        return None, "unmatched"
    agreeing = [c for c in same_name if durations_agree(duration_ms, c.duration_ms)]
    if len(agreeing) >= 1:
        # Several listings of one recording within the tolerance: the closest duration wins,
        # then the lowest id (the first imported), so the choice is stable across syncs.
        assert duration_ms is not None
        chosen = min(agreeing, key=lambda c: (abs((c.duration_ms or 0) - duration_ms), c.track_id))
        return chosen.track_id, "name+duration"
    unknown = [c for c in same_name if durations_agree(duration_ms, c.duration_ms) is None]
    if len(unknown) == 1:
        return unknown[0].track_id, "name"
    if len(unknown) > 1:
        return None, "ambiguous"
    return None, "unmatched"  # same name, different length: another recording (a live take)

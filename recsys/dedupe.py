"""Near-duplicates: the same song under two ids (same artists, same title once normalised).

A catalog merged from several sources, or one source listing a song on a single and on an
album, holds such pairs. They are one song to a listener, so a list never holds both, and a
track is never recommended as "similar" to its own twin. The key is deliberately narrow:
artist set plus title with edition noise removed ("(Remastered 2011)", "- Live", "[Mono]"),
so two different songs are never merged merely because they sound alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from recsys.index.base import Hit

DuplicateKey = tuple[frozenset[str], str]

_BRACKETED = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
# A trailing " - ..." that names an edition of the same recording, not a different song.
_EDITION = re.compile(
    r"\s[-\u2013\u2014]\s.*\b(remaster(ed)?|version|edit|mix|live|mono|stereo|demo|single|radio)\b.*$"
)
_NOT_WORD = re.compile(r"[^\w]+")


# Memoised: every queue asks it of each of its ~200 candidates, and the same titles come back
# in query after query (it was 4 % of a busy server's event loop).
@functools.lru_cache(maxsize=65_536)
def title_key(title: str) -> str:
    """A title with case, accents, punctuation and edition suffixes removed."""
    folded = unicodedata.normalize("NFKD", title.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = _EDITION.sub("", _BRACKETED.sub(" ", folded))
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def duplicate_key(payload: Mapping[str, Any]) -> DuplicateKey | None:
    """The key two copies of one song share; None when the payload lacks a title."""
    title = payload.get("title")
    if not title:
        return None
    key = title_key(str(title))
    return (frozenset(payload.get("artist") or ()), key) if key else None


H = TypeVar("H", bound=Hit)


def distinct(hits: Sequence[H], taken: Iterable[DuplicateKey | None] = ()) -> list[H]:
    """The hits without near-duplicates of an earlier hit or of a ``taken`` key (order kept:
    the first, best-ranked copy stays)."""
    seen = {key for key in taken if key is not None}
    kept = []
    for hit in hits:
        key = duplicate_key(hit.payload)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(hit)
    return kept

"""Do these words mean anything? The check behind refusing a nonsense mood or search.

The text encoder (all-MiniLM-L6-v2) turns any string into a vector, "zzzzqqq" included, and
the nearest tracks to a meaningless vector are an arbitrary handful; answering them as if they
matched is worse than saying nothing matched. A word counts as meaningful when the model's
own WordPiece vocabulary knows it: as a whole token ("rainy", "upbeat"), or as a known stem of
three letters or more plus at most three pieces ("dream##y", "synth##wave", "mel##an##cho##lic").
Keyboard mash splits into single letters and fragments ("z ##zz ##z ##q ##q ##q") and fails.
Words this rule misses but the catalog itself uses (a genre such as "jig", an artist name)
are accepted by the caller's lexical check against the catalog.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from recsys.encoder import tokenizer_path

MIN_STEM = 3
MAX_PIECES = 4
# Words that carry no mood or style of their own: a text of only these means nothing.
STOPWORDS = frozenset((
    "a", "an", "and", "any", "are", "as", "at", "be", "but", "by", "for", "from", "i", "in",
    "into", "is", "it", "me", "music", "my", "of", "on", "or", "play", "please", "some",
    "something", "song", "songs", "that", "the", "this", "to", "track", "tracks", "with", "want",
))
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def words(text: str) -> list[str]:
    """The lowercase, unaccented words of a text (as the uncased model sees them), without
    stopwords, single letters, digits and punctuation."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(folded) if len(w) > 1 and w not in STOPWORDS]


@lru_cache(maxsize=1)
def _wordpiece() -> Any:
    """The model's own WordPiece model (tokenizers), without the padding the file enables."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tokenizer_path())).model


def is_known(word: str) -> bool:
    pieces = [token.value for token in _wordpiece().tokenize(word)]
    if len(pieces) == 1 and pieces[0] == word:
        return True
    return (bool(pieces) and "[UNK]" not in pieces and len(pieces) <= MAX_PIECES
            and len(pieces[0]) >= MIN_STEM)


def unknown_words(text: str) -> tuple[list[str], list[str]]:
    """(known, unknown) words of a text, stopwords left out."""
    known: list[str] = []
    unknown: list[str] = []
    for word in words(text):
        (known if is_known(word) else unknown).append(word)
    return known, unknown

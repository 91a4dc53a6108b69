"""A matching key for artist names written differently by different sources.

"Beyoncé" / "Beyonce", "The Beatles" / "Beatles", "Simon & Garfunkel" / "Simon and
Garfunkel", "Jay-Z" / "JAY Z" / "Jay Z", "AC/DC" / "ACDC" must meet. The key is for lookup
only and never shown.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that Unicode does not decompose into base letter + accent.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "ð": "d",
        "\u0131": "i",
    }
)
_AND = re.compile(r"\s*(?:&|\+)\s*")
_THE = re.compile(r"^the\s+")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_artist(name: str) -> str:
    """Case-folded, accent-free, without a leading "the", "&"/"+" read as "and", and with all
    punctuation and spaces removed (so "Jay-Z", "Jay Z" and "JAY Z" agree)."""
    text = unicodedata.normalize("NFKD", name.translate(_LETTERS))
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold().strip()
    text = _AND.sub(" and ", text)
    text = _THE.sub("", text)
    key = _NOT_WORD.sub("", text)
    # A name made only of punctuation ("!!!") keeps its characters rather than becoming "".
    return key or "".join(name.casefold().split())

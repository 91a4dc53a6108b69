"""Which free-form tags name a genre, and their canonical spelling.

Social tags mix genres ("rock", "hip hop") with everything else ("seen live", "female
vocalists", "80s"). The catalog's `genres` should hold only the first kind, spelled one way,
so the genre filter and the text vector agree across sources.
"""

from __future__ import annotations

import re

# Core genre words. A tag is genre-like when it is one of these, or a short phrase whose last
# word is one of these ("progressive rock", "death metal", "synth pop", "acid jazz").
CORE_GENRES: frozenset[str] = frozenset(
    {
        "acoustic",
        "afrobeat",
        "alternative",
        "ambient",
        "americana",
        "bluegrass",
        "blues",
        "bossa nova",
        "breakbeat",
        "britpop",
        "chanson",
        "chillout",
        "classical",
        "country",
        "dance",
        "dancehall",
        "disco",
        "downtempo",
        "drum and bass",
        "dub",
        "dubstep",
        "edm",
        "electro",
        "electronic",
        "electronica",
        "emo",
        "experimental",
        "flamenco",
        "folk",
        "funk",
        "fusion",
        "garage",
        "gospel",
        "goth",
        "gothic",
        "grindcore",
        "grime",
        "grunge",
        "hardcore",
        "hip-hop",
        "house",
        "idm",
        "indie",
        "industrial",
        "j-pop",
        "j-rock",
        "jazz",
        "k-pop",
        "latin",
        "lounge",
        "mpb",
        "metal",
        "metalcore",
        "new age",
        "new wave",
        "noise",
        "opera",
        "pop",
        "post-punk",
        "post-rock",
        "psychedelic",
        "punk",
        "r&b",
        "rap",
        "reggae",
        "reggaeton",
        "rock",
        "rockabilly",
        "salsa",
        "samba",
        "screamo",
        "shoegaze",
        "ska",
        "soul",
        "soundtrack",
        "swing",
        "synthpop",
        "techno",
        "trance",
        "trip-hop",
        "world",
        "baroque",
        "chorale",
        "madrigal",
        "ragtime",
        "celtic",
        "singer-songwriter",
        "lo-fi",
        "tango",
        "cumbia",
        "bachata",
        "merengue",
        "trap",
        "drill",
        "afrobeats",
        "highlife",
    }
)

# Spellings folded onto one canonical form before any lookup.
ALIASES: dict[str, str] = {
    "hip hop": "hip-hop",
    "hiphop": "hip-hop",
    "rnb": "r&b",
    "r and b": "r&b",
    "r'n'b": "r&b",
    "rhythm and blues": "r&b",
    "trip hop": "trip-hop",
    "post rock": "post-rock",
    "post punk": "post-punk",
    "synth pop": "synthpop",
    "synth-pop": "synthpop",
    "electronica": "electronic",
    "drum n bass": "drum and bass",
    "drum'n'bass": "drum and bass",
    "dnb": "drum and bass",
    "d&b": "drum and bass",
    "singer songwriter": "singer-songwriter",
    "lofi": "lo-fi",
    "rock n roll": "rock and roll",
    "rock'n'roll": "rock and roll",
    "rock & roll": "rock and roll",
    "alt-rock": "alternative rock",
    "alt rock": "alternative rock",
    "kpop": "k-pop",
    "jpop": "j-pop",
    "world music": "world",
    "female vocalist": "female vocalists",
    "male vocalist": "male vocalists",
}

_SPACES = re.compile(r"\s+")
_SHORT_DECADE = re.compile(r"^'?(\d)0'?s$")
_MAX_GENRE_WORDS = 3


def clean_tag(tag: str) -> str:
    """Lower case, single spaces, canonical spelling."""
    text = _SPACES.sub(" ", tag.strip().lower())
    decade = _SHORT_DECADE.match(text)
    if decade:
        # "80s" → "1980s", the spelling the Spotify importers use for decades.
        digit = int(decade.group(1))
        return f"{1900 + 10 * digit if digit >= 3 else 2000 + 10 * digit}s"
    return ALIASES.get(text, text)


def is_genre(tag: str) -> bool:
    text = clean_tag(tag)
    if text in CORE_GENRES or text == "rock and roll":
        return True
    words = text.split(" ")
    if len(words) > _MAX_GENRE_WORDS:
        return False
    # "progressive rock", "melodic death metal", "acid jazz"; also hyphen compounds such as
    # "folk-rock" whose last part is a genre.
    last = words[-1].split("-")[-1]
    return last in CORE_GENRES or " ".join(words[-2:]) in CORE_GENRES

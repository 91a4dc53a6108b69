"""Splitting a credited-artist string ("Drake Featuring Rihanna & Jay-Z") into artists.

The rule, chosen from what Billboard-style credits in the Hit Predictor data look like:

1. The credit is cut at every *collaboration marker*: "featuring", "feat.", "feat", "ft.",
   "ft", "with", "duet with", "vs." / "vs" (any case), and " x " / " X " between names
   ("Kygo x Selena Gomez"). These markers never occur inside an act's name in practice.
2. The first piece (the lead act) is kept whole, even when it contains "&", "," or "and":
   "Simon & Garfunkel", "Earth, Wind & Fire", "Tyler, The Creator" are one act, and a
   plain "A & B" cannot be told apart from a duo without a name database. Only a lead with
   two or more commas is read as a list ("Anuel AA, Daddy Yankee, Karol G & Ozuna"); the
   price is that "Crosby, Stills, Nash & Young" becomes four names.
3. Pieces after a marker are lists of guests ("Featuring Nelly & Avery Storm", "Featuring
   Akon, Plies & Rick Ross"), so they are further split on ", " and " & ", except before
   "The " ("Kid Creole & The Coconuts" stays one act).

Known misses: duo credits without a marker ("Jay-Z, Rihanna & Kanye West") stay one artist,
and the band "SOB X RBE" is split in two.
"""

from __future__ import annotations

import re

_MARKERS = re.compile(
    r"\s+(?:featuring|feat\.?|ft\.?|duet\s+with|with|vs\.?)\s+"
    # " x " only between two names: not after a comma ("Kelly, X Ambassadors") and not when a
    # marker follows ("Lil Nas X Featuring ...").
    r"|(?<=[^\s,&])\s+[xX]\s+(?!(?:featuring|feat|ft|with|vs)\b)",
    flags=re.IGNORECASE,
)
_GUEST_LIST = re.compile(r",\s+|\s+&\s+(?!the\s)", flags=re.IGNORECASE)


def split_artists(credit: str) -> list[str]:
    """Artists of one credit string, lead first, duplicates removed."""
    text = " ".join(credit.split())
    if not text:
        return []
    lead, *guests = _MARKERS.split(text)
    names = _GUEST_LIST.split(lead) if lead.count(",") >= 2 else [lead]
    for guest in guests:
        names.extend(_GUEST_LIST.split(guest))
    return unique_names(names)


def split_list(value: str, separator: str) -> list[str]:
    """Artists from an already delimited field (the Tracks Dataset uses ';')."""
    return unique_names(value.split(separator))


def unique_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result: list[str] = []
    for name in names:
        clean = name.strip().strip(",&").strip()
        if clean and clean.casefold() not in seen:
            seen.add(clean.casefold())
            result.append(clean)
    return result

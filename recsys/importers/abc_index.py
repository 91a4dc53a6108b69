"""Listing the tunes of an ABC file and their header hints, without music21.

An ABC "opus" file holds hundreds of tunes, each starting at an `X:` line. Knowing their
numbers lets the demo catalog refer to single tunes, and the header fields music21 does not
keep (R: rhythm such as "double jig", N: notes such as "Very slow") are the best hints of a
tune's form and tempo. Scanning text is ~1000x faster than parsing the music.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_FIELD = re.compile(r"^([A-Za-z]):\s*(.*?)\s*$")


@dataclass(slots=True)
class AbcTune:
    number: int
    titles: list[str] = field(default_factory=list)
    rhythm: str = ""
    notes: list[str] = field(default_factory=list)
    origin: str = ""
    tempo: str = ""

    @property
    def hint_text(self) -> str:
        """Everything that may name the form or speed, lower-cased, for keyword matching."""
        return " ".join([*self.titles, self.rhythm, *self.notes]).lower()


@lru_cache(maxsize=256)
def abc_tunes(path: Path) -> tuple[AbcTune, ...]:
    """Tunes in file order. Cached: the same opus file is consulted once per tune."""
    tunes: list[AbcTune] = []
    current: AbcTune | None = None
    in_header = False
    for line in path.read_text(encoding="latin-1").splitlines():
        match = _FIELD.match(line)
        if match and match.group(1) == "X":
            number = re.match(r"\d+", match.group(2))
            current = AbcTune(int(number.group())) if number else None
            if current is not None:
                tunes.append(current)
            in_header = current is not None
            continue
        if current is None or not in_header:
            continue
        if not match:
            # The header ends at the first music line; later fields (inline T: of a part)
            # would describe a section, not the tune.
            in_header = line.strip().startswith("%") or not line.strip()
            continue
        key, value = match.group(1), match.group(2).strip().strip('"')
        if key == "T" and value:
            current.titles.append(value)
        elif key == "R":
            current.rhythm = value
        elif key == "N" and value:
            current.notes.append(value)
        elif key == "O":
            current.origin = value
        elif key == "Q":
            current.tempo = value
        elif key == "K":
            in_header = False
    return tuple(tunes)


def tune_numbers(path: Path) -> list[int]:
    """X: numbers in file order, duplicates dropped (music21 finds a tune by its number)."""
    seen: set[int] = set()
    numbers: list[int] = []
    for tune in abc_tunes(path):
        if tune.number not in seen:
            seen.add(tune.number)
            numbers.append(tune.number)
    return numbers


def find_tune(path: Path, number: int) -> AbcTune | None:
    return next((tune for tune in abc_tunes(path) if tune.number == number), None)

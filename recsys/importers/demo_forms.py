"""What a piece's form or kind implies: its typical tempo and character.

A fiddle tune's form (reel, jig, hornpipe, ...) fixes its usual tempo and how danceable it
is; a piece's kind (chorale, string quartet, folk song, ...) gives defaults for everything the
score does not say. Forms are found in titles, ABC rhythm fields and file names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from recsys.importers.demo_corpus import PieceKind


@dataclass(frozen=True, slots=True)
class Form:
    quarter_bpm: float
    danceability: float


# Typical dance tempi (quarter notes per minute) and how danceable the form is.
FORMS: dict[str, Form] = {
    "slip jig": Form(180, 0.72),
    "jig": Form(174, 0.80),
    "reel": Form(224, 0.80),
    "hornpipe": Form(160, 0.75),
    "clog": Form(160, 0.75),
    "strathspey": Form(130, 0.70),
    "fling": Form(150, 0.72),
    "polka": Form(140, 0.85),
    "schottische": Form(140, 0.72),
    "galop": Form(220, 0.75),
    "quadrille": Form(200, 0.70),
    "quickstep": Form(124, 0.72),
    "march": Form(112, 0.70),
    "waltz": Form(150, 0.68),
    "minuet": Form(120, 0.60),
    "gavotte": Form(130, 0.60),
    "mazurka": Form(140, 0.62),
    "polonaise": Form(96, 0.55),
    "rag": Form(100, 0.72),
}
_FORM_ALIASES = {
    "slipjig": "slip jig",
    "double jig": "jig",
    "single jig": "jig",
    "menuet": "minuet",
    "ragtime": "rag",
    "quick step": "quickstep",
}
_WORDS = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Forms that are not dances but still name the piece's character.
_SLOW_FORMS = {"air": 76.0, "lament": 60.0}


@dataclass(frozen=True, slots=True)
class KindDefaults:
    quarter_bpm: float
    danceability: float
    instrumentalness: float
    loudness_db: float


KINDS: dict[PieceKind, KindDefaults] = {
    "folk_song": KindDefaults(100, 0.50, 0.55, -14),
    "dance_tune": KindDefaults(160, 0.70, 0.90, -13),
    "air": KindDefaults(84, 0.40, 0.90, -15),
    "chorale": KindDefaults(72, 0.25, 0.35, -11),
    "vocal_polyphony": KindDefaults(110, 0.20, 0.35, -12),
    "chamber": KindDefaults(100, 0.35, 0.90, -12),
    "keyboard": KindDefaults(100, 0.40, 0.92, -13),
    "art_song": KindDefaults(80, 0.35, 0.35, -13),
    "modern": KindDefaults(70, 0.15, 0.80, -16),
}
VOCAL_KINDS: frozenset[PieceKind] = frozenset(
    {"folk_song", "chorale", "vocal_polyphony", "art_song", "modern"}
)
SLOW_WORDS = ("very slow", "slow", "lento", "adagio", "largo", "grave")
FAST_WORDS = ("lively", "quick", "brisk", "fast", "allegro", "presto", "vivace")


def find_form(texts: Iterable[str]) -> str | None:
    """The dance form or character named in a title/rhythm/notes text ("double jig" → jig)."""
    # Whole words only ("rag" must not match "ragged", "air" not "fair"); file names count
    # too, so "polonaise_op1n1" and "AcrobatsHornpipe" are split into their words.
    words = " ".join(_WORDS.findall(" ".join(_CAMEL.sub(" ", text) for text in texts).lower()))
    padded = f" {words} "
    for alias, form in _FORM_ALIASES.items():
        if f" {alias} " in padded:
            return form
    for name in (*FORMS, *_SLOW_FORMS):
        if f" {name} " in padded:
            return name
    return None


def form_from_meter(time_signatures: list[str]) -> str:
    """A fiddle tune without a named form is classified by its meter, as players would."""
    meter = time_signatures[0] if time_signatures else "4/4"
    return {
        "6/8": "jig",
        "9/8": "slip jig",
        "12/8": "jig",
        "3/4": "waltz",
        "3/2": "waltz",
        "2/4": "polka",
    }.get(meter, "reel")


def default_quarter_bpm(kind: PieceKind, form: str | None, hint_text: str) -> float:
    if form in FORMS:
        bpm = FORMS[form].quarter_bpm
    elif form in _SLOW_FORMS:
        bpm = _SLOW_FORMS[form]
    else:
        bpm = KINDS[kind].quarter_bpm
    if "very slow" in hint_text:
        return min(bpm, 56.0)
    if any(word in hint_text for word in SLOW_WORDS):
        return min(bpm, 72.0)
    if any(word in hint_text for word in FAST_WORDS):
        return bpm * 1.1
    return bpm

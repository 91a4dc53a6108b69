"""Human titles, artists and albums for corpus pieces.

Corpus metadata is uneven: ABC tunes carry good titles ("ACROBAT'S -- HORNPIPE" aside),
MusicXML files often only the file name ("bwv66.6.mxl") or a part name ("CANTO") in the
title fields, and composers come as "L van Beethoven" or "Philippe de Vitry\\n(1291 - 1361)".
These helpers turn that into what a listener should see.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from recsys.importers.demo_corpus import Collection

_FILE_LIKE = re.compile(r"\.(mxl|xml|musicxml|krn|abc|mid|midi)$", re.IGNORECASE)
_PART_NAMES = frozenset({"canto", "alto", "tenore", "basso", "quinto", "soprano", "tenor", "bass", "cantus"})
_WORK = re.compile(r"^(opus|op|k|bwv|h)(\d+)(?:no(\d+))?$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)")
_INCIPIT_WORDS = 6
_SOFT_HYPHEN = "\u00ad"
_LEADING_NUMBER = re.compile(r"^\d+\.\s+")
_OPUS_NUMBER = re.compile(r"(?<![a-z])op(\d+)no?(\d+)(?![a-z0-9])", re.IGNORECASE)


def pretty_work(name: str) -> str:
    """ "opus18no1" → "Op. 18 No. 1", "k458" → "K. 458"; anything else is prettified."""
    match = _WORK.match(name)
    if not match:
        return pretty_stem(name)
    prefix = {"opus": "Op.", "op": "Op.", "k": "K.", "bwv": "BWV", "h": "H."}[match.group(1).lower()]
    text = f"{prefix} {match.group(2)}"
    return f"{text} No. {match.group(3)}" if match.group(3) else text


def pretty_stem(stem: str) -> str:
    """ "AcaciaReel" / "polonaise_op1n1" / "Credo_38_b" → readable words."""
    stem = _OPUS_NUMBER.sub(r" Op. \1 No. \2 ", stem)
    text = _CAMEL.sub(" ", stem.replace("_", " ").replace("-", " "))
    return " ".join(word[:1].upper() + word[1:] for word in text.split())


def clean_title(title: str) -> str:
    text = " ".join(title.replace(" -- ", " ").split()).rstrip(".,;:").strip()
    text = _LEADING_NUMBER.sub("", text)  # "14. Rex quem metrorum": an edition's numbering
    # Essen and Ryan's titles are often all capitals; shouting is not part of the name.
    if text.isupper():
        text = text.title().replace("'S ", "'s ").replace("'S", "'s")
    return text


def _usable(text: str | None) -> bool:
    if not text:
        return False
    text = text.strip()
    letters = sum(char.isalpha() for char in text)
    return (
        not _FILE_LIKE.search(text)
        and text.casefold() not in _PART_NAMES
        and letters >= 3
        and letters >= 0.6 * len(text.replace(" ", ""))
    )


def incipit(score: Any) -> str | None:
    """The first words of the first texted part, for pieces without a usable title."""
    for part in getattr(score, "parts", None) or []:
        words = _first_words(part)
        if words:
            phrase = " ".join(words)
            return phrase[:1].upper() + phrase[1:]
    return None


def _first_words(part: Any) -> list[str]:
    # Syllables carry "begin/middle/end/single"; editions also sprinkle soft hyphens (U+00AD)
    # and stray dashes, which music21's own assembler keeps.
    words: list[str] = []
    current = ""
    for note in part.recurse().notes:
        if not note.lyrics:
            continue
        lyric = note.lyrics[0]
        raw = (lyric.text or "").strip()
        syllable = raw.replace(_SOFT_HYPHEN, "").replace("-", "").strip()
        if not syllable:
            continue
        current += syllable
        # Some editions mark continuation only by a trailing (soft) hyphen, not by syllabic.
        continues = lyric.syllabic in ("begin", "middle") or raw.endswith(("-", _SOFT_HYPHEN))
        if not continues:
            words.append(current.strip(",.;:!?"))
            current = ""
        if len(words) >= _INCIPIT_WORDS:
            break
    return [word for word in words if word]


def piece_title(score: Any, collection: Collection, ref_path: str, movement: str | None) -> str:
    path = PurePosixPath(ref_path)
    metadata = getattr(score, "metadata", None)
    title = getattr(metadata, "title", None) if metadata is not None else None
    movement_name = getattr(metadata, "movementName", None) if metadata is not None else None
    if collection.title:
        return collection.title
    if collection.name == "bach":
        number = path.stem.removeprefix("bwv")
        words = incipit(score)
        return f"{words} (BWV {number})" if words else f"Chorale BWV {number}"
    if collection.name == "monteverdi":
        number = path.stem.removeprefix("madrigal.")
        words = incipit(score)
        return f"{words} (Madrigal {number})" if words else f"Madrigal {number}"
    if movement:
        return movement
    parent = getattr(metadata, "parentTitle", None) if metadata is not None else None
    for candidate in (title, movement_name):
        if _usable(candidate):
            # "Kyrie" alone names a movement of 14 different masses.
            suffix = f", {parent}" if parent and collection.kind == "vocal_polyphony" else ""
            return clean_title(str(candidate)) + suffix
    words = incipit(score)
    return words or pretty_stem(path.stem)


def movement_label(collection: Collection, ref_path: str) -> str | None:
    """The title of a piece from a work-per-folder collection, from its file name:
    "String Quartet Op. 18 No. 1, mvt. 2" (movement file) or "String Quartet Op. 132" (a
    whole work in one file). None for other collections."""
    if "{work}" not in collection.album:
        return None
    work = album_for(collection, ref_path)
    match = re.match(r"movement(\d+)", PurePosixPath(ref_path).stem)
    return f"{work}, mvt. {match.group(1)}" if match else work


def album_for(collection: Collection, ref_path: str, parent_title: str | None = None) -> str:
    """The collection's album name; a mass movement's album is its mass (Humdrum OPR)."""
    if parent_title and collection.kind == "vocal_polyphony" and "{work}" not in collection.album:
        return parent_title
    path = PurePosixPath(ref_path)
    # A movement file lives in a folder named after the work; a whole work is one file.
    work_name = path.parent.name if path.stem.startswith("movement") else path.stem
    return collection.album.replace("{work}", pretty_work(work_name))

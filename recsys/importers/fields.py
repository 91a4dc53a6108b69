"""Parsing and range-checking of single cell values into the catalog's units.

Every parser raises `RowError` with a message that quotes the offending value, because the
import report is the only place a user learns why row 12,345 was dropped.
"""

from __future__ import annotations

import math
import re

from recsys.importers.report import RowError

# Spotify's documented feature ranges. Loudness is nominally -60..0 dB, but real tables carry
# a few mastered-hot tracks slightly above 0 (up to about +4), so the bound is lenient.
UNIT_FEATURES: tuple[str, ...] = (
    "danceability",
    "energy",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
)
LOUDNESS_RANGE = (-70.0, 10.0)
TEMPO_MAX = 300.0
MAX_DURATION_MS = 6 * 3600 * 1000

_SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_SPOTIFY_URI = re.compile(
    r"^(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[a-z-]+/)?track/)([0-9A-Za-z]{22})"
)
_YEAR = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")


def is_blank(value: str | None) -> bool:
    return value is None or not value.strip() or value.strip().lower() in {"nan", "null", "none", "na", "n/a"}


def parse_float(value: str, name: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise RowError(f"bad {name} {value.strip()!r}", f"bad {name}") from None
    if not math.isfinite(number):
        raise RowError(f"bad {name} {value.strip()!r}", f"bad {name}")
    return number


def parse_feature(value: str, name: str) -> float | None:
    """One Spotify audio feature, checked against its scale; None when the cell is empty.

    tempo 0 and key -1 are how Spotify says "not detected", so they become None rather than
    an error: the row is fine, the feature is just absent.
    """
    if is_blank(value):
        return None
    number = parse_float(value, name)
    if name in UNIT_FEATURES:
        if not 0.0 <= number <= 1.0:
            raise RowError(f"{name} {_fmt(number)} outside 0..1", f"{name} out of range")
        return number
    if name == "loudness":
        low, high = LOUDNESS_RANGE
        if not low <= number <= high:
            raise RowError(f"loudness {_fmt(number)} dB outside {low:g}..{high:g}", "loudness out of range")
        return number
    if name == "tempo":
        if number == 0.0:
            return None
        if not 0.0 < number <= TEMPO_MAX:
            raise RowError(f"tempo {_fmt(number)} outside 0..{TEMPO_MAX:g} BPM", "tempo out of range")
        return number
    if name == "key":
        if number == -1.0:
            return None
        if number != int(number) or not 0 <= number <= 11:
            raise RowError(f"key {_fmt(number)} is not a pitch class 0..11", "key out of range")
        return number
    if name == "mode":
        if number not in (0.0, 1.0):
            raise RowError(f"mode {_fmt(number)} is neither 0 (minor) nor 1 (major)", "mode out of range")
        return number
    raise ValueError(f"unknown audio feature {name}")


def parse_duration_ms(value: str) -> int | None:
    if is_blank(value):
        return None
    number = parse_float(value, "duration_ms")
    if not 0 < number <= MAX_DURATION_MS:
        raise RowError(f"bad duration_ms {value.strip()!r}", "bad duration_ms")
    return round(number)


def parse_popularity(value: str) -> float | None:
    if is_blank(value):
        return None
    number = parse_float(value, "popularity")
    if not 0.0 <= number <= 100.0:
        raise RowError(f"popularity {_fmt(number)} outside 0..100", "popularity out of range")
    return number


def parse_bool(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in {"true", "1", "yes", "t", "y", "1.0"}:
        return True
    if text in {"false", "0", "no", "f", "n", "0.0", ""}:
        return False
    raise RowError(f"bad {name} {value.strip()!r}", f"bad {name}")


def parse_spotify_id(value: str) -> str:
    """A bare 22-character base-62 id, a spotify:track: URI or an open.spotify.com link."""
    text = value.strip()
    if not text:
        raise RowError("missing Spotify track id", "missing track id")
    if _SPOTIFY_ID.match(text):
        return text
    match = _SPOTIFY_URI.match(text)
    if match:
        return match.group(1)
    raise RowError(f"bad Spotify track id {text!r}", "bad track id")


def parse_year(value: str) -> int | None:
    """Year of YYYY, YYYY-MM or YYYY-MM-DD; None when it cannot be read (the caller notes it)."""
    match = _YEAR.match(value)
    if not match:
        return None
    year = int(match.group(1))
    return year if 1000 <= year <= 2100 else None


def require_text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RowError(f"missing {what}", f"missing {what}")
    return text


def _fmt(number: float) -> str:
    return f"{number:g}"

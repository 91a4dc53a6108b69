"""One listen brought in from elsewhere, whatever file it came from.

Invariants every parser keeps: ``artist`` is non-blank as written in the file; ``title`` is
None only for artist-level rows (HetRec); ``listened_at`` is timezone-aware UTC within
``EARLIEST``..now + a day, or None for aggregated rows; ``weight`` > 0; ``outcome`` follows
``SKIP_THRESHOLD_MS`` wherever the file says how long the play was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from recsys.importers.matching import normalise_title
from recsys.importers.names import normalise_artist
from recsys.importers.report import RowError

# A play shorter than this is a skip, a longer one a complete (recsys.actions' outcomes).
SKIP_THRESHOLD_MS = 30_000

Outcome = Literal["complete", "skip"]
Format = Literal["listenbrainz", "lastfm", "spotify_extended", "spotify_account", "hetrec"]
FORMATS: tuple[str, ...] = get_args(Format)

# Scrobbling began in 2002; a 1970 date is a client with a dead clock, not a listen.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class ListensFileError(ValueError):
    """The file as a whole cannot be read (unknown format, broken JSON, not UTF-8).

    Raised before anything is stored: the reader checks the whole file first.
    """


@dataclass(frozen=True, slots=True)
class Listen:
    artist: str
    title: str | None
    listened_at: datetime | None
    outcome: Outcome
    source: Format
    album: str | None = None
    spotify_id: str | None = None
    # The recording's length when the file says (ListenBrainz); not how long it was played.
    track_duration_ms: int | None = None
    ms_played: int | None = None
    weight: float = 1.0
    # A public dataset's listener ("hetrec:2"); None for a user's own export.
    listener: str | None = None
    # The dedupe key when the source has a better one than time + names (HetRec: the artist id).
    key: str | None = None

    def dedupe(self) -> str:
        """The same listen imported twice gets the same key (unique per user or listener)."""
        if self.key is not None:
            return self.key
        at = int(self.listened_at.timestamp()) if self.listened_at else 0
        names = f"{normalise_artist(self.artist)}\x00{normalise_title(self.title or '')}"
        digest = hashlib.blake2b(names.encode(), digest_size=10).hexdigest()
        return f"{self.source}:{at}:{digest}"


def outcome_for(ms_played: int | None) -> Outcome:
    """No duration known (ListenBrainz, Last.fm): a scrobble means it was heard, so complete."""
    if ms_played is not None and ms_played < SKIP_THRESHOLD_MS:
        return "skip"
    return "complete"


def checked_time(at: datetime, raw: object) -> datetime:
    """UTC, and plausible: not before EARLIEST, not in the future."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if not EARLIEST <= at <= datetime.now(UTC) + timedelta(days=1):
        raise RowError(f"implausible time {raw!r}", "implausible time")
    return at


def from_unix(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RowError(f"bad timestamp {value!r}", "bad timestamp")
    try:
        seconds = float(value)
        at = datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise RowError(f"bad timestamp {value!r}", "bad timestamp") from None
    return checked_time(at, value)


def text(value: object, name: str) -> str:
    """A required non-blank string field."""
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"missing {name}", f"missing {name}")
    return value.strip()


def optional_text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def optional_ms(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RowError(f"bad {name} {value!r}", f"bad {name}")
    return int(value)

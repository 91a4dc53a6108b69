"""A listener's past outcomes, newest first, for their long-term taste (recsys.taste).

Two sources: the app's own ``listening_events`` (likes, completes, skips, dislikes; a like
later taken back by an unlike is left out) and, where migration 0005 created it,
``imported_listens`` (a history imported from elsewhere; ``track_id`` is null for a listen
known only by its artist). Each row carries the track's artist names (the catalog's, or the
imported artist's when the track is unknown), so frequent artists need no index call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class PastOutcome:
    track_id: int | None
    artists: tuple[str, ...]
    outcome: str  # like | complete | skip | dislike
    weight: float
    at: datetime | None  # None: an aggregated import row without a date


_EVENTS = """
    SELECT e.track_id, t.artists, e.action AS outcome, 1.0::float8 AS weight, e.at
    FROM listening_events e JOIN tracks t ON t.id = e.track_id
    WHERE e.user_id = $1 AND e.action IN ('like', 'complete', 'skip', 'dislike')
      AND NOT (e.action = 'like' AND EXISTS (
          SELECT 1 FROM listening_events u
          WHERE u.user_id = e.user_id AND u.track_id = e.track_id AND u.action = 'unlike' AND u.id > e.id))
    ORDER BY e.at DESC, e.id DESC
    LIMIT $2
"""

_IMPORTED = """
    SELECT i.track_id,
           CASE WHEN t.id IS NULL THEN ARRAY[i.artist] ELSE t.artists END AS artists,
           i.outcome, i.weight::float8 AS weight, i.listened_at AS at
    FROM imported_listens i LEFT JOIN tracks t ON t.id = i.track_id
    WHERE i.user_id = $1 AND i.outcome IN ('complete', 'skip')
    ORDER BY i.listened_at DESC NULLS LAST
    LIMIT $2
"""


async def recent_outcomes(db: Database, user_id: int, limit: int) -> list[PastOutcome]:
    """The user's last ``limit`` outcomes from both sources, newest first (undated rows last)."""
    rows = list(await db.fetch(_EVENTS, user_id, limit))
    if await db.fetchval("SELECT to_regclass('imported_listens') IS NOT NULL"):
        rows += await db.fetch(_IMPORTED, user_id, limit)
    found = [
        PastOutcome(
            track_id=row["track_id"],
            artists=tuple(a for a in (row["artists"] or ()) if a),
            outcome=row["outcome"],
            weight=float(row["weight"] if row["weight"] is not None else 1.0),
            at=row["at"],
        )
        for row in rows
    ]
    oldest = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda o: o.at or oldest, reverse=True)
    return found[:limit]

"""Listening events: every play, skip, like, dislike and completion, durable before it is acked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.store.db import Database

ACTIONS = ("play", "complete", "skip", "like", "dislike")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    user_id: int
    track_id: int
    action: str
    position_ms: int | None
    at: datetime
    client_ref: str | None


async def record(
    db: Database,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    client_ref: str | None,
) -> tuple[Event, bool]:
    """Write one event; returns (event, created). A repeated client_ref returns the first event."""
    row = await db.fetchrow(
        """
        INSERT INTO listening_events (user_id, track_id, action, position_ms, client_ref)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO NOTHING
        RETURNING id, user_id, track_id, action, position_ms, at, client_ref
        """,
        user_id,
        track_id,
        action,
        position_ms,
        client_ref,
    )
    if row is not None:
        return Event(**dict(row)), True
    existing = await db.fetchrow(
        "SELECT id, user_id, track_id, action, position_ms, at, client_ref FROM listening_events"
        " WHERE user_id = $1 AND client_ref = $2",
        user_id,
        client_ref,
    )
    assert existing is not None
    return Event(**dict(existing)), False


async def history(db: Database, user_id: int, limit: int, before: int | None) -> list[Event]:
    rows = await db.fetch(
        """
        SELECT id, user_id, track_id, action, position_ms, at, client_ref FROM listening_events
        WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3
        """,
        user_id,
        before,
        limit,
    )
    return [Event(**dict(row)) for row in rows]


async def recent_track_ids(db: Database, user_id: int, seconds: int) -> set[int]:
    """Tracks the user heard (played, completed or skipped) in the last `seconds`."""
    rows = await db.fetch(
        """
        SELECT DISTINCT track_id FROM listening_events
        WHERE user_id = $1 AND at > now() - make_interval(secs => $2)
          AND action IN ('play', 'complete', 'skip')
        """,
        user_id,
        float(seconds),
    )
    return {row["track_id"] for row in rows}


async def latest(db: Database, user_id: int, limit: int) -> list[Event]:
    """The newest events, oldest first: what a new session profile replays."""
    return list(reversed(await history(db, user_id, limit, None)))


async def count_for_user(db: Database, user_id: int) -> int:
    return int(await db.fetchval("SELECT count(*) FROM listening_events WHERE user_id = $1", user_id))

"""Listening events: every play, skip, like, dislike and completion, durable before it is acked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Record

from app.store.db import Database
from recsys.actions import ACTIONS, OUTCOMES, VERDICTS


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    user_id: int
    track_id: int
    action: str
    position_ms: int | None
    at: datetime
    client_ref: str | None
    group_id: int | None = None  # the listening group it was made in (app/groups.py)


_COLUMNS = "id, user_id, track_id, action, position_ms, at, client_ref, group_id"
__all__ = ["ACTIONS", "Event", "chunk_after", "group_latest", "history", "latest", "outcomes",
           "recent_track_ids", "recording"]


class Recorded:
    """What ``recording`` yields: the outcome, and the wait for it to be durable."""

    __slots__ = ("_db", "_durable", "created", "event")

    def __init__(self, db: Database, event: Event | None, created: bool) -> None:
        self._db = db
        self.event = event
        self.created = created
        self._durable = False

    async def durable(self) -> None:
        """Wait until the event is durable; raises if that failed (PostgreSQL went away)."""
        if not self._durable:
            await self._db.flushed()
            self._durable = True


@asynccontextmanager
async def recording(
    db: Database,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    client_ref: str | None,
    group_id: int | None = None,
) -> AsyncIterator[Recorded]:
    """Write one event and yield its outcome (``Recorded``) before it is durable; the exit
    waits until it is (``Recorded.durable``) and raises if that failed. A repeated client_ref
    yields the first event, not created. Likes are a state (recsys.actions.VERDICTS): a like of
    a liked track, or an unlike of one not liked, changes nothing, is not stored, and yields no
    event.

    The insert commits without waiting for the write-ahead log's flush, and the exit waits for
    a flush (app/store/wal_flush.py: why). What must not wait for the disk (a live queue's
    change) goes in the block; what promises durability (an ack, an HTTP answer) after it.
    The event is visible to other queries from the block on. Should the flush fail (the server
    went away), the exit raises, nothing acks, and the client's retry with the same ref finds
    the event, or stores it when it was lost."""
    async with db.pool.acquire() as conn:
        recorded = Recorded(db, *await _insert(conn, user_id, track_id, action, position_ms, client_ref,
                                               group_id))
    try:
        yield recorded
    finally:
        await recorded.durable()


async def _insert(
    conn: asyncpg.Connection,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    client_ref: str | None,
    group_id: int | None,
) -> tuple[Event | None, bool]:
    row = await conn.fetchrow(
        f"""
        INSERT INTO listening_events (user_id, track_id, action, position_ms, client_ref, group_id)
        SELECT $1, $2, $3, $4, $5, $7
        -- This statement's own transaction commits without waiting for the flush (recording).
        FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit
        WHERE NOT $3 = ANY($6::text[]) OR $3 <> coalesce((
            SELECT action FROM listening_events
            WHERE user_id = $1 AND track_id = $2 AND action = ANY($6::text[])
            ORDER BY id DESC LIMIT 1), 'unlike')
        ON CONFLICT (user_id, client_ref) WHERE client_ref IS NOT NULL DO NOTHING
        RETURNING {_COLUMNS}
        """,
        user_id,
        track_id,
        action,
        position_ms,
        client_ref,
        sorted(VERDICTS),
        group_id,
    )
    if row is not None:
        return Event(**dict(row)), True
    if client_ref is not None:
        existing = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM listening_events WHERE user_id = $1 AND client_ref = $2",
            user_id,
            client_ref,
        )
        if existing is not None:
            return Event(**dict(existing)), False
    if action in VERDICTS:
        return None, False
    raise RuntimeError("an event insert returned nothing")  # cannot happen: only toggles are skipped


async def outcomes(db: Database, user_id: int, limit: int, before: int | None) -> list[Event]:
    """History as a listener reads it: one row per listening outcome, newest first.

    A "play" is left out once an outcome of the same track followed it (the play started the
    listen that the outcome ends); a play with no outcome yet (playing now, or a tab closed
    mid-track) stays.
    """
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM listening_events e
        WHERE e.user_id = $1 AND ($2::bigint IS NULL OR e.id < $2)
          AND (e.action <> 'play' OR NOT EXISTS (
                SELECT 1 FROM listening_events o
                WHERE o.user_id = e.user_id AND o.track_id = e.track_id AND o.id > e.id
                  AND o.action = ANY($4::text[])))
        ORDER BY e.id DESC LIMIT $3
        """,
        user_id,
        before,
        limit,
        sorted(OUTCOMES),
    )
    return [Event(**dict(row)) for row in rows]


async def history(db: Database, user_id: int, limit: int, before: int | None) -> list[Event]:
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM listening_events
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



async def group_latest(db: Database, group_id: int, limit: int) -> list[Event]:
    """A group's newest events (every member's), oldest first: what its live queue replays."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM listening_events WHERE group_id = $1 ORDER BY id DESC LIMIT $2",
        group_id,
        limit,
    )
    return [Event(**dict(row)) for row in reversed(rows)]


async def chunk_after(db: Database, after_id: int, until_id: int, limit: int) -> list[Record]:
    """Every user's events with ids in (after_id, until_id], in id order (keyset paging): what
    a training job reads, a bounded chunk at a time. As asyncpg Records (id, user_id,
    track_id, action, at; read by name): the job turns them into matrix rows in its own
    thread, since building 5,000 Events here took the event loop ~20 ms per chunk."""
    return list(await db.fetch(
        "SELECT id, user_id, track_id, action, at FROM listening_events"
        " WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
        after_id, until_id, limit,
    ))

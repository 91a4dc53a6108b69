"""collab_models: which collaborative model was trained when, on what, and how long it took."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class CollabModelRow:
    id: int
    version: str
    trained_at: datetime
    last_event_id: int
    last_import_id: int
    rows_read: int
    users: int
    tracks: int
    warm_tracks: int
    interactions: int
    dim: int
    params: dict[str, Any]
    stats: dict[str, Any]
    duration_s: float


_COLUMNS = ("id, version, trained_at, last_event_id, last_import_id, rows_read, users, tracks, "
            "warm_tracks, interactions, dim, params, stats, duration_s")


async def record(
    db: Database,
    *,
    version: str,
    last_event_id: int,
    last_import_id: int,
    rows_read: int,
    users: int,
    tracks: int,
    warm_tracks: int,
    interactions: int,
    dim: int,
    params: dict[str, Any],
    stats: dict[str, Any],
    duration_s: float,
) -> CollabModelRow:
    row = await db.fetchrow(
        f"""
        INSERT INTO collab_models (version, last_event_id, last_import_id, rows_read, users, tracks,
                                   warm_tracks, interactions, dim, params, stats, duration_s)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        RETURNING {_COLUMNS}
        """,
        version, last_event_id, last_import_id, rows_read, users, tracks, warm_tracks,
        interactions, dim, params, stats, duration_s,
    )
    assert row is not None
    return CollabModelRow(**dict(row))


async def latest(db: Database) -> CollabModelRow | None:
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM collab_models ORDER BY trained_at DESC, id DESC LIMIT 1")
    return CollabModelRow(**dict(row)) if row is not None else None


async def high_water(db: Database) -> tuple[int, int]:
    """(max listening_events id, max imported_listens id) now; 0 for an empty table."""
    row = await db.fetchrow(
        "SELECT (SELECT coalesce(max(id), 0) FROM listening_events) AS events,"
        " (SELECT coalesce(max(id), 0) FROM imported_listens) AS imports"
    )
    assert row is not None
    return int(row["events"]), int(row["imports"])


async def new_since(db: Database, last_event_id: int, last_import_id: int, enough: int) -> int:
    """Events and imported listens after the given ids, counted up to ``enough`` (a bounded
    count: the check runs every few minutes and must stay cheap on big tables)."""
    value = await db.fetchval(
        """
        SELECT (SELECT count(*) FROM (SELECT 1 FROM listening_events WHERE id > $1 LIMIT $3) e)
             + (SELECT count(*) FROM (SELECT 1 FROM imported_listens WHERE id > $2 LIMIT $3) i)
        """,
        last_event_id, last_import_id, enough,
    )
    return int(value or 0)

"""Imported listens: histories from a user's export or a public dataset's listeners.

A row belongs to exactly one of a user (``user_id``) or a public listener (``listener``,
e.g. "hetrec:2"), never both (a CHECK). It is unique per owner and ``dedupe`` key, so
inserting a batch again stores nothing new; inserts never update or delete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Record

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class NewListen:
    """A matched listen ready to store."""

    user_id: int | None
    listener: str | None
    track_id: int | None
    artist: str
    outcome: str
    weight: float
    listened_at: datetime | None
    match: str
    source: str
    dedupe: str


@dataclass(frozen=True, slots=True)
class StoredListen:
    id: int
    user_id: int | None
    listener: str | None
    track_id: int | None
    artist: str
    outcome: str
    weight: float
    listened_at: datetime | None
    match: str
    source: str


_COLUMNS = "id, user_id, listener, track_id, artist, outcome, weight, listened_at, match, source"


async def insert_batch(conn: asyncpg.Connection | Database, rows: Sequence[NewListen]) -> int:
    """Store what is new; returns how many rows were inserted (the rest were duplicates).

    The caller owns the transaction, so a batch lands whole or not at all.
    """
    if not rows:
        return 0
    inserted = await conn.fetch(
        """
        INSERT INTO imported_listens (user_id, listener, track_id, artist, outcome, weight,
                                      listened_at, match, source, dedupe)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                             $6::real[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        [r.user_id for r in rows], [r.listener for r in rows], [r.track_id for r in rows],
        [r.artist for r in rows], [r.outcome for r in rows], [r.weight for r in rows],
        [r.listened_at for r in rows], [r.match for r in rows], [r.source for r in rows],
        [r.dedupe for r in rows],
    )
    return len(inserted)


async def iter_chunks(
    db: Database, after_id: int, limit: int, until_id: int | None = None
) -> list[Record]:
    """Rows in id order after ``after_id`` (and up to ``until_id``; keyset paging): what a
    training job reads. As asyncpg Records with StoredListen's fields, read by name: the job
    converts them in its own thread, off the event loop."""
    return list(await db.fetch(
        f"SELECT {_COLUMNS} FROM imported_listens WHERE id > $1 AND ($3::bigint IS NULL OR id <= $3)"
        " ORDER BY id LIMIT $2",
        after_id, limit, until_id,
    ))


async def for_user(db: Database, user_id: int, limit: int) -> list[StoredListen]:
    """A user's imported listens, newest first."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM imported_listens WHERE user_id = $1"
        " ORDER BY listened_at DESC NULLS LAST, id DESC LIMIT $2",
        user_id, limit,
    )
    return [StoredListen(**dict(row)) for row in rows]


async def count_for_user(db: Database, user_id: int) -> int:
    return int(await db.fetchval("SELECT count(*) FROM imported_listens WHERE user_id = $1", user_id))


async def count_for_listeners(db: Database, prefix: str) -> int:
    """Rows of the public listeners whose key starts with ``prefix`` ("hetrec:")."""
    return int(await db.fetchval(
        "SELECT count(*) FROM imported_listens WHERE listener LIKE $1 || '%'", prefix
    ))


async def catalog_artists(db: Database) -> list[str]:
    """Every artist name the catalog lists: artist-level matching looks listens up in it."""
    rows = await db.fetch("SELECT DISTINCT a FROM tracks, unnest(artists) AS a WHERE a <> ''")
    return [row["a"] for row in rows]

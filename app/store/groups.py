"""Listening groups and their members (migration 0006): plain SQL per table.

Invariants the schema keeps: a join code is unique among live groups (``ended_at`` null); a
user is a live member (``left_at`` null) of at most one group, so joining another one ends the
previous membership in the same transaction; the host is always a live member while the group
lives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    code: str
    name: str
    host_id: int
    guest_controls: bool
    mood: dict[str, Any] | None  # MoodSpec.to_record
    member_limit: int
    created_at: datetime
    ended_at: datetime | None

    @property
    def live(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    username: str
    joined_at: datetime


JoinOutcome = Literal["joined", "already", "full", "ended"]

_GROUP_COLUMNS = "id, code, name, host_id, guest_controls, mood, member_limit, created_at, ended_at"


def _group(row: asyncpg.Record | dict[str, Any] | None) -> GroupRow | None:
    if row is None:
        return None
    values = dict(row)
    raw = values["mood"]
    values["mood"] = json.loads(raw) if isinstance(raw, str) else raw
    return GroupRow(**values)


async def _leave_live(conn: asyncpg.Connection, user_id: int, reason: str) -> int | None:
    """End the user's live membership, if any; returns that group's id."""
    return await conn.fetchval(
        """
        UPDATE group_members SET left_at = clock_timestamp(), left_reason = $2
        WHERE user_id = $1 AND left_at IS NULL RETURNING group_id
        """,
        user_id,
        reason,
    )


async def create(
    db: Database, host_id: int, code: str, name: str, guest_controls: bool,
    mood: dict[str, Any] | None, member_limit: int,
) -> tuple[GroupRow, int | None]:
    """A new live group with its host as first member; also returns the group the host left
    to start it (or None). Raises asyncpg.UniqueViolationError when ``code`` is taken."""
    async with db.transaction() as conn:
        previous = await _leave_live(conn, host_id, "left")
        row = await conn.fetchrow(
            f"""
            INSERT INTO groups (code, name, host_id, guest_controls, mood, member_limit)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING {_GROUP_COLUMNS}
            """,
            code, name, host_id, guest_controls, None if mood is None else json.dumps(mood), member_limit,
        )
        group = _group(row)
        assert group is not None
        await conn.execute("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)", group.id, host_id)
    return group, previous


async def by_id(db: Database, group_id: int) -> GroupRow | None:
    return _group(await db.fetchrow(f"SELECT {_GROUP_COLUMNS} FROM groups WHERE id = $1", group_id))


async def with_membership(db: Database, group_id: int, user_id: int) -> tuple[GroupRow | None, bool]:
    """The group and whether the user is a live member of it, in one round trip (every frame
    of a member following a group asks this)."""
    row = await db.fetchrow(
        f"""
        SELECT {_GROUP_COLUMNS}, EXISTS (
            SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND left_at IS NULL
        ) AS is_member
        FROM groups WHERE id = $1
        """,
        group_id, user_id,
    )
    if row is None:
        return None, False
    values = dict(row)
    is_member = bool(values.pop("is_member"))
    return _group(values), is_member


async def live_by_code(db: Database, code: str) -> GroupRow | None:
    return _group(await db.fetchrow(
        f"SELECT {_GROUP_COLUMNS} FROM groups WHERE code = $1 AND ended_at IS NULL", code))


async def live_group_of(db: Database, user_id: int) -> int | None:
    return await db.fetchval(
        "SELECT group_id FROM group_members WHERE user_id = $1 AND left_at IS NULL", user_id)


async def live_groups(db: Database, older_than_s: float = 0.0) -> list[int]:
    """Live groups started more than ``older_than_s`` ago."""
    rows = await db.fetch(
        "SELECT id FROM groups WHERE ended_at IS NULL AND created_at < now() - make_interval(secs => $1)",
        float(older_than_s))
    return [r["id"] for r in rows]


async def members(db: Database, group_id: int) -> list[Member]:
    """Live members, longest-standing first."""
    rows = await db.fetch(
        """
        SELECT m.user_id, u.username, m.joined_at FROM group_members m JOIN users u ON u.id = m.user_id
        WHERE m.group_id = $1 AND m.left_at IS NULL ORDER BY m.joined_at, m.user_id
        """,
        group_id,
    )
    return [Member(**dict(r)) for r in rows]


async def is_member(db: Database, group_id: int, user_id: int) -> bool:
    return bool(await db.fetchval(
        "SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND left_at IS NULL",
        group_id, user_id))


async def join(db: Database, group_id: int, user_id: int) -> tuple[JoinOutcome, int | None]:
    """Add a live member (leaving any other group); the group row is locked so that two joins
    cannot both take the last place. Also returns the group the user left, if any."""
    async with db.transaction() as conn:
        group = _group(await conn.fetchrow(
            f"SELECT {_GROUP_COLUMNS} FROM groups WHERE id = $1 FOR UPDATE", group_id))
        if group is None or not group.live:
            return "ended", None
        current = await conn.fetchval(
            "SELECT group_id FROM group_members WHERE user_id = $1 AND left_at IS NULL", user_id)
        if current == group_id:
            return "already", None
        count = await conn.fetchval(
            "SELECT count(*) FROM group_members WHERE group_id = $1 AND left_at IS NULL", group_id)
        if count >= group.member_limit:
            return "full", None
        previous = await _leave_live(conn, user_id, "left")
        await conn.execute(
            """
            INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
            ON CONFLICT (group_id, user_id) DO UPDATE
                SET joined_at = clock_timestamp(), left_at = NULL, left_reason = NULL
            """,
            group_id, user_id,
        )
    return "joined", previous


async def leave(db: Database, group_id: int, user_id: int, reason: str) -> bool:
    """End a live membership; False when the user was not a live member."""
    done = await db.fetchval(
        """
        UPDATE group_members SET left_at = clock_timestamp(), left_reason = $3
        WHERE group_id = $1 AND user_id = $2 AND left_at IS NULL RETURNING true
        """,
        group_id, user_id, reason,
    )
    return bool(done)


async def set_host(db: Database, group_id: int, user_id: int) -> None:
    await db.execute("UPDATE groups SET host_id = $2 WHERE id = $1", group_id, user_id)


async def update(db: Database, group_id: int, name: str | None, guest_controls: bool | None) -> None:
    await db.execute(
        """
        UPDATE groups SET name = coalesce($2, name), guest_controls = coalesce($3, guest_controls)
        WHERE id = $1
        """,
        group_id, name, guest_controls,
    )


async def set_mood(db: Database, group_id: int, mood: dict[str, Any] | None) -> None:
    await db.execute("UPDATE groups SET mood = $2::jsonb WHERE id = $1", group_id,
                     None if mood is None else json.dumps(mood))


async def end(db: Database, group_id: int, reason: str) -> list[int]:
    """End a live group; returns the users who were its members (now left, 'ended'). Empty
    when it had already ended."""
    async with db.transaction() as conn:
        ended = await conn.fetchval(
            "UPDATE groups SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL "
            "RETURNING true",
            group_id, reason,
        )
        if not ended:
            return []
        rows = await conn.fetch(
            """
            UPDATE group_members SET left_at = clock_timestamp(), left_reason = 'ended'
            WHERE group_id = $1 AND left_at IS NULL RETURNING user_id
            """,
            group_id,
        )
    return [r["user_id"] for r in rows]


async def add_to_queue(db: Database, group_id: int, user_id: int, track_id: int) -> int:
    """Record that a member put a track next. Raises ForeignKeyViolationError for a track that
    does not exist."""
    return await db.fetchval(
        "INSERT INTO group_queue_adds (group_id, user_id, track_id) VALUES ($1, $2, $3) RETURNING id",
        group_id, user_id, track_id,
    )

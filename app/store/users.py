"""User accounts."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    password_hash: str


class UsernameTaken(Exception):
    pass


def _user(row: asyncpg.Record) -> User:
    return User(id=row["id"], username=row["username"], password_hash=row["password_hash"])


async def create(db: Database, username: str, password_hash: str) -> User:
    try:
        row = await db.fetchrow(
            "INSERT INTO users (username, password_hash) VALUES ($1, $2)"
            " RETURNING id, username, password_hash",
            username,
            password_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        raise UsernameTaken(username) from exc
    assert row is not None
    return _user(row)


async def by_username(db: Database, username: str) -> User | None:
    row = await db.fetchrow(
        "SELECT id, username, password_hash FROM users WHERE lower(username) = lower($1)", username
    )
    return _user(row) if row else None


async def by_id(db: Database, user_id: int) -> User | None:
    row = await db.fetchrow("SELECT id, username, password_hash FROM users WHERE id = $1", user_id)
    return _user(row) if row else None


async def set_password_hash(db: Database, user_id: int, password_hash: str) -> None:
    await db.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)

"""Quick Mixes a user was given, so a mix id can be looked up again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store.db import Database


async def save(
    db: Database,
    mix_id: str,
    user_id: int,
    mood: dict[str, Any] | None,
    seed_ids: Sequence[int],
    track_ids: Sequence[int],
) -> None:
    await db.execute(
        "INSERT INTO mixes (id, user_id, mood, seed_ids, track_ids) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (id) DO NOTHING",
        mix_id,
        user_id,
        mood,
        list(seed_ids),
        list(track_ids),
    )


async def get(db: Database, mix_id: str, user_id: int) -> list[int] | None:
    """The mix's track ids, only when it belongs to the user."""
    row = await db.fetchrow("SELECT track_ids FROM mixes WHERE id = $1 AND user_id = $2", mix_id, user_id)
    return list(row["track_ids"]) if row else None

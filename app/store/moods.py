"""The user's current mood and the history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class StoredMood:
    preset: str | None
    text: str | None
    energy: float | None
    valence: float | None
    updated_at: datetime


async def set_mood(
    db: Database,
    user_id: int,
    preset: str | None,
    text: str | None,
    energy: float | None,
    valence: float | None,
) -> StoredMood:
    async with db.transaction() as conn:
        row = await conn.fetchrow(
            """
            INSERT INTO user_moods (user_id, preset, text, energy, valence, updated_at)
            VALUES ($1, $2, $3, $4, $5, now())
            ON CONFLICT (user_id) DO UPDATE SET preset = EXCLUDED.preset, text = EXCLUDED.text,
                energy = EXCLUDED.energy, valence = EXCLUDED.valence, updated_at = now()
            RETURNING preset, text, energy, valence, updated_at
            """,
            user_id,
            preset,
            text,
            energy,
            valence,
        )
        await conn.execute(
            "INSERT INTO mood_changes (user_id, preset, text, energy, valence) VALUES ($1, $2, $3, $4, $5)",
            user_id,
            preset,
            text,
            energy,
            valence,
        )
    assert row is not None
    return StoredMood(**dict(row))


async def get_mood(db: Database, user_id: int) -> StoredMood | None:
    row = await db.fetchrow(
        "SELECT preset, text, energy, valence, updated_at FROM user_moods WHERE user_id = $1", user_id
    )
    return StoredMood(**dict(row)) if row else None

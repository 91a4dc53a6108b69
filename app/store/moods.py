"""The user's current mood and the history of changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from app.store.db import Database
from recsys.moods import MoodSpec


@dataclass(frozen=True, slots=True)
class StoredMood:
    """A user's mood (recsys.moods.MoodSpec) and when it was set. ``to_record`` is the form the
    live session in Redis carries; views (app.views.mood_json) are derived, never parsed back."""

    spec: MoodSpec
    updated_at: datetime

    def to_record(self) -> dict[str, Any]:
        return {**self.spec.to_record(), "updated_at": self.updated_at.isoformat()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StoredMood:
        raw = record.get("updated_at")
        updated_at = datetime.fromisoformat(raw) if isinstance(raw, str) else datetime.fromtimestamp(0)
        return cls(MoodSpec.from_record(record), updated_at)


def _stored(row: asyncpg.Record) -> StoredMood:
    return StoredMood(MoodSpec(row["preset"], row["text"], row["energy"], row["valence"]), row["updated_at"])


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
    return _stored(row)


async def get_mood(db: Database, user_id: int) -> StoredMood | None:
    row = await db.fetchrow(
        "SELECT preset, text, energy, valence, updated_at FROM user_moods WHERE user_id = $1", user_id
    )
    return _stored(row) if row else None

"""Per-listener settings (one row per user; a missing row means the defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from app.store.db import Database


@dataclass(frozen=True, slots=True)
class UserSettings:
    include_unplayable: bool = False

    def to_record(self) -> dict[str, bool]:
        """The JSON-safe form the live session in Redis carries."""
        return {"include_unplayable": self.include_unplayable}

    @classmethod
    def from_record(cls, record: dict[str, object]) -> UserSettings:
        return cls(include_unplayable=record.get("include_unplayable") is True)


DEFAULT_SETTINGS = UserSettings()


async def get_settings(db: Database, user_id: int) -> UserSettings:
    row = await db.fetchrow("SELECT include_unplayable FROM user_settings WHERE user_id = $1", user_id)
    return UserSettings() if row is None else UserSettings(include_unplayable=row["include_unplayable"])


async def put_settings(db: Database, user_id: int, settings: UserSettings) -> UserSettings:
    await db.execute(
        """
        INSERT INTO user_settings (user_id, include_unplayable) VALUES ($1, $2)
        ON CONFLICT (user_id) DO UPDATE
            SET include_unplayable = EXCLUDED.include_unplayable, updated_at = now()
        """,
        user_id,
        settings.include_unplayable,
    )
    return settings

"""Versioned SQL migrations, applied in order, each once, recorded in schema_migrations."""

from __future__ import annotations

from importlib import resources

from app.store.db import Database

# Serialises concurrent migrators (several backend instances starting at once).
_LOCK_KEY = 0x6D75736963  # "music"


def available() -> list[tuple[str, str]]:
    folder = resources.files("app.store") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text()) for p in files]


async def migrate(db: Database) -> list[str]:
    """Apply what is missing; return the versions applied now (empty when up to date)."""
    applied_now: list[str] = []
    async with db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in available():
            if version in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied_now.append(version)
    return applied_now

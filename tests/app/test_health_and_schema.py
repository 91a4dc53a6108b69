"""Health reports each part; migrations are idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from quart import Quart
from quart.testing.app import TestApp

from app.factory import create_app
from app.store.db import Database
from app.store.migrate import available, migrate
from tests.conftest import DATABASE_URL, make_settings


def _started(app: Quart) -> TestApp:
    # With Redis unreachable, start-up waits up to 5 s for the bus (realtime/bus.py) before
    # going on without it: more than Quart's default 6 s start-up limit leaves on a busy machine.
    return TestApp(app, startup_timeout=30)


async def test_health_names_redis_when_it_is_unreachable(tmp_path: Path, run_schema: str) -> None:
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    async with _started(app) as running:
        response = await running.test_client().get("/api/health")
        assert response.status_code == 503
        body = await response.get_json()
        assert body["redis"] == "down"
        assert body["postgres"] == "ok"
        assert "redis" in body["error"]["message"]


async def test_login_while_redis_is_down_is_a_503_not_a_500(tmp_path: Path, run_schema: str) -> None:
    app = create_app(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    async with _started(app) as running:
        response = await running.test_client().post(
            "/api/auth/login", json={"username": "someone", "password": "long enough password"}
        )
        assert response.status_code == 503
        assert (await response.get_json())["error"]["code"] == "service_unavailable"


async def test_migrations_run_twice_without_change(run_schema: str) -> None:
    schema = run_schema + "_mig"
    db = Database(DATABASE_URL, schema)
    await db.connect()
    try:
        first = await migrate(db)
        tables = {r["tablename"] for r in await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)}
        second = await migrate(db)
        assert first == [version for version, _ in available()]
        assert second == []
        assert {"users", "tracks", "listening_events", "user_moods", "mood_changes", "mixes",
                "schema_migrations"} <= tables
        recorded = await db.fetchval("SELECT count(*) FROM schema_migrations")
        assert recorded == len(first)
    finally:
        await db.close()
        conn = await asyncpg.connect(DATABASE_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def test_openapi_is_served(client: Any) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = await response.get_json()
    assert "/api/auth/login" in spec["paths"]

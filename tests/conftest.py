"""Shared fixtures: real PostgreSQL and Redis, isolated per test run by schema and key prefix."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from config import Settings

DATABASE_URL = os.environ.get("MUSICREC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MUSICREC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

RUN_ID = secrets.token_hex(4)


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    """Settings for one isolated app: its own schema, Redis prefix and data dir."""
    values: dict[str, Any] = {
        "database_url": DATABASE_URL,
        "redis_url": REDIS_URL,
        "db_schema": f"t_{RUN_ID}",
        "redis_prefix": f"test:{RUN_ID}:{secrets.token_hex(3)}:",
        "data_dir": tmp,
        "secret_key": "test-secret-key-not-for-production-0123456789",
        "demo_catalog": False,
        "static_dir": tmp / "no-static",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def run_schema() -> Iterator[str]:
    schema = f"t_{RUN_ID}"
    yield schema

    async def drop() -> None:
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
        r = aioredis.from_url(REDIS_URL)
        async for key in r.scan_iter(match=f"test:{RUN_ID}:*", count=1000):
            await r.delete(key)
        await r.aclose()

    asyncio.run(drop())


@pytest.fixture
def settings(tmp_path: Path, run_schema: str) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from app.factory import create_app

    quart_app = create_app(settings)
    async with quart_app.test_app() as test_app:
        yield test_app


@pytest.fixture
async def client(app: Any) -> Any:
    return app.test_client()


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}_{secrets.token_hex(5)}"

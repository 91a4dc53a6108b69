"""The Redis pool every client of this process uses (app/redis_pool.py), on the real Redis."""

from __future__ import annotations

import asyncio
import secrets
import time

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app.redis_pool import WaitingPool
from tests.conftest import REDIS_URL


async def test_callers_past_the_cap_wait_for_a_connection_instead_of_failing() -> None:
    client = Redis(connection_pool=WaitingPool.from_url(REDIS_URL, wait_s=5, max_connections=2))
    empty = f"test:pool:{secrets.token_hex(4)}"
    try:
        started = time.monotonic()
        answers = await asyncio.gather(*(client.blpop([empty], 0.2) for _ in range(6)))
        assert answers == [None] * 6
        assert time.monotonic() - started >= 0.55  # three rounds of two: they took turns
        assert len(client.connection_pool._in_use_connections) == 0
    finally:
        await client.aclose()


async def test_a_caller_that_waited_too_long_gets_a_clear_error_and_the_pool_still_serves() -> None:
    client = Redis(connection_pool=WaitingPool.from_url(REDIS_URL, wait_s=0.05, max_connections=1))
    empty = f"test:pool:{secrets.token_hex(4)}"
    try:
        slow, late = await asyncio.gather(client.blpop([empty], 0.3), client.blpop([empty], 0.3),
                                          return_exceptions=True)
        assert slow is None
        assert isinstance(late, RedisConnectionError) and "No connection available" in str(late)
        assert await client.ping()
    finally:
        await client.aclose()


async def test_commands_in_turn_reuse_one_connection() -> None:
    client = Redis(connection_pool=WaitingPool.from_url(REDIS_URL, wait_s=1, max_connections=4))
    try:
        for _ in range(200):
            await client.get("test:pool:none")
        pool = client.connection_pool
        assert len(pool._available_connections) + len(pool._in_use_connections) == 1
    finally:
        await client.aclose()

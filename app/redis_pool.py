"""The one way this process connects to Redis: a pool that waits for a free connection.

redis-py's default pool fails at once past 100 connections, and a burst of reconnecting
sockets (each handshake reads its session) would then be refused with 503s instead of being
served a moment later. Sized by settings.redis_pool_size / redis_pool_wait_s (128 / 10 s by
default: a burst of 1,000 handshakes at once, bench/ws_load.py, saw waits over 5 s with 64).
The HTTP side and the realtime session scripts each get a client of their own from here, so
a flood of one cannot starve the other, but both follow the same setting. The waiting is this
module's own (``WaitingPool``): only a caller that has to wait pays for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError

from config import Settings


class WaitingPool(ConnectionPool):
    """redis-py's pool, except that a caller finding all ``max_connections`` in use waits up to
    ``wait_s`` for one to be released instead of failing at once. redis-py's own
    BlockingConnectionPool waits too, but pays for its waiting (a condition, a timeout timer,
    an async context manager) on every command: 5 % of a busy server's CPU (the group
    benchmark's profile, docs/benchmarks.md). Here only a caller that has to wait pays."""

    def __init__(self, *, wait_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait_s = wait_s
        self._freed = asyncio.Condition()
        self._waiting = 0

    async def get_connection(
        self, command_name: Any = None, *keys: Any, **options: Any
    ) -> AbstractConnection:
        deadline: float | None = None
        while True:
            if self.can_get_connection():
                try:
                    return await super().get_connection()
                except MaxConnectionsError:
                    pass  # the last one was taken while the pool's lock was awaited: wait
            now = asyncio.get_running_loop().time()  # only a caller that has to wait gets here
            if deadline is None:
                deadline = now + self._wait_s
            await self._freed_within(deadline - now)

    async def _freed_within(self, seconds: float) -> None:
        """Wait until a connection can be had; ConnectionError after ``seconds``."""
        if seconds <= 0:
            raise RedisConnectionError("No connection available.")
        self._waiting += 1
        try:
            async with self._freed:
                await asyncio.wait_for(self._freed.wait_for(self.can_get_connection), seconds)
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        finally:
            self._waiting -= 1

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        if self._waiting:
            async with self._freed:
                self._freed.notify()


def connect_redis(settings: Settings) -> Redis:
    assert settings.redis_url is not None, "the Redis URL is resolved before clients are made"
    pool = WaitingPool.from_url(
        settings.redis_url, max_connections=settings.redis_pool_size, wait_s=settings.redis_pool_wait_s,
        socket_connect_timeout=2, socket_timeout=5, health_check_interval=30,
    )
    return Redis(connection_pool=pool)

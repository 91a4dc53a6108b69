"""The one way this process connects to Redis: a pool that waits for a free connection.

redis-py's default pool fails at once past 100 connections, and a burst of reconnecting
sockets (each handshake reads its session) would then be refused with 503s instead of being
served a moment later. Sized by settings.redis_pool_size / redis_pool_wait_s (128 / 10 s by
default: a burst of 1,000 handshakes at once, bench/ws_load.py, saw waits over 5 s with 64).
The HTTP side and the realtime session scripts each get a client of their own from here, so
a flood of one cannot starve the other, but both follow the same setting.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from config import Settings


def connect_redis(settings: Settings) -> Redis:
    assert settings.redis_url is not None, "the Redis URL is resolved before clients are made"
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=settings.redis_pool_size, timeout=settings.redis_pool_wait_s,
        socket_connect_timeout=2, socket_timeout=5, health_check_interval=30,
    )
    return Redis(connection_pool=pool)

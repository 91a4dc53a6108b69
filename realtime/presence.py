"""Open connections per user, across instances (key ``conns`` of realtime/session_keys.py),
and whether anyone listens to a user's channel at all.

A connection is counted against the per-user cap when it opens and refreshed by its instance
every little while; an instance that dies stops refreshing, and its entries expire on their own.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from realtime.session_keys import SessionKeys

CONN_TTL_S = 180  # a connection not refreshed this long belongs to a dead instance
REFRESH_CHUNK = 250

# KEYS: conns; ARGV: now expiry conn_id cap ttl
_CONNECT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class Presence:
    def __init__(self, redis: Redis, keys: SessionKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._connect = redis.register_script(_CONNECT)

    async def connect(self, user_id: int, conn_id: str, cap: int) -> bool:
        """Count a new connection against the per-user cap (across instances)."""
        now = time.time()
        ok = await self._connect(
            keys=[self._keys.key(user_id, "conns")], args=[now, now + CONN_TTL_S, conn_id, cap, CONN_TTL_S]
        )
        return bool(ok)

    async def disconnect(self, user_id: int, conn_id: str) -> None:
        await self._redis.zrem(self._keys.key(user_id, "conns"), conn_id)

    async def refresh_connections(self, conns: list[tuple[int, str]]) -> None:
        """Keep live connections counted; a crashed instance's entries expire on their own.

        In chunks: one pipeline for 10,000 connections would hold the event loop for a
        noticeable while, and every socket's frames with it.
        """
        expiry = time.time() + CONN_TTL_S
        for start in range(0, len(conns), REFRESH_CHUNK):
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, conn_id in conns[start : start + REFRESH_CHUNK]:
                    key = self._keys.key(user_id, "conns")
                    pipe.zadd(key, {conn_id: expiry}, xx=True)
                    pipe.expire(key, CONN_TTL_S)
                await pipe.execute()

    async def listeners(self, user_id: int) -> int:
        """Instances subscribed to this user's channel: zero means nobody is listening."""
        counts = await self._redis.pubsub_numsub(self._keys.channel(user_id))
        return int(counts[0][1]) if counts else 0

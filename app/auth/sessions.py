"""Server-side sessions: the cookie holds only an opaque id; Redis says whose it is."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis


class SessionStore:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_s

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self._prefix}user-sessions:{user_id}"

    async def create(self, user_id: int) -> str:
        """A fresh id at every login, so a planted cookie can never be upgraded (fixation)."""
        session_id = secrets.token_urlsafe(32)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session_id), str(user_id), ex=self._ttl)
            pipe.sadd(self._user_key(user_id), session_id)
            pipe.expire(self._user_key(user_id), self._ttl)
            await pipe.execute()
        return session_id

    async def user_id(self, session_id: str) -> int | None:
        value = await self._redis.get(self._key(session_id))
        return int(value) if value is not None else None

    async def revoke(self, session_id: str) -> None:
        user_id = await self.user_id(session_id)
        await self._redis.delete(self._key(session_id))
        if user_id is not None:
            await self._redis.srem(self._user_key(user_id), session_id)

    async def revoke_all(self, user_id: int) -> None:
        ids = await self._redis.smembers(self._user_key(user_id))
        keys = [self._key(i.decode() if isinstance(i, bytes) else i) for i in ids]
        if keys:
            await self._redis.delete(*keys)
        await self._redis.delete(self._user_key(user_id))

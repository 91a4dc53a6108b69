"""Login sessions, server-side: the cookie holds only an opaque id; Redis says whose it is.

(Not to be confused with a *listening* session, the live queue in realtime/session_state.py.)
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis


class LoginSessions:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_s

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    async def create(self, user_id: int) -> str:
        """A fresh id at every login, so a planted cookie can never be upgraded (fixation)."""
        session_id = secrets.token_urlsafe(32)
        await self._redis.set(self._key(session_id), str(user_id), ex=self._ttl)
        return session_id

    async def user_id(self, session_id: str) -> int | None:
        value = await self._redis.get(self._key(session_id))
        return int(value) if value is not None else None

    async def revoke(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id))

"""Failed-login counters in Redis, per account and per client address.

Invariant: a counter key always carries a TTL, set when its window opens (the first failure)
and never pushed back by later failures, so a window lasts ``window_s`` from its first failure.

Only commands Redis 6.2 has (the embedded default ships redis-server 6.2): ``SET ... EX NX``
opens the window and ``INCR`` keeps the TTL, both in one MULTI. ``EXPIRE ... NX`` would say the
same in one command but needs Redis 7.
"""

from __future__ import annotations

from redis.asyncio import Redis


class LoginLimiter:
    def __init__(self, redis: Redis, prefix: str, max_failures: int, window_s: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._max = max_failures
        # One address may try several accounts (a shared office), so it gets more room.
        self._max_per_address = max_failures * 4
        self._window = window_s

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return (
            f"{self._prefix}login-fail:user:{username.casefold()}",
            f"{self._prefix}login-fail:addr:{address}",
        )

    async def retry_after(self, username: str, address: str) -> int | None:
        """Seconds to wait when either counter is exhausted, else None."""
        user_key, addr_key = self._keys(username, address)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(user_key)
            pipe.get(addr_key)
            pipe.ttl(user_key)
            pipe.ttl(addr_key)
            user_n, addr_n, user_ttl, addr_ttl = await pipe.execute()
        waits = []
        if user_n is not None and int(user_n) >= self._max:
            waits.append(max(int(user_ttl), 1))
        if addr_n is not None and int(addr_n) >= self._max_per_address:
            waits.append(max(int(addr_ttl), 1))
        return max(waits) if waits else None

    async def failed(self, username: str, address: str) -> None:
        """Count one failure against the account and the address."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(username, address):
                pipe.set(key, 0, ex=self._window, nx=True)  # opens the window; a no-op inside one
                pipe.incr(key)  # INCR leaves the TTL as it is
            await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self._redis.delete(self._keys(username, "-")[0])

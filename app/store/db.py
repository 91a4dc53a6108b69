"""The asyncpg pool, confined to one schema so test runs can isolate themselves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from app.store.wal_flush import WalFlush


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a released connection gets instead of asyncpg's default reset query (unlock all
    advisory locks, close cursors, unlisten, RESET ALL): one more round trip on every release,
    about a tenth of the feedback path's time under load. Nothing here leaves session state
    behind: no LISTEN, no session SET (the search path is a start-up parameter), no cursors
    outside transactions, and the one session-level advisory lock (app/collab_training.py)
    is released in a ``finally``. An open transaction is still rolled back by asyncpg itself
    before this runs."""
    return None


class Database:
    """Owns the connection pool; the query modules take a Database or a connection."""

    def __init__(self, url: str, schema: str = "public", min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        self._min = min_size
        self._max = max_size
        self._pool: asyncpg.Pool | None = None
        self._flush = WalFlush(self)

    async def connect(self, connect_timeout_s: float = 10.0) -> None:
        if self.schema != "public":
            # The schema must exist before a pool can put it on the search path.
            conn = await asyncpg.connect(self.url, timeout=connect_timeout_s)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            except asyncpg.UniqueViolationError:
                pass  # another instance created it at the same moment: IF NOT EXISTS is not atomic
            finally:
                await conn.close()
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=self._min,
            max_size=self._max,
            timeout=connect_timeout_s,
            command_timeout=30,
            init=_init_connection,
            reset=_keep_session,
            server_settings={"search_path": self.schema},
        )

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("Database.connect() has not run")
        return self._pool

    async def flushed(self) -> None:
        """Everything this caller committed with synchronous_commit off is durable on return
        (app/store/wal_flush.py)."""
        await self._flush.wait()

    async def close(self) -> None:
        await self._flush.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self.pool.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return str(await self.pool.execute(query, *args))

    async def ping(self) -> bool:
        try:
            return await self.pool.fetchval("SELECT 1", timeout=2) == 1
        except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError):
            return False

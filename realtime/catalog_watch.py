"""Fills empty queues when the catalog changes: the first start's demo load, an import, an
index rebuild, on whichever instance or tool did it.

Every catalog write bumps ``catalog_meta.version`` in PostgreSQL, so each instance polls that
one row (every POLL_S) rather than relying on the writer to tell it. On a change, every user
with a connection here is asked for a recompute with reason "catalog", which only fills a
queue that is empty (UserQueues._recompute): listeners who already have music keep it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.store import tracks
from app.store.db import Database
from realtime.hub import Hub
from realtime.user_queue import UserQueues

log = logging.getLogger("musicrec.realtime")

POLL_S = 1.0


class CatalogWatch:
    def __init__(self, db: Database, hub: Hub, queues: UserQueues, poll_s: float = POLL_S) -> None:
        self._db = db
        self._hub = hub
        self._queues = queues
        self._poll_s = poll_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="catalog-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        seen: str | None = None
        while True:
            try:
                version = await tracks.catalog_version(self._db)
            except Exception as exc:  # PostgreSQL away: health reports it; try again later
                log.debug("catalog version unavailable: %s", exc)
            else:
                if seen is not None and version != seen:
                    self._queues.refresh_empty(self._hub.local_users())
                seen = version
            await asyncio.sleep(self._poll_s)

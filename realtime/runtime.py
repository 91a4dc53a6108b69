"""The realtime layer of one app instance, built at start-up and kept in AppState.extras.

The composition root of realtime/: every part is built here, each from parts built before it,
so every dependency points one way (a part never receives a reference after construction):

    Hub (connections, bus)  <-  UserQueues  <-  ConnectionStream  <-  GroupLiveService  <-  FrameDispatch

Events that must travel up (the bus reconnected, a member leaves a group's stream, group
presence to refresh, a group frame heard, a queue frame published) go through one object:
``Realtime`` itself, the listener the Hub and the queues are given (``HubListener``,
``QueueListener``, the protocols they define). It passes each event to the part above that
acts on it. Events flow only between start() and stop(), when every part exists.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from app.redis_pool import connect_redis
from app.state import AppState
from realtime.catalog_watch import CatalogWatch
from realtime.connection import Connection
from realtime.dispatch import FrameDispatch
from realtime.engine_source import EngineSource
from realtime.group_live import GroupLiveService
from realtime.group_rows import GroupRowCache
from realtime.group_source import GroupSource
from realtime.group_state import GroupState
from realtime.hub import Hub
from realtime.presence import Presence
from realtime.queue_frames import QueueSnapshot
from realtime.resume_log import ResumeLog
from realtime.session_keys import SessionKeys, stream_group
from realtime.session_state import SessionState
from realtime.stream import ConnectionStream
from realtime.track_cache import TrackCache
from realtime.user_queue import UserQueues

EXTRAS_KEY = "realtime"


class Realtime:
    def __init__(self, state: AppState) -> None:
        settings = state.settings
        assert settings.redis_url is not None
        self._group_idle_s = settings.group_idle_end_s
        self.redis: Redis = connect_redis(settings)  # the session scripts' own client (app/redis_pool.py)
        keys = SessionKeys(settings.redis_prefix)
        self.state = SessionState(self.redis, keys)
        self.log = ResumeLog(self.redis, keys, settings.ws_resume_window)
        self.presence = Presence(self.redis, keys)
        self.hub = Hub(self.presence, settings.redis_url, settings.redis_prefix, settings.ws_idle_timeout_s,
                       listener=self)
        catalog = TrackCache(state.db)
        self.gstate = GroupState(self.redis, keys)
        self.rows = GroupRowCache(state.db)
        source = GroupSource(state, EngineSource(state), self.gstate, self.rows)
        self.queues = UserQueues(state, self.state, self.log, self.presence, self.hub, source, catalog,
                                 settings.ws_coalesce_ms / 1000, listener=self)
        self.stream = ConnectionStream(state, self.log, self.hub, self.queues, catalog)
        self.groups = GroupLiveService(state, self.gstate, self.rows, self.log, self.hub, self.queues,
                                       self.stream)
        self.dispatch = FrameDispatch(state, self.stream, self.queues, catalog, self.groups)
        self.catalog_watch = CatalogWatch(state.db, self.hub, self.queues)

    # -- the listener of the Hub and the queues ----------------------------------------------

    async def resync(self, conn: Connection) -> None:
        group_id = stream_group(conn.stream)
        if group_id is not None:  # the group's frames meanwhile may be lost: its rows are read again
            self.rows.forget(group_id)
        await self.stream.resync(conn)

    def group_frame(self, stream: int, view: object) -> None:
        group_id = stream_group(stream)
        if group_id is not None:
            self.rows.heard(group_id, view)

    async def group_exit(self, conn: Connection, status: str, view: dict[str, Any] | None) -> None:
        await self.groups.exit(conn, status, view)

    async def refresh_groups(self, entries: list[tuple[int, int, str]]) -> None:
        await self.gstate.refresh(entries, self._group_idle_s)

    async def queue_published(self, stream: int, snapshot: QueueSnapshot) -> None:
        await self.groups.on_queue_published(stream, snapshot)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self.hub.start()
        self.catalog_watch.start()
        self.groups.start()

    async def stop(self) -> None:
        await self.groups.stop()
        await self.catalog_watch.stop()
        await self.queues.close()
        await self.hub.stop()
        await self.redis.aclose(close_connection_pool=True)

    def stats(self) -> dict[str, float]:
        q = self.queues.stats
        return {
            "connections": self.hub.connections,
            "subscribed_users": self.hub.bus.users,
            "bus_reconnects": self.hub.bus.reconnects,
            "queues_computed": q.computed,
            "queues_published": q.published,
            "queues_stale": q.stale,
            "at": time.time(),
        }


def get_realtime(state: AppState) -> Realtime | None:
    found = state.extras.get(EXTRAS_KEY)
    return found if isinstance(found, Realtime) else None

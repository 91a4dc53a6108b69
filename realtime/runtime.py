"""The realtime layer of one app instance, built at start-up and kept in AppState.extras."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis

from app.redis_pool import connect_redis
from app.state import AppState
from realtime.catalog_watch import CatalogWatch
from realtime.engine_source import EngineSource
from realtime.group_live import GroupLiveService
from realtime.group_source import GroupSource
from realtime.group_state import GroupState
from realtime.hub import Hub
from realtime.presence import Presence
from realtime.resume_log import ResumeLog
from realtime.session import Sessions
from realtime.session_keys import SessionKeys
from realtime.session_state import SessionState
from realtime.track_cache import TrackCache
from realtime.user_queue import UserQueues

EXTRAS_KEY = "realtime"


@dataclass(slots=True)
class Realtime:
    redis: Redis
    state: SessionState
    log: ResumeLog
    presence: Presence
    hub: Hub
    queues: UserQueues
    sessions: Sessions
    catalog_watch: CatalogWatch
    groups: GroupLiveService

    @classmethod
    def build(cls, state: AppState) -> Realtime:
        settings = state.settings
        assert settings.redis_url is not None
        redis = connect_redis(settings)  # the session scripts' own client (app/redis_pool.py)
        keys = SessionKeys(settings.redis_prefix)
        session_state = SessionState(redis, keys)
        log = ResumeLog(redis, keys, settings.ws_resume_window)
        presence = Presence(redis, keys)
        hub = Hub(presence, settings.redis_url, settings.redis_prefix, settings.ws_idle_timeout_s)
        catalog = TrackCache(state.db)
        gstate = GroupState(redis, keys)
        source = GroupSource(state, EngineSource(state), gstate)
        queues = UserQueues(state, session_state, log, presence, hub, source, catalog,
                            settings.ws_coalesce_ms / 1000)
        groups = GroupLiveService(state, gstate, log, hub, queues)
        queues.on_published = groups.on_queue_published
        sessions = Sessions(state, log, hub, queues, catalog, groups)
        hub.resync = sessions.resync
        hub.on_group_exit = groups.exit
        hub.refresh_groups = lambda entries: gstate.refresh(entries, settings.group_idle_end_s)
        return cls(redis, session_state, log, presence, hub, queues, sessions,
                   CatalogWatch(state.db, hub, queues), groups)

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

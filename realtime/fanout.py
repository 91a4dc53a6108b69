"""The realtime layer's LiveFanout (app/fanout.py): changes made durable by the services reach
the user's live session in Redis, and through it every open connection on every instance.

Registered in AppState at start-up by realtime/ws.py. Each call updates the shared session and,
when someone is listening on any instance, recomputes the queue here; the new queue reaches
every connection of the user through pub/sub. A Redis failure is logged, never raised: the
change is durable, and the session catches up at the next change or reconnect.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.fanout import GroupLive
from app.store.events import Event
from app.store.moods import StoredMood
from app.store.settings import UserSettings
from realtime.group_live import GroupLiveService
from realtime.hub import Hub
from realtime.session_keys import group_stream
from realtime.user_queue import UserQueues

log = logging.getLogger("musicrec.realtime")


class RealtimeFanout:
    def __init__(self, queues: UserQueues, hub: Hub, groups: GroupLiveService) -> None:
        self._queues = queues
        self._hub = hub
        self._groups = groups

    def live_users(self) -> set[int]:
        return self._hub.local_users()

    async def feedback(self, user_id: int, event: Event) -> None:
        try:
            await self._queues.on_event(user_id, event.track_id, event.action)
        except (RedisError, OSError) as exc:
            log.warning("feedback %s not published: %s", event.id, exc)

    async def mood(self, user_id: int, mood: StoredMood) -> None:
        try:
            await self._queues.on_mood(user_id, mood)
        except (RedisError, OSError) as exc:
            log.warning("mood change of user %s not published: %s", user_id, exc)

    async def settings(self, user_id: int, settings: UserSettings) -> None:
        try:
            await self._queues.on_settings(user_id, settings)
        except (RedisError, OSError) as exc:
            log.warning("settings change of user %s not published: %s", user_id, exc)

    async def refresh(self, user_id: int, reason: str) -> None:
        try:
            await self._queues.on_refresh(user_id, reason)
        except (RedisError, OSError) as exc:
            log.warning("%s change of user %s not published: %s", reason, user_id, exc)

    async def group_changed(self, group_id: int) -> None:
        self._groups.rows.forget(group_id)  # read again for the frame, and here at once
        try:
            await self._groups.publish_group(group_id)
            await self._queues.on_refresh(group_stream(group_id), "members")
        except (RedisError, OSError) as exc:
            log.warning("change of group %s not published: %s", group_id, exc)

    async def group_mood(self, group_id: int, mood: StoredMood) -> None:
        self._groups.rows.forget(group_id)
        try:
            await self._queues.on_mood(group_stream(group_id), mood)
        except (RedisError, OSError) as exc:
            log.warning("mood change of group %s not published: %s", group_id, exc)

    async def group_exit(self, group_id: int, user_ids: list[int], status: str) -> None:
        self._groups.rows.forget(group_id)
        try:
            await self._groups.publish_exit(group_id, user_ids, status)
        except (RedisError, OSError) as exc:
            log.warning("exit of %s from group %s not published: %s", user_ids, group_id, exc)

    async def group_live(self, group_id: int) -> GroupLive:
        try:
            return await self._groups.live(group_id)
        except (RedisError, OSError) as exc:
            log.warning("live state of group %s unavailable: %s", group_id, exc)
            return GroupLive()

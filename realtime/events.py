"""Publishing helpers for the write path (app/listening.py), shared by HTTP and WebSocket.

Both are called after the change is durable in PostgreSQL. They update the user's shared
session in Redis and, when someone is listening on any instance, recompute the queue here;
the new queue reaches every connection of the user through pub/sub. When the realtime layer
is not running (a tool, a test app) they do nothing: the session is rebuilt from
PostgreSQL at the next hello.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from app.state import AppState
from app.store.events import Event
from app.store.moods import StoredMood
from app.views import mood_json
from realtime.runtime import get_realtime

log = logging.getLogger("musicrec.realtime")


async def publish_feedback(state: AppState, user_id: int, event: Event) -> None:
    realtime = get_realtime(state)
    if realtime is None:
        return
    try:
        await realtime.queues.on_event(user_id, event.track_id, event.action)
    except (RedisError, OSError) as exc:
        # The event is durable; live queues catch up at the next change or reconnect.
        log.warning("feedback %s not published: %s", event.id, exc)


async def publish_mood(state: AppState, user_id: int, mood: StoredMood) -> None:
    realtime = get_realtime(state)
    if realtime is None:
        return
    try:
        await realtime.queues.on_mood(user_id, mood_json(mood))
    except (RedisError, OSError) as exc:
        log.warning("mood change of user %s not published: %s", user_id, exc)


async def publish_refresh(state: AppState, user_id: int, reason: str) -> None:
    """Something the queue depends on changed outside the session (the user's settings)."""
    realtime = get_realtime(state)
    if realtime is None:
        return
    try:
        await realtime.queues.on_refresh(user_id, reason)
    except (RedisError, OSError) as exc:
        log.warning("%s change of user %s not published: %s", reason, user_id, exc)

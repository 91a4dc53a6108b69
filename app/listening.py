"""The write path shared by HTTP and the WebSocket: persist first, then publish.

An event is durable in PostgreSQL before anyone is told (ack, 202, or a queue update). Live
fan-out leaves through AppState.fanout (app/fanout.py), which the realtime layer implements;
nothing here knows it exists.
"""

from __future__ import annotations

import asyncpg

from app import quickmix_cache
from app.errors import ApiError
from app.state import AppState
from app.store import events, moods
from app.store.events import Event
from app.store.moods import StoredMood
from app.store.settings import UserSettings, put_settings
from recsys.actions import TASTE
from recsys.moods import MoodSpec


async def record_feedback(
    state: AppState,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    ref: str | None,
) -> tuple[Event | None, bool]:
    """Store the event (idempotent on ref) and publish it when it is new. A like of a liked
    track (or an unlike of one not liked) changes nothing: (None, False)."""
    try:
        # The foreign key answers "does the track exist" in the same round trip as the insert.
        event, created = await events.record(state.db, user_id, track_id, action, position_ms, ref)
    except asyncpg.ForeignKeyViolationError as exc:
        if "track" not in (exc.constraint_name or ""):
            raise
        raise ApiError(404, "track_not_found", f"no track with id {track_id}") from None
    if created and event is not None:
        if action in TASTE:
            await quickmix_cache.bump_profile(state, user_id)
        await state.fanout.feedback(user_id, event)
    return event, created


async def change_mood(state: AppState, user_id: int, spec: MoodSpec) -> StoredMood:
    mood = await moods.set_mood(state.db, user_id, spec.preset, spec.text, spec.energy, spec.valence)
    await state.fanout.mood(user_id, mood)
    return mood


async def change_settings(state: AppState, user_id: int, settings: UserSettings) -> UserSettings:
    """Persist the settings; Quick Mix caches fall away and live queues are recomputed."""
    stored = await put_settings(state.db, user_id, settings)
    await quickmix_cache.bump_profile(state, user_id)
    await state.fanout.refresh(user_id, "settings")
    return stored

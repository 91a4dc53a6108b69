"""The write path shared by HTTP and the WebSocket: persist first, then publish.

An event is durable in PostgreSQL before anyone is told (ack, 202, or a queue update).
"""

from __future__ import annotations

from app import quickmix_cache
from app.errors import ApiError
from app.state import AppState
from app.store import events, moods, tracks
from app.store.events import Event
from app.store.moods import StoredMood
from recsys.moods import MoodSpec

# Feedback that says something about taste; "play" alone does not change the profile.
TASTE_ACTIONS = {"like", "dislike", "skip", "complete"}


async def record_feedback(
    state: AppState,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    ref: str | None,
) -> tuple[Event, bool]:
    """Store the event (idempotent on ref) and publish it when it is new."""
    if not await tracks.existing_ids(state.db, [track_id]):
        raise ApiError(404, "track_not_found", f"no track with id {track_id}")
    event, created = await events.record(state.db, user_id, track_id, action, position_ms, ref)
    if created:
        if action in TASTE_ACTIONS:
            await quickmix_cache.bump_profile(state, user_id)
        from realtime.events import publish_feedback

        await publish_feedback(state, user_id, event)
    return event, created


async def change_mood(state: AppState, user_id: int, spec: MoodSpec) -> StoredMood:
    mood = await moods.set_mood(state.db, user_id, spec.preset, spec.text, spec.energy, spec.valence)
    from realtime.events import publish_mood

    await publish_mood(state, user_id, mood)
    return mood

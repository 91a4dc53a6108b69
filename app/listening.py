"""The write path shared by HTTP and the WebSocket: persist first, then publish.

An event is durable in PostgreSQL before anyone is told (ack, 202, or a queue update). Live
fan-out leaves through AppState.fanout (app/fanout.py), which the realtime layer implements;
nothing here knows it exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import asyncpg

from app import quickmix_cache
from app.errors import ApiError
from app.library_board import playable_filter
from app.state import AppState
from app.store import events, moods, taste_history
from app.store.events import Event
from app.store.moods import StoredMood
from app.store.settings import UserSettings, get_settings, put_settings
from recsys.actions import TASTE
from recsys.engine import named_vectors
from recsys.index.base import TrackFilter
from recsys.moods import MoodSpec
from recsys.taste import Taste, TasteRow, build_taste

# Called with every new durable event in a background task (never delaying or failing the
# ack): e.g. scrobbling to a listener's own library server (app.library.feed_back).
FeedbackHook = Callable[[AppState, Event], Awaitable[None]]
_HOOKS = "feedback_hooks"
_HOOK_TASKS = "feedback_hook_tasks"
log = logging.getLogger("musicrec.listening")
P = ParamSpec("P")
T = TypeVar("T")


def add_feedback_hook(state: AppState, hook: FeedbackHook) -> None:
    hooks: list[FeedbackHook] = state.extras.setdefault(_HOOKS, [])
    if hook not in hooks:
        hooks.append(hook)


def _run_hooks(state: AppState, event: Event) -> None:
    tasks: set[asyncio.Task[None]] = state.extras.setdefault(_HOOK_TASKS, set())
    for hook in state.extras.get(_HOOKS, []):
        task = asyncio.create_task(_guarded(hook, state, event))
        tasks.add(task)  # a reference, so the task is not collected mid-flight
        task.add_done_callback(tasks.discard)


async def _guarded(hook: FeedbackHook, state: AppState, event: Event) -> None:
    try:
        await hook(state, event)
    except Exception:
        log.exception("a feedback hook failed for event %d", event.id)


@asynccontextmanager
async def feedback_recorded(
    state: AppState,
    user_id: int,
    track_id: int,
    action: str,
    position_ms: int | None,
    ref: str | None,
    group_id: int | None = None,
) -> AsyncIterator[tuple[Event | None, bool]]:
    """Store the event (idempotent on ref) and yield (event, created) before it is durable
    (app.store.events.recording: why); the exit returns once it is. A like of a liked track (or
    an unlike of one not liked) changes nothing: (None, False).

    A new event of the listener's own session is published to it before the block, so their
    queue changes without waiting for the disk; one made in a listening group carries the group
    and steers the group's queue, which is the block's job (realtime/group_live.py). Quick Mix
    caches fall away and the feedback hooks run once the event is durable: a mix computed from
    PostgreSQL in between must not be kept as the new one."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            # The foreign key answers "does the track exist" in the same round trip as the insert.
            recorded = await stack.enter_async_context(
                events.recording(state.db, user_id, track_id, action, position_ms, ref, group_id))
        except asyncpg.ForeignKeyViolationError as exc:
            if "track" not in (exc.constraint_name or ""):
                raise
            raise ApiError(404, "track_not_found", f"no track with id {track_id}") from None
        event, created = recorded.event, recorded.created
        if created and event is not None and group_id is None:
            await state.fanout.feedback(user_id, event)
        try:
            yield event, created
        finally:
            # Also when the block failed: the event is stored all the same (as before the block
            # existed), so what follows a stored event follows it. Not when the flush failed.
            await recorded.durable()
            if created and event is not None:
                if action in TASTE:
                    await quickmix_cache.bump_profile(state, user_id)
                _run_hooks(state, event)


def _settled(recording: Callable[P, AbstractAsyncContextManager[T]]) -> Callable[P, Awaitable[T]]:
    """The awaitable form of a recording context, for callers with nothing to do before the
    outcome is durable."""

    async def settled(*args: P.args, **kwargs: P.kwargs) -> T:
        async with recording(*args, **kwargs) as outcome:
            return outcome

    return settled


# feedback_recorded, returning (event, created) once the event is durable.
record_feedback = _settled(feedback_recorded)


async def change_mood(state: AppState, user_id: int, spec: MoodSpec) -> StoredMood:
    mood = await moods.set_mood(state.db, user_id, spec.preset, spec.text, spec.energy, spec.valence)
    await state.fanout.mood(user_id, mood)
    return mood


async def change_settings(state: AppState, user_id: int, settings: UserSettings) -> UserSettings:
    """Persist the settings; Quick Mix caches fall away and live queues are recomputed."""
    stored = await put_settings(state.db, user_id, settings)
    await quickmix_cache.bump_profile(state, user_id)
    await state.fanout.settings(user_id, stored)
    return stored


def hearing_filter(settings: UserSettings, base: TrackFilter | None = None) -> TrackFilter:
    """The filter of what a listener *hears* (live queue, Quick Mix): only tracks that can play
    on this server, unless their settings include the rest, and nothing from a library server
    that is down. Discovery (recommendations, search, similar) shows everything."""
    flt = base if base is not None else TrackFilter()
    flt.playable_only = not settings.include_unplayable
    return playable_filter(flt)


async def listening_filter(state: AppState, user_id: int, base: TrackFilter | None = None) -> TrackFilter:
    """hearing_filter with the listener's stored settings."""
    return hearing_filter(await get_settings(state.db, user_id), base)


async def session_seed(
    state: AppState, user_id: int, events_kept: int
) -> tuple[StoredMood | None, list[Event], UserSettings]:
    """What a live session is rebuilt from: the user's mood, latest events (oldest first) and
    settings."""
    return (await moods.get_mood(state.db, user_id), await events.latest(state.db, user_id, events_kept),
            await get_settings(state.db, user_id))


# A listener's long-term taste, kept in this process per user with the profile version it was
# built at. Within TASTE_REUSE_S of loading it is reused even after the version moved: the
# live session's own feedback steers then (counting it twice would be wrong), so in practice
# the taste is loaded once per session start. Later, a changed version loads it again.
TASTE_REUSE_S = 15 * 60
UNDATED_AGE_DAYS = 365.0  # an aggregated import row (play counts, no dates) counts as a year old
_TASTES = "tastes"
_TASTE_LOADS = "taste_loads"


async def listener_taste(state: AppState, user_id: int) -> Taste | None:
    """The user's taste (recsys.taste) from their history; None for a user without one. Never
    fails a queue: a failed load is logged and counts as no taste."""
    if state.engine is None or user_id <= 0:
        return None
    raw = await state.redis.get(quickmix_cache.profile_key(state, user_id))
    return await _taste_at(state, user_id, _version(raw))


async def listener_tastes(state: AppState, user_ids: Sequence[int]) -> list[Taste | None]:
    """``listener_taste`` of several users (a group's members), their profile versions read in
    one round trip, and not at all while every one of the tastes was loaded lately."""
    engine = state.engine
    if engine is None or not user_ids:
        return [None] * len(user_ids)
    # Tastes all loaded lately are reused whatever their versions: no need to read those (a
    # group's recompute, at every member's reaction).
    cache = _taste_cache(state)
    kept = [cache.get(uid) for uid in user_ids]
    if all(c is not None and _loaded_lately(c) for c in kept):
        return [c[2] for c in kept if c is not None]
    raws = await state.redis.mget([quickmix_cache.profile_key(state, uid) for uid in user_ids])
    return list(await asyncio.gather(*(_taste_at(state, uid, _version(raw))
                                       for uid, raw in zip(user_ids, raws, strict=True))))


_CachedTaste = tuple[str, float, Taste | None]  # (profile version, loaded at, taste)


def _taste_cache(state: AppState) -> dict[int, _CachedTaste]:
    cache: dict[int, _CachedTaste] = state.extras.setdefault(_TASTES, {})
    return cache


def _loaded_lately(cached: _CachedTaste) -> bool:
    """Within TASTE_REUSE_S of loading a taste is reused even after its version moved."""
    return time.monotonic() - cached[1] < TASTE_REUSE_S


def _version(raw: object) -> str:
    """A profile version as Redis returns it (bytes, or None before the first change)."""
    return raw.decode() if isinstance(raw, bytes) else str(raw or 0)


async def _taste_at(state: AppState, user_id: int, version: str) -> Taste | None:
    """The user's taste for their profile ``version``: the cached one, else loaded."""
    if user_id <= 0:
        return None
    cache = _taste_cache(state)
    cached = cache.get(user_id)
    if cached is not None and (cached[0] == version or _loaded_lately(cached)):
        return cached[2]
    # Several tabs starting at once share one load.
    loads: dict[int, asyncio.Future[Taste | None]] = state.extras.setdefault(_TASTE_LOADS, {})
    pending = loads.get(user_id)
    if pending is None:
        pending = loads[user_id] = asyncio.ensure_future(_load_taste(state, user_id))
        pending.add_done_callback(lambda done: _load_finished(loads, user_id, done))
    try:
        taste = await asyncio.shield(pending)
    except Exception:
        log.exception("the taste of user %d could not be loaded; the session starts from the mood", user_id)
        return None
    cache[user_id] = (version, time.monotonic(), taste)
    return taste


def _load_finished(
    loads: dict[int, asyncio.Future[Taste | None]], user_id: int, done: asyncio.Future[Taste | None]
) -> None:
    loads.pop(user_id, None)
    # Retrieved here too: a load still running when its caller went away (a socket closed,
    # the server stopping) must not end as "exception never retrieved".
    if not done.cancelled() and done.exception() is not None:
        log.debug("a taste load of user %d failed: %r", user_id, done.exception())


async def _load_taste(state: AppState, user_id: int) -> Taste | None:
    engine = state.engine
    assert engine is not None
    past = await taste_history.recent_outcomes(state.db, user_id, engine.tuning.taste_max_rows)
    if not past:
        return None
    points = await engine.points({p.track_id for p in past if p.track_id is not None})
    now = datetime.now(UTC)
    rows = []
    for p in past:
        point = points.get(p.track_id) if p.track_id is not None else None
        vectors = named_vectors(point) if point is not None else {}
        age = UNDATED_AGE_DAYS if p.at is None else max((now - p.at).total_seconds(), 0.0) / 86400.0
        version = point.payload.get("collab_version") if point is not None else None
        rows.append(TasteRow(p.outcome, age, vectors, p.artists, p.weight, version))
    return await asyncio.to_thread(build_taste, rows, engine.tuning)

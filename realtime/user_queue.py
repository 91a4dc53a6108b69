"""Each user's shared queue: rebuilt from PostgreSQL when Redis has no session, changed by
events, moods and `next`, and recomputed by the engine on the instance that saw the change.

A recompute takes a consistent snapshot of the session (at ``ver``), asks the engine for the
upcoming tracks, renders the frame, and hands both to ResumeLog.publish_queue, which
publishes only if ``ver`` is unchanged. So one instance computes for all of the user's tabs,
bursts are coalesced (realtime.coalesce), and a stale result is dropped, never shown.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

import msgpack

from app.listening import session_seed
from app.state import AppState
from app.store import events as event_store
from app.store import groups
from app.store.moods import StoredMood
from app.store.settings import UserSettings
from app.views import mood_label
from realtime.coalesce import Coalescer
from realtime.hub import Hub
from realtime.presence import Presence
from realtime.queue_frames import QueueSnapshot, Ranked
from realtime.resume_log import ResumeLog
from realtime.session_keys import stream_group
from realtime.session_state import EVENTS_KEPT, SessionState, Snapshot
from realtime.track_cache import TrackCache
from recsys.actions import excludes

log = logging.getLogger("musicrec.realtime")

QUEUE_SIZE = 20  # upcoming tracks in a queue frame

# The queue frame's "reason": why the upcoming list changed, in the listener's words.
_REASONS = {
    "start": "Picked for your session",
    "mood": "New mood",
    "like": "Tuned toward what you liked",
    "complete": "More like what you played through",
    "skip": "Steering away from what you skipped",
    "dislike": "Steering away from what you disliked",
    "play": "Updated for what you are playing",
    "unlike": "Like taken back",
    "next": "Next up",
    "play_now": "Playing your pick",
    "settings": "Settings changed",
    "catalog": "The catalog is ready",
    "library": "A music library went offline or came back",
    "queue_add": "A track was put next",
    "members": "Updated for who is here",
}


class QueueSource(Protocol):
    """Where upcoming tracks come from (the engine; a stand-in in some tests)."""

    async def upcoming(self, session: Snapshot, size: int) -> list[Ranked]: ...


class QueueListener(Protocol):
    """Told of every queue frame published (realtime/runtime.py passes it on to the group
    layer, which restarts a group's shared playback on a new track)."""

    async def queue_published(self, stream: int, snapshot: QueueSnapshot) -> None: ...


@dataclass(slots=True)
class QueueStats:
    computed: int = 0
    published: int = 0
    stale: int = 0


def reason_text(code: str, mood: StoredMood | None) -> str:
    text = _REASONS.get(code, "Your queue")
    if code in ("mood", "start") and mood is not None:
        return f"{text}: {mood_label(mood.spec.preset, mood.spec.text)}"
    return text


class UserQueues:
    def __init__(
        self,
        state: AppState,
        session_state: SessionState,
        log: ResumeLog,
        presence: Presence,
        hub: Hub,
        source: QueueSource,
        catalog: TrackCache,
        coalesce_s: float,
        listener: QueueListener,
    ) -> None:
        self._state = state
        self._catalog = catalog
        self._sessions = session_state
        self._log = log
        self._presence = presence
        self._hub = hub
        self.source = source
        self.coalescer = Coalescer(self._recompute, coalesce_s)
        self.stats = QueueStats()
        self._rebuilding: dict[int, asyncio.Future[None]] = {}
        self._listener = listener

    async def close(self) -> None:
        await self.coalescer.close()

    async def rebuild(self, user_id: int) -> None:
        """Create the Redis session from PostgreSQL: the mood and the latest events.

        Several tabs of a returning user say hello at once; they share one rebuild.
        """
        pending = self._rebuilding.get(user_id)
        if pending is None:
            pending = self._rebuilding[user_id] = asyncio.ensure_future(self._rebuild(user_id))
            pending.add_done_callback(lambda _: self._rebuilding.pop(user_id, None))
        await asyncio.shield(pending)

    async def _rebuild(self, user_id: int) -> None:
        group_id = stream_group(user_id)
        if group_id is not None:
            await self._rebuild_group(user_id, group_id)
            return
        stored, latest, settings = await session_seed(self._state, user_id, EVENTS_KEPT)
        excluded = {e.track_id for e in latest if excludes(e.action)}
        await self._sessions.init(
            user_id, stored, [(e.track_id, e.action) for e in latest], excluded, settings
        )

    async def _rebuild_group(self, stream: int, group_id: int) -> None:
        """A group's session from PostgreSQL: its mood and every member's latest events in it."""
        group = await groups.by_id(self._state.db, group_id)
        if group is None:
            return
        mood = StoredMood.from_record(group.mood) if group.mood else None
        latest = await event_store.group_latest(self._state.db, group_id, EVENTS_KEPT)
        excluded = {e.track_id for e in latest if excludes(e.action)}
        await self._sessions.init(stream, mood, [(e.track_id, e.action) for e in latest], excluded)

    def request(self, user_id: int, reason: str) -> None:
        """Recompute soon (coalesced with other requests for the user)."""
        self.coalescer.poke(user_id, reason)

    async def on_event(self, user_id: int, track_id: int, action: str) -> None:
        """A durable event (from any instance's HTTP or WebSocket) enters the session."""
        if await self._sessions.apply_event(user_id, track_id, action) is not None:
            await self._changed(user_id, action)

    async def apply(self, stream: int, track_id: int, action: str, advance: bool) -> int | None:
        """An event whose effect on now-playing the caller decided (a group's skip rules)."""
        ver = await self._sessions.apply_event(stream, track_id, action, advance)
        if ver is not None:
            await self._changed(stream, action)
        return ver

    async def on_mood(self, user_id: int, mood: StoredMood | None) -> None:
        if await self._sessions.set_mood(user_id, mood) is not None:
            await self._changed(user_id, "mood")

    async def on_settings(self, user_id: int, settings: UserSettings) -> None:
        if await self._sessions.set_settings(user_id, settings) is not None:
            await self._changed(user_id, "settings")

    async def on_refresh(self, user_id: int, reason: str) -> None:
        """Something outside the session that the queue depends on changed (settings, a
        library's status)."""
        if await self._sessions.bump(user_id) is not None:
            await self._changed(user_id, reason)

    async def play_now(self, user_id: int, track_id: int) -> None:
        """The listener picked a track (search, similar, a queued row, previous): it plays now."""
        picked = Ranked(track_id, 0.0, "your pick")
        if await self._sessions.play_now(user_id, picked) is None:
            await self.rebuild(user_id)
            await self._sessions.play_now(user_id, picked)
        self.request(user_id, "play_now")

    def refresh_empty(self, user_ids: set[int]) -> None:
        """After the catalog changed: recompute the queues of these users that are empty."""
        for user_id in user_ids:
            self.request(user_id, "catalog")

    async def advance(self, user_id: int) -> None:
        if await self._sessions.advance(user_id) is None:
            await self.rebuild(user_id)
            await self._sessions.advance(user_id)
        self.request(user_id, "next")

    async def _changed(self, user_id: int, reason: str) -> None:
        # Nobody listening anywhere: the session is marked stale (ver moved past qver) and
        # the next hello recomputes, so HTTP-only clients cost no engine work.
        if self._hub.local(user_id) or await self._presence.listeners(user_id) > 0:
            self.request(user_id, reason)

    async def _recompute(self, user_id: int, reason: str) -> None:
        session = await self._sessions.snapshot(user_id)
        if session is None:
            return
        if reason == "start" and session.fresh:
            return  # several tabs said hello to a stale session: an earlier run already served them
        if reason == "catalog" and (session.now_playing is not None or session.upcoming):
            return  # a queue that has tracks keeps them; only empty ones are filled
        self.stats.computed += 1
        ranked = await self.source.upcoming(session, QUEUE_SIZE + 1)
        playing = session.now_playing
        blocked = session.excluded | ({playing.id} if playing else set())
        ranked = [r for r in ranked if r.id not in blocked]  # the engine excludes them too
        fill = None
        if playing is None and ranked:
            fill, ranked = ranked[0], ranked[1:]
        upcoming = ranked[:QUEUE_SIZE]
        snapshot = QueueSnapshot(playing or fill, upcoming, session.mood, reason_text(reason, session.mood),
                                 stream_group(user_id))
        found = await self._catalog.get_many(snapshot.track_ids())
        body = msgpack.packb(snapshot.render(found), use_bin_type=True)
        seq = await self._log.publish_queue(user_id, session.ver, fill, upcoming, snapshot, body)
        if seq is None:
            self.stats.stale += 1
            log.debug("dropped a stale queue for user %s (ver %s)", user_id, session.ver)
        else:
            self.stats.published += 1
            await self._listener.queue_published(user_id, snapshot)

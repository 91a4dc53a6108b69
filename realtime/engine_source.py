"""The engine as a QueueSource: a session snapshot from Redis becomes a recsys profile.

The profile is rebuilt for every recompute from the snapshot (mood, the latest events,
every excluded id), so any instance can compute any user's queue and nothing per user is
kept in memory here. It is cheap: the events' vectors come from the engine's point cache
(one index retrieve for those not cached), and observing is arithmetic. A returning listener's
long-term taste joins the profile (app.listening.listener_taste: loaded once per session start
and cached with their profile version; none for a listener without history).
"""

from __future__ import annotations

import logging

from app.listening import hearing_filter, listener_taste
from app.state import AppState
from realtime.queue_frames import Ranked
from realtime.session_state import Snapshot

log = logging.getLogger("musicrec.realtime")


class EngineSource:
    def __init__(self, state: AppState) -> None:
        self._state = state

    async def upcoming(self, session: Snapshot, size: int) -> list[Ranked]:
        engine = self._state.engine
        if engine is None:  # no index (yet): queues stay empty rather than failing
            return []
        spec = session.mood.spec if session.mood is not None else None
        flt = hearing_filter(session.settings)  # the settings travel with the session: no query
        taste = await listener_taste(self._state, session.user_id)
        try:
            profile = await engine.new_session(spec, flt, taste)
        except KeyError:  # a preset that no longer exists: fall back to no mood
            profile = await engine.new_session(None, flt, taste)
        if session.events:
            await engine.points(tid for tid, _ in session.events)  # warm the cache in one retrieve
            for track_id, action in session.events:
                await engine.observe(profile, track_id, action)
        profile.played |= session.excluded
        playing = session.now_playing.id if session.now_playing else None
        scored = await engine.next_queue(profile, size, playing)
        return [Ranked(s.id, float(s.score), s.reason or "") for s in scored]


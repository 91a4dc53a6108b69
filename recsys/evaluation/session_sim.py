"""The live listening session, without Redis or WebSockets, for offline replay.

This mirrors what the realtime stack does per user, step by step, so that an evaluated
queue is the queue a listener would have been served:
- realtime/session_state.py keeps the last EVENTS_KEPT events and an excluded set (every
  event but a verdict adds its track: recsys.actions); a skip, complete or dislike of the now-playing track
  advances to the head of the queue *as it stands*, and only then is a new queue computed;
- realtime/engine_source.py rebuilds a SessionProfile from that snapshot for every
  recompute (new_session, observe each event, played |= excluded) and calls
  Engine.next_queue(profile, QUEUE_SIZE + 1, now_playing);
- realtime/user_queue.py drops blocked ids, and fills now-playing from the head when
  nothing plays.
The feedback therefore goes through exactly Engine.observe and Engine.next_queue.

The constants are copied rather than imported (recsys must not depend on realtime/app); a
test checks they still agree.

``advance="immediate"`` is a what-if: the queue is recomputed *before* a skip advances,
so the next track already reflects the skip (see docs/evaluation.md).
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from recsys.actions import advances, excludes
from recsys.engine import Engine
from recsys.moods import MoodSpec
from recsys.taste import Taste

EVENTS_KEPT = 50  # realtime.session_state.EVENTS_KEPT
QUEUE_SIZE = 20  # realtime.user_queue.QUEUE_SIZE

AdvanceMode = Literal["store", "immediate"]


class LiveSession:
    """One listener's session state and the engine calls the live app would make."""

    def __init__(
        self,
        engine: Engine,
        mood: MoodSpec | None,
        advance: AdvanceMode = "store",
        taste: Taste | None = None,
    ) -> None:
        self.engine = engine
        self.mood = mood
        self.taste = taste  # a returning listener's long-term taste (engine_source loads it alike)
        self.advance_mode = advance
        self.events: deque[tuple[int, str]] = deque(maxlen=EVENTS_KEPT)
        self.excluded: set[int] = set()
        self.now_playing: int | None = None
        self.queue: list[int] = []
        self.recomputes = 0

    async def start(self) -> int | None:
        """The session's first queue; returns the track that starts playing."""
        await self._recompute()
        return self.now_playing

    async def send(self, track_id: int, action: str, recompute: bool = True) -> None:
        """One feedback event, as SessionState.apply_event then a queue recompute.

        ``recompute=False`` skips a recompute whose queue nothing would read (the caller
        knows another event follows before the next advance): it saves time, changes nothing.
        """
        self.events.append((track_id, action))
        if excludes(action):
            self.excluded.add(track_id)
        if self.now_playing == track_id and advances(action):
            if self.advance_mode == "immediate":
                await self._recompute()
            self._advance()
            if self.now_playing is None or recompute:
                await self._recompute()
            return
        if excludes(action) and track_id in self.queue:
            self.queue.remove(track_id)
        if recompute:
            await self._recompute()

    def _advance(self) -> None:
        self.now_playing = self.queue.pop(0) if self.queue else None
        if self.now_playing is not None:
            self.excluded.add(self.now_playing)

    async def _recompute(self) -> None:
        self.recomputes += 1
        engine = self.engine
        profile = await engine.new_session(self.mood, taste=self.taste)
        if self.events:
            await engine.points(tid for tid, _ in self.events)
            for track_id, action in self.events:
                await engine.observe(profile, track_id, action)
        profile.played |= self.excluded
        scored = await engine.next_queue(profile, QUEUE_SIZE + 1, self.now_playing)
        blocked = self.excluded | ({self.now_playing} if self.now_playing is not None else set())
        ranked = [s.id for s in scored if s.id not in blocked]
        if self.now_playing is None and ranked:
            # user_queue: the fill becomes now-playing; ResumeLog.publish_queue adds it to excluded
            # only when it advances, and the listener's "play" event adds it right after.
            self.now_playing, ranked = ranked[0], ranked[1:]
        self.queue = ranked[:QUEUE_SIZE]

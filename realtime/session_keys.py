"""The per-user listening session in Redis: its key layout, shared by the modules that each
own one job over it (realtime/session_state.py: the queue state; realtime/resume_log.py: seqs,
publishing and resume; realtime/presence.py: open connections).

One user's session is shared by every tab, device and server instance, so it lives in Redis,
and every change is one Lua script (atomic, one round trip). Keys, under
``{redis_prefix}rt:{<user id>}:`` (the braces keep one user's keys in one cluster slot):

- ``seq``    the user's frame counter (no TTL: a seq must never go backwards). Seeded with
             the wall clock in microseconds when missing, so a counter lost with Redis data
             restarts above any seq a client still holds, and that client is resynced, not
             confused.
- ``st``     hash: ``ver`` (bumped by every change that affects the queue), ``qver`` (the
             ``ver`` the latest queue was built from), ``np`` (now playing), ``q`` (upcoming),
             ``mood`` (JSON: app.store.moods.StoredMood.to_record), ``lastq`` (seq of the
             latest queue frame), ``last`` (that frame's compact snapshot), ``evn`` (events).
- ``excl``   set: every track that has played, been skipped or disliked: never queued again.
- ``ev``     list: the latest events as ``"<track id>:<action>"``, for the profile.
- ``log``    list: ``"<seq>:<compact snapshot>"``, the last ws_resume_window queue frames.
- ``floor``  every queue frame with a seq above this is in ``log`` (absent: the log expired).
- ``conns``  sorted set: open connections (member: connection id; score: expiry time).
- ``lastf``  the seq of the latest state frame (``group``, ``playback``) published on the
             stream; a connection-local frame waits for it as for the latest queue frame.
- ``vt``     a group's view tickets: taken before a ``group`` frame's state is read.
- ``vshown`` the ticket of the latest ``group`` frame published; a frame read under an
             older ticket is not published (realtime/resume_log.py, ``publish_frame``).

A listening group (app/groups.py) has a session of the same shape, keyed by its *stream id*
``-<group id>`` (user ids are positive, so the two never meet): one queue, one seq counter, one
resume log and one channel for all of its members' connections that follow it. A group adds
(realtime/group_state.py): ``pb`` (hash: the shared playback), ``votes`` (hash: user -> the
track they voted to skip), ``who`` (list: ``"<track>:<action>:<user>"``, whose feedback it was),
``adds`` (list: tracks members put next), ``here`` (sorted set ``"<user>:<connection>"`` ->
expiry: who is present) and ``alive`` (a key whose TTL runs out when nobody has been present
for group_idle_end_s).

The session is rebuildable from PostgreSQL (mood from user_moods, events from
listening_events); the log is only for resume and has a shorter life. Redis 6.2 is the oldest
server the scripts run on (docs/configuration.md).
"""

from __future__ import annotations

import time

STATE_TTL_S = 6 * 3600  # a session idle this long is forgotten and rebuilt from PostgreSQL

# Shared Lua: refresh the TTL of several keys.
TOUCH_FN = """
local function touch(ttl, ...)
  for _, k in ipairs({...}) do redis.call('EXPIRE', k, ttl) end
end
"""


class SessionKeys:
    """Key and channel names of every user's session under one deployment prefix."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix

    def key(self, user_id: int, name: str) -> str:
        return f"{self._prefix}rt:{{{user_id}}}:{name}"

    def keys(self, user_id: int, *names: str) -> list[str]:
        return [self.key(user_id, n) for n in names]

    def channel(self, user_id: int) -> str:
        """The pub/sub channel of the user's queue frames (realtime/bus.py subscribes to it)."""
        return f"{self._prefix}user:{user_id}"


def group_stream(group_id: int) -> int:
    """The stream id of a group's session (see above)."""
    return -group_id


def stream_group(stream: int) -> int | None:
    """The group of a stream id, or None for a user's own stream."""
    return -stream if stream < 0 else None


def seed() -> str:
    """A fresh start for a lost seq counter: the wall clock in microseconds (a user gets far
    fewer than a million frames a second), so it restarts above every seq handed out before
    and stays below 2**53 (exact in JavaScript)."""
    return str(time.time_ns() // 1000)

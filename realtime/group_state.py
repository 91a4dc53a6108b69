"""A listening group's live state in Redis, beside its queue session (key layout:
realtime/session_keys.py, under the group's stream id).

- presence (``here``): one entry per connection following the group, refreshed by its instance
  like the per-user connection counts; a member is present while one of theirs is live.
- ``alive``: refreshed while anyone is present; when it has expired and nobody is present, the
  group has been empty for group_idle_end_s and ends.
- the shared playback (``pb``): track, state, position and the server time it was true at.
- skip votes (``votes``): user -> the track they voted against; votes for an earlier track
  no longer count, so nothing has to clear them when the track changes.
- whose feedback (``who``) and members' picks waiting to be queued (``adds``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from realtime.presence import CONN_TTL_S
from realtime.session_keys import STATE_TTL_S, SessionKeys, group_stream
from realtime.session_state import _ADVANCE_FN

WHO_KEPT = 200


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
  # attributed events kept for fairness

# KEYS: st excl; ARGV: track id ttl — advance only if that track is still the one playing, so
# that every member's player reporting the end of a track advances the group once.
_ADVANCE_IF = _ADVANCE_FN + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local np = redis.call('HGET', KEYS[1], 'np')
if not np or np == '' or cmsgpack.unpack(np)[1] ~= tonumber(ARGV[1]) then return 0 end
advance(KEYS[1], KEYS[2])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[2]) end
return ver
"""


# KEYS: pb who; ARGV: entry kept ttl — credit a member with an event and read the playback, in
# one command (a member's feedback needs both; a MULTI costs the client more than twice as much)
_NOTE = """
local pb = redis.call('HMGET', KEYS[1], 'track_id', 'state', 'position_ms', 'server_ms')
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return pb
"""

# KEYS: adds who here; ARGV: now — what a queue recompute reads
_INPUTS = """
return {redis.call('LRANGE', KEYS[1], 0, -1), redis.call('LRANGE', KEYS[2], 0, -1),
        redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[1], '+inf')}
"""

# KEYS: votes here; ARGV: user track ttl now — a vote, then every vote and who is present
_VOTE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {redis.call('HGETALL', KEYS[1]), redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[4], '+inf')}
"""

# KEYS: here since pb votes; ARGV: now — everything a Group object shows of the live state
_LIVE_VIEW = """
return {redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf'), redis.call('HGETALL', KEYS[2]),
        redis.call('HMGET', KEYS[3], 'track_id', 'state', 'position_ms', 'server_ms'),
        redis.call('HGETALL', KEYS[4])}
"""


def server_ms() -> int:
    """The server clock the members' players follow (wall clock, shared by instances)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Playback:
    track_id: int
    state: str  # "playing" | "paused"
    position_ms: int
    server_ms: int

    def position_at(self, now_ms: int) -> int:
        if self.state != "playing":
            return self.position_ms
        return self.position_ms + max(0, now_ms - self.server_ms)

    def to_json(self) -> dict[str, Any]:
        return {"track_id": self.track_id, "state": self.state, "position_ms": self.position_ms,
                "server_ms": self.server_ms}


@dataclass(frozen=True, slots=True)
class LiveView:
    """Everything a Group object shows of the live state, read in one round trip."""

    present: set[int]
    since: dict[int, float]
    playback: Playback | None
    votes: dict[int, int]  # user -> the track they voted against


_PB_FIELDS = ("track_id", "state", "position_ms", "server_ms")


def _pairs(flat: list[Any]) -> dict[bytes | str, Any]:
    """A hash as a script returns HGETALL: field, value, field, value..."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _present(entries: list[Any]) -> set[int]:
    return {int(_text(e).split(":", 1)[0]) for e in entries}


def _who(entries: list[Any]) -> list[tuple[int, str, int]]:
    found = []
    for raw in entries:
        tid, action, uid = _text(raw).split(":")
        found.append((int(tid), action, int(uid)))
    return found


def _adds(entries: list[Any]) -> list[tuple[int, int, str]]:
    found = []
    for raw in entries:
        tid, uid, name = _text(raw).split(":", 2)
        found.append((int(tid), int(uid), name))
    return found


def _playback(raw: list[Any]) -> Playback | None:
    if raw[0] is None:
        return None
    return Playback(int(_text(raw[0])), _text(raw[1]), int(_text(raw[2])), int(_text(raw[3])))


class GroupState:
    def __init__(self, redis: Redis, keys: SessionKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._advance_if = redis.register_script(_ADVANCE_IF)
        self._note = redis.register_script(_NOTE)
        self._inputs = redis.register_script(_INPUTS)
        self._vote = redis.register_script(_VOTE)
        self._live_view = redis.register_script(_LIVE_VIEW)

    def _key(self, group_id: int, name: str) -> str:
        return self._keys.key(group_stream(group_id), name)

    # -- presence ---------------------------------------------------------------------------

    async def enter(self, group_id: int, user_id: int, conn_id: str, idle_end_s: float) -> bool:
        """This connection of the user is present; True when the user was not present before
        (their first connection in the group: ``since`` is set only then)."""
        here = self._key(group_id, "here")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(here, {f"{user_id}:{conn_id}": time.time() + CONN_TTL_S})
            pipe.expire(here, CONN_TTL_S)
            pipe.hsetnx(self._key(group_id, "since"), str(user_id), str(time.time()))
            pipe.expire(self._key(group_id, "since"), STATE_TTL_S)
            pipe.set(self._key(group_id, "alive"), 1, ex=max(1, int(idle_end_s)))
            _, _, newly, *_ = await pipe.execute()
        return bool(newly)

    async def exit(self, group_id: int, user_id: int, conn_id: str) -> bool:
        """This connection is no longer present; True when the user is now absent (it was their
        last connection in the group)."""
        await self._redis.zrem(self._key(group_id, "here"), f"{user_id}:{conn_id}")
        if user_id in await self.present(group_id):
            return False
        await self._redis.hdel(self._key(group_id, "since"), str(user_id))
        return True

    async def refresh(self, entries: list[tuple[int, int, str]], idle_end_s: float) -> None:
        """Keep (group, user, connection) entries present, and their groups alive."""
        expiry = time.time() + CONN_TTL_S
        async with self._redis.pipeline(transaction=False) as pipe:
            for group_id, user_id, conn_id in entries:
                pipe.zadd(self._key(group_id, "here"), {f"{user_id}:{conn_id}": expiry}, xx=True)
                pipe.expire(self._key(group_id, "here"), CONN_TTL_S)
            for group_id in {g for g, _, _ in entries}:
                pipe.set(self._key(group_id, "alive"), 1, ex=max(1, int(idle_end_s)))
            await pipe.execute()

    async def present(self, group_id: int) -> set[int]:
        return _present(await self._redis.zrangebyscore(self._key(group_id, "here"), time.time(), "+inf"))

    async def live_view(self, group_id: int) -> LiveView:
        """Presence, since when, the playback and the votes: one command."""
        here, since, pb, votes = await self._live_view(
            keys=[self._key(group_id, n) for n in ("here", "since", "pb", "votes")], args=[time.time()])
        return LiveView(_present(here), {int(k): float(v) for k, v in _pairs(since).items()}, _playback(pb),
                        {int(u): int(t) for u, t in _pairs(votes).items()})

    async def present_since(self, group_id: int) -> dict[int, float]:
        raw = await self._redis.hgetall(self._key(group_id, "since"))
        return {int(k): float(v) for k, v in raw.items()}

    async def alive(self, group_id: int) -> bool:
        return bool(await self._redis.exists(self._key(group_id, "alive")))

    async def forget(self, group_id: int) -> None:
        """The group ended: its live keys go (the queue session expires on its own)."""
        await self._redis.delete(*(self._key(group_id, n) for n in ("here", "since", "alive", "pb", "votes",
                                                                     "who", "adds")))

    # -- playback ---------------------------------------------------------------------------

    async def playback(self, group_id: int) -> Playback | None:
        return _playback(await self._redis.hmget(self._key(group_id, "pb"), *_PB_FIELDS))

    async def set_playback(self, group_id: int, playback: Playback) -> None:
        key = self._key(group_id, "pb")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"track_id": playback.track_id, "state": playback.state,
                                    "position_ms": playback.position_ms, "server_ms": playback.server_ms})
            pipe.expire(key, STATE_TTL_S)
            await pipe.execute()

    async def advance_if_playing(self, group_id: int, track_id: int) -> int | None:
        """Advance the group's queue if ``track_id`` is what plays; the new ver, else None."""
        stream = group_stream(group_id)
        ver = int(await self._advance_if(keys=self._keys.keys(stream, "st", "excl"),
                                         args=[track_id, STATE_TTL_S]))
        return ver if ver > 0 else None

    # -- votes, attribution, picks ----------------------------------------------------------

    async def vote_skip(self, group_id: int, user_id: int, track_id: int) -> tuple[set[int], set[int]]:
        """Record the vote; returns the users whose vote is against ``track_id`` and those
        present, read in the same round trip."""
        votes, here = await self._vote(keys=[self._key(group_id, "votes"), self._key(group_id, "here")],
                                       args=[user_id, track_id, STATE_TTL_S, time.time()])
        return {int(u) for u, t in _pairs(votes).items() if int(t) == track_id}, _present(here)

    async def votes(self, group_id: int, track_id: int) -> set[int]:
        votes = await self._redis.hgetall(self._key(group_id, "votes"))
        return {int(u) for u, t in votes.items() if int(t) == track_id}

    async def note(self, group_id: int, user_id: int, track_id: int, action: str) -> None:
        """Credit the member with the event (``who``: whose feedback steers whom)."""
        await self.note_and_playback(group_id, user_id, track_id, action)

    async def note_and_playback(self, group_id: int, user_id: int, track_id: int,
                                action: str) -> Playback | None:
        """``note``, and the playback as it is, in one command (a member's feedback needs
        both)."""
        return _playback(await self._note(
            keys=[self._key(group_id, "pb"), self._key(group_id, "who")],
            args=[f"{track_id}:{action}:{user_id}", WHO_KEPT, STATE_TTL_S]))

    async def queue_inputs(
        self, group_id: int
    ) -> tuple[list[tuple[int, int, str]], list[tuple[int, str, int]], set[int]]:
        """What a queue recompute reads here, in one command: the members' picks
        not yet played, in the order added (track, user, name); the attributed events, oldest
        first (track, action, user); and who is present."""
        adds, who, here = await self._inputs(
            keys=[self._key(group_id, n) for n in ("adds", "who", "here")], args=[time.time()])
        return _adds(adds), _who(who), _present(here)

    async def add(self, group_id: int, user_id: int, username: str, track_id: int) -> None:
        key = self._key(group_id, "adds")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, f"{track_id}:{user_id}:{username}")
            pipe.expire(key, STATE_TTL_S)
            await pipe.execute()

    async def drop_adds(self, group_id: int, track_ids: set[int]) -> None:
        key = self._key(group_id, "adds")
        for raw in await self._redis.lrange(key, 0, -1):
            if int(_text(raw).split(":", 1)[0]) in track_ids:
                await self._redis.lrem(key, 0, _text(raw))

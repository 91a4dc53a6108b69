"""The per-user listening session in Redis: its key layout and the atomic scripts that change it.

One user's session is shared by every tab, device and server instance, so it lives in Redis,
and every change is one Lua script (atomic, one round trip). Keys, under
``{redis_prefix}rt:{<user id>}:`` (the braces keep one user's keys in one cluster slot):

- ``seq``    the user's frame counter (no TTL: a seq must never go backwards). Seeded with
             the wall clock in microseconds when missing, so a counter lost with Redis data
             restarts above any seq a client still holds, and that client is resynced, not
             confused.
- ``st``     hash: ``ver`` (bumped by every change that affects the queue), ``qver`` (the
             ``ver`` the latest queue was built from), ``np`` (now playing), ``q`` (upcoming),
             ``mood`` (JSON: app.store.moods.StoredMood.to_record), ``lastq`` (seq of the latest queue
             frame), ``last`` (that frame's compact snapshot), ``evn`` (events applied).
- ``excl``   set: every track that has played, been skipped or disliked: never queued again.
- ``ev``     list: the latest events as ``"<track id>:<action>"``, for the profile.
- ``log``    list: ``"<seq>:<compact snapshot>"``, the last ws_resume_window queue frames.
- ``floor``  every queue frame with a seq above this is in ``log`` (absent: the log expired).
- ``conns``  sorted set: open connections (member: connection id; score: expiry time).

The session is rebuildable from PostgreSQL (mood from user_moods, events from
listening_events); the log is only for resume and has a shorter life.

Stale-drop: a queue is computed from a snapshot taken at ``ver`` and published by
``publish_queue`` only if ``ver`` has not moved since; the check, the seq, the log entry and
the PUBLISH happen in one script, so frames reach the log and the channel in seq order and a
queue made stale by a newer event can never be published after it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from app.store.moods import StoredMood
from realtime.queue_frames import (
    QueueSnapshot,
    Ranked,
    pack_one,
    pack_ranked,
    unpack_one,
    unpack_ranked,
)
from recsys.actions import advances, excludes

STATE_TTL_S = 6 * 3600  # a session idle this long is forgotten and rebuilt from PostgreSQL
LOG_TTL_S = 15 * 60  # resume is for dropped connections; older gaps get a fresh queue
CONN_TTL_S = 180  # a connection not refreshed this long belongs to a dead instance
REFRESH_CHUNK = 250
EVENTS_KEPT = 50  # recent events the profile is built from

# Shared Lua: advance now_playing to the head of the upcoming queue.
_ADVANCE_FN = """
local function advance(st, excl)
  local raw = redis.call('HGET', st, 'q')
  local q = {}
  if raw and raw ~= '' then q = cmsgpack.unpack(raw) end
  local nxt = table.remove(q, 1)
  if nxt then
    redis.call('HSET', st, 'np', cmsgpack.pack(nxt), 'q', cmsgpack.pack(q))
    redis.call('SADD', excl, string.format('%d', nxt[1]))
  else
    redis.call('HSET', st, 'np', '', 'q', '')
  end
end
"""

_TOUCH_FN = """
local function touch(ttl, ...)
  for _, k in ipairs({...}) do redis.call('EXPIRE', k, ttl) end
end
"""

# KEYS: st excl ev; ARGV: ttl mood_json n_events events... excl_ids...
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'ver', 1, 'qver', 0, 'np', '', 'q', '', 'mood', ARGV[2], 'evn', n)
redis.call('DEL', KEYS[2], KEYS[3])
for i = 4, 3 + n do redis.call('RPUSH', KEYS[3], ARGV[i]) end
for i = 4 + n, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[1]) end
return 1
"""

# KEYS: st excl ev; ARGV: track_id action events_kept ttl advances excludes
# (the last two are "1"/"0": the rules of recsys.actions, decided in Python, not copied here)
_APPLY_EVENT = _ADVANCE_FN + _TOUCH_FN + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local tid, action = tonumber(ARGV[1]), ARGV[2]
local advancing, excluding = ARGV[5] == '1', ARGV[6] == '1'
redis.call('RPUSH', KEYS[3], ARGV[1] .. ':' .. action)
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
redis.call('HINCRBY', KEYS[1], 'evn', 1)
if excluding then redis.call('SADD', KEYS[2], ARGV[1]) end
local advanced = 0
local np = redis.call('HGET', KEYS[1], 'np')
if np and np ~= '' and cmsgpack.unpack(np)[1] == tid then
  if advancing then
    advance(KEYS[1], KEYS[2])
    advanced = 1
  end
elseif excluding then
  -- played, skipped or disliked from the upcoming list: it leaves the list at once
  local raw = redis.call('HGET', KEYS[1], 'q')
  if raw and raw ~= '' then
    local q, kept = cmsgpack.unpack(raw), {}
    for _, item in ipairs(q) do if item[1] ~= tid then table.insert(kept, item) end end
    if #kept ~= #q then redis.call('HSET', KEYS[1], 'q', cmsgpack.pack(kept)) end
  end
end
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
touch(ARGV[4], KEYS[1], KEYS[2], KEYS[3])
return {ver, advanced}
"""

# KEYS: st excl; ARGV: ttl
_NEXT = _ADVANCE_FN + _TOUCH_FN + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
advance(KEYS[1], KEYS[2])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
touch(ARGV[1], KEYS[1], KEYS[2])
return ver
"""

# KEYS: st excl; ARGV: packed ranked track, track id, ttl
_PLAY = _TOUCH_FN + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local tid = tonumber(ARGV[2])
local raw = redis.call('HGET', KEYS[1], 'q')
if raw and raw ~= '' then
  local q, kept = cmsgpack.unpack(raw), {}
  for _, item in ipairs(q) do if item[1] ~= tid then table.insert(kept, item) end end
  redis.call('HSET', KEYS[1], 'q', cmsgpack.pack(kept))
end
redis.call('HSET', KEYS[1], 'np', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
touch(ARGV[3], KEYS[1], KEYS[2])
return ver
"""

# KEYS: st; ARGV: ttl
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return ver
"""

# KEYS: st; ARGV: mood_json ttl
_SET_MOOD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'mood', ARGV[1])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return ver
"""

# KEYS: seq st; ARGV: seed
_LOCAL_SEQ = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local s = redis.call('INCR', KEYS[1])
return {s, tonumber(redis.call('HGET', KEYS[2], 'lastq')) or 0}
"""

# KEYS: st seq log floor excl ev
# ARGV: ver np_fill np_fill_id q snapshot body channel window seed ttl log_ttl
_PUBLISH = _TOUCH_FN + """
if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'np', ARGV[2])
  redis.call('SADD', KEYS[5], ARGV[3])
end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[9]) end
local s = redis.call('INCR', KEYS[2])
local seq = string.format('%d', s)
local prev = redis.call('HGET', KEYS[1], 'lastq')
redis.call('HSET', KEYS[1], 'q', ARGV[4], 'lastq', seq, 'last', ARGV[5], 'qver', ARGV[1])
local window = tonumber(ARGV[8])
if window > 0 then
  if redis.call('EXISTS', KEYS[4]) == 0 then
    -- a new log: everything after the previous latest frame (or, for a user's first
    -- frame, everything from this one on) is about to be in it
    redis.call('DEL', KEYS[3])
    redis.call('SET', KEYS[4], prev or string.format('%d', s - 1))
  end
  redis.call('RPUSH', KEYS[3], seq .. ':' .. ARGV[5])
  local excess = redis.call('LLEN', KEYS[3]) - window
  if excess > 0 then
    local dropped = redis.call('LPOP', KEYS[3], excess)
    redis.call('SET', KEYS[4], string.match(dropped[#dropped], '^(%d+):'))
  end
  touch(ARGV[11], KEYS[3], KEYS[4])
end
redis.call('PUBLISH', ARGV[7], 'q' .. seq .. ':' .. ARGV[6])
touch(ARGV[10], KEYS[1], KEYS[5], KEYS[6])
return s
"""

# KEYS: st seq log floor; ARGV: resume_after seed
_HELLO = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[2]) end
local cur = tonumber(redis.call('GET', KEYS[2]))
local lastq = tonumber(redis.call('HGET', KEYS[1], 'lastq')) or 0
local x = tonumber(ARGV[1])
local resumed, entries = 0, {}
if x and x <= cur then
  if x >= lastq then
    resumed = 1
  else
    local floor = tonumber(redis.call('GET', KEYS[4]))
    if floor and x >= floor then
      resumed = 1
      for _, e in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
        if tonumber(string.match(e, '^(%d+):')) > x then table.insert(entries, e) end
      end
    end
  end
end
local s = x
if resumed == 0 then s = redis.call('INCRBY', KEYS[2], 2) end
local h = redis.call('HMGET', KEYS[1], 'ver', 'qver', 'last')
return {1, s, resumed, h[1], h[2], h[3] or '', entries}
"""

# KEYS: conns; ARGV: now expiry conn_id cap ttl
_CONNECT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(slots=True)
class Snapshot:
    """A consistent read of a session: what a queue is computed from."""

    ver: int
    fresh: bool  # the latest published queue was computed at this ver
    now_playing: Ranked | None
    upcoming: list[Ranked]
    mood: StoredMood | None
    events: list[tuple[int, str]]
    excluded: set[int] = field(default_factory=set)
    user_id: int = 0


@dataclass(slots=True)
class HelloResult:
    """What a `hello` finds. ``seq`` is the welcome's seq: the resume point when ``resumed``,
    else a fresh seq whose successor (``seq + 1``) stamps the snapshot frame."""

    seq: int
    resumed: bool
    stale: bool  # the latest queue predates the latest change: a recompute is owed
    last: QueueSnapshot | None
    replay: list[tuple[int, QueueSnapshot]]


def _seed() -> str:
    # Microseconds: a lost counter restarts above every seq handed out before (a user gets
    # far fewer than a million frames a second), and stays below 2**53 (exact in JavaScript).
    return str(time.time_ns() // 1000)


def _split_entry(entry: bytes) -> tuple[int, bytes]:
    seq, _, body = entry.partition(b":")
    return int(seq), body


class SessionStore:
    """Reads and atomic updates of per-user sessions; no I/O but Redis."""

    def __init__(self, redis: Redis, prefix: str, resume_window: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._window = resume_window
        self._init = redis.register_script(_INIT)
        self._apply = redis.register_script(_APPLY_EVENT)
        self._next = redis.register_script(_NEXT)
        self._mood = redis.register_script(_SET_MOOD)
        self._play = redis.register_script(_PLAY)
        self._bump = redis.register_script(_BUMP)
        self._local = redis.register_script(_LOCAL_SEQ)
        self._publish = redis.register_script(_PUBLISH)
        self._hello = redis.register_script(_HELLO)
        self._connect = redis.register_script(_CONNECT)

    def key(self, user_id: int, name: str) -> str:
        return f"{self._prefix}rt:{{{user_id}}}:{name}"

    def channel(self, user_id: int) -> str:
        return f"{self._prefix}user:{user_id}"

    def _keys(self, user_id: int, *names: str) -> list[str]:
        return [self.key(user_id, n) for n in names]

    async def init(
        self, user_id: int, mood: StoredMood | None, events: list[tuple[int, str]], excluded: set[int]
    ) -> bool:
        """Create the session from what PostgreSQL knows, unless another instance just did."""
        args: list[Any] = [STATE_TTL_S, _mood_arg(mood), len(events)]
        args += [f"{tid}:{action}" for tid, action in events]
        args += sorted(excluded)
        return bool(await self._init(keys=self._keys(user_id, "st", "excl", "ev"), args=args))

    async def apply_event(self, user_id: int, track_id: int, action: str) -> int | None:
        """Record an event in the session; returns the new ver, None when no session exists."""
        ver, _ = await self._apply(
            keys=self._keys(user_id, "st", "excl", "ev"),
            args=[track_id, action, EVENTS_KEPT, STATE_TTL_S, int(advances(action)), int(excludes(action))],
        )
        return None if int(ver) < 0 else int(ver)

    async def advance(self, user_id: int) -> int | None:
        ver = int(await self._next(keys=self._keys(user_id, "st", "excl"), args=[STATE_TTL_S]))
        return None if ver < 0 else ver

    async def play_now(self, user_id: int, track: Ranked) -> int | None:
        """Make ``track`` now playing (out of the upcoming list, never queued again); new ver."""
        ver = int(await self._play(keys=self._keys(user_id, "st", "excl"),
                                   args=[pack_one(track), track.id, STATE_TTL_S]))
        return None if ver < 0 else ver

    async def bump(self, user_id: int) -> int | None:
        """Mark the queue out of date (something it depends on changed); the new ver."""
        ver = int(await self._bump(keys=self._keys(user_id, "st"), args=[STATE_TTL_S]))
        return None if ver < 0 else ver

    async def set_mood(self, user_id: int, mood: StoredMood | None) -> int | None:
        ver = int(await self._mood(keys=self._keys(user_id, "st"), args=[_mood_arg(mood), STATE_TTL_S]))
        return None if ver < 0 else ver

    async def local_seq(self, user_id: int) -> tuple[int, int]:
        """A seq for a connection-local frame, and the seq of the user's latest queue frame."""
        seq, lastq = await self._local(keys=self._keys(user_id, "seq", "st"), args=[_seed()])
        return int(seq), int(lastq)

    async def snapshot(self, user_id: int) -> Snapshot | None:
        st, excl, ev = self._keys(user_id, "st", "excl", "ev")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hmget(st, "ver", "qver", "np", "q", "mood")
            pipe.smembers(excl)
            pipe.lrange(ev, 0, -1)
            (ver, qver, np, queued, mood), excluded, events = await pipe.execute()
        if ver is None:
            return None
        return Snapshot(
            ver=int(ver),
            fresh=ver == qver,
            now_playing=unpack_one(np),
            upcoming=unpack_ranked(queued),
            mood=_mood(mood),
            events=[_event(e) for e in events],
            excluded={int(i) for i in excluded},
            user_id=user_id,
        )

    async def publish_queue(
        self, user_id: int, ver: int, fill: Ranked | None, upcoming: list[Ranked],
        snapshot: QueueSnapshot, body: bytes,
    ) -> int | None:
        """Store and publish a queue computed at ``ver``; None when it went stale meanwhile.

        ``fill`` becomes now_playing (only ever passed when nothing was playing at ``ver``).
        """
        seq = await self._publish(
            keys=self._keys(user_id, "st", "seq", "log", "floor", "excl", "ev"),
            args=[
                ver,
                pack_one(fill),
                fill.id if fill else 0,
                pack_ranked(upcoming),
                snapshot.pack(),
                body,
                self.channel(user_id),
                self._window,
                _seed(),
                STATE_TTL_S,
                LOG_TTL_S,
            ],
        )
        return int(seq) or None

    async def hello(self, user_id: int, resume_after: int | None) -> HelloResult | None:
        """Atomically: where a new connection's stream starts, and what it must be sent."""
        found = await self._hello(
            keys=self._keys(user_id, "st", "seq", "log", "floor"),
            args=["" if resume_after is None else resume_after, _seed()],
        )
        if not found[0]:
            return None
        _, seq, resumed, ver, qver, last, entries = found
        replay = [(s, QueueSnapshot.unpack(body)) for s, body in map(_split_entry, entries)]
        return HelloResult(
            seq=int(seq),
            resumed=bool(resumed),
            stale=ver != qver,
            last=QueueSnapshot.unpack(last) if last else None,
            replay=replay,
        )

    async def replay_after(self, user_id: int, after: int) -> list[tuple[int, QueueSnapshot]] | None:
        """Logged frames after ``after``; None when the log no longer reaches back that far."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(self.key(user_id, "floor"))
            pipe.hget(self.key(user_id, "st"), "lastq")
            pipe.lrange(self.key(user_id, "log"), 0, -1)
            floor, lastq, entries = await pipe.execute()
        if lastq is None or int(lastq) <= after:
            return []
        if floor is None or int(floor) > after:
            return None
        pairs = map(_split_entry, entries)
        return [(s, QueueSnapshot.unpack(body)) for s, body in pairs if s > after]

    async def connect(self, user_id: int, conn_id: str, cap: int) -> bool:
        """Count a new connection against the per-user cap (across instances)."""
        now = time.time()
        ok = await self._connect(
            keys=[self.key(user_id, "conns")], args=[now, now + CONN_TTL_S, conn_id, cap, CONN_TTL_S]
        )
        return bool(ok)

    async def disconnect(self, user_id: int, conn_id: str) -> None:
        await self._redis.zrem(self.key(user_id, "conns"), conn_id)

    async def refresh_connections(self, conns: list[tuple[int, str]]) -> None:
        """Keep live connections counted; a crashed instance's entries expire on their own.

        In chunks: one pipeline for 10,000 connections would hold the event loop for a
        noticeable while, and every socket's frames with it.
        """
        expiry = time.time() + CONN_TTL_S
        for start in range(0, len(conns), REFRESH_CHUNK):
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, conn_id in conns[start : start + REFRESH_CHUNK]:
                    key = self.key(user_id, "conns")
                    pipe.zadd(key, {conn_id: expiry}, xx=True)
                    pipe.expire(key, CONN_TTL_S)
                await pipe.execute()

    async def listeners(self, user_id: int) -> int:
        """Instances subscribed to this user's channel: zero means nobody is listening."""
        counts = await self._redis.pubsub_numsub(self.channel(user_id))
        return int(counts[0][1]) if counts else 0


def _mood_arg(mood: StoredMood | None) -> str:
    return json.dumps(mood.to_record(), separators=(",", ":")) if mood else ""


def _mood(raw: bytes | None) -> StoredMood | None:
    return StoredMood.from_record(json.loads(raw)) if raw else None


def _event(raw: bytes) -> tuple[int, str]:
    tid, _, action = raw.decode().partition(":")
    return int(tid), action

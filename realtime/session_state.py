"""A listening session's queue state in Redis: mood, the listener's settings, now playing,
upcoming, excluded tracks, the latest events and ``ver`` (bumped by every change that affects
the queue). Key layout: realtime/session_keys.py. Every change is one Lua script; the rules
about actions come from recsys.actions, passed to the scripts as arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from app.store.moods import StoredMood
from app.store.settings import DEFAULT_SETTINGS, UserSettings
from realtime.queue_frames import Ranked, pack_one, unpack_one, unpack_ranked
from realtime.session_keys import STATE_TTL_S, TOUCH_FN, SessionKeys
from recsys.actions import advances, excludes

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

# KEYS: st excl ev; ARGV: ttl mood_json settings_json n_events events... excl_ids...
_INIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'ver', 1, 'qver', 0, 'np', '', 'q', '', 'mood', ARGV[2], 'set', ARGV[3],
           'evn', n)
redis.call('DEL', KEYS[2], KEYS[3])
for i = 5, 4 + n do redis.call('RPUSH', KEYS[3], ARGV[i]) end
for i = 5 + n, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[1]) end
return 1
"""

# KEYS: st excl ev; ARGV: track_id action events_kept ttl advances excludes
# (the last two are "1"/"0": the rules of recsys.actions, decided in Python, not copied here)
_APPLY_EVENT = _ADVANCE_FN + TOUCH_FN + """
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
_NEXT = _ADVANCE_FN + TOUCH_FN + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
advance(KEYS[1], KEYS[2])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
touch(ARGV[1], KEYS[1], KEYS[2])
return ver
"""

# KEYS: st excl; ARGV: packed ranked track, track id, ttl
_PLAY = TOUCH_FN + """
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

# KEYS: st excl ev — the consistent read a queue is computed from, in one command (a MULTI of
# three costs the client more than twice as much)
_SNAPSHOT = """
return {redis.call('HMGET', KEYS[1], 'ver', 'qver', 'np', 'q', 'mood', 'set'),
        redis.call('SMEMBERS', KEYS[2]), redis.call('LRANGE', KEYS[3], 0, -1)}
"""

# KEYS: st; ARGV: ttl
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return ver
"""

# KEYS: st; ARGV: field ("mood" or "set") json ttl
_SET_FIELD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return ver
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
    settings: UserSettings = DEFAULT_SETTINGS  # the listener's (app.store.settings), kept with the state


class SessionState:
    """Reads and atomic updates of the per-user queue state; no I/O but Redis."""

    def __init__(self, redis: Redis, keys: SessionKeys) -> None:
        self._redis = redis
        self.keys = keys
        self._init = redis.register_script(_INIT)
        self._apply = redis.register_script(_APPLY_EVENT)
        self._next = redis.register_script(_NEXT)
        self._set_field = redis.register_script(_SET_FIELD)
        self._play = redis.register_script(_PLAY)
        self._bump = redis.register_script(_BUMP)
        self._snapshot = redis.register_script(_SNAPSHOT)

    async def init(
        self, user_id: int, mood: StoredMood | None, events: list[tuple[int, str]], excluded: set[int],
        settings: UserSettings = DEFAULT_SETTINGS,
    ) -> bool:
        """Create the session from what PostgreSQL knows, unless another instance just did."""
        args: list[Any] = [STATE_TTL_S, _mood_arg(mood), _settings_arg(settings), len(events)]
        args += [f"{tid}:{action}" for tid, action in events]
        args += sorted(excluded)
        return bool(await self._init(keys=self.keys.keys(user_id, "st", "excl", "ev"), args=args))

    async def apply_event(
        self, user_id: int, track_id: int, action: str, advance: bool | None = None
    ) -> int | None:
        """Record an event in the session; returns the new ver, None when no session exists.
        ``advance`` overrides recsys.actions.advances (a group decides by its own rules)."""
        advancing = advances(action) if advance is None else advance
        ver, _ = await self._apply(
            keys=self.keys.keys(user_id, "st", "excl", "ev"),
            args=[track_id, action, EVENTS_KEPT, STATE_TTL_S, int(advancing), int(excludes(action))],
        )
        return None if int(ver) < 0 else int(ver)

    async def advance(self, user_id: int) -> int | None:
        ver = int(await self._next(keys=self.keys.keys(user_id, "st", "excl"), args=[STATE_TTL_S]))
        return None if ver < 0 else ver

    async def play_now(self, user_id: int, track: Ranked) -> int | None:
        """Make ``track`` now playing (out of the upcoming list, never queued again); new ver."""
        ver = int(await self._play(keys=self.keys.keys(user_id, "st", "excl"),
                                   args=[pack_one(track), track.id, STATE_TTL_S]))
        return None if ver < 0 else ver

    async def bump(self, user_id: int) -> int | None:
        """Mark the queue out of date (something it depends on changed); the new ver."""
        ver = int(await self._bump(keys=self.keys.keys(user_id, "st"), args=[STATE_TTL_S]))
        return None if ver < 0 else ver

    async def set_settings(self, user_id: int, settings: UserSettings) -> int | None:
        """The listener's settings changed (the queue depends on them); the new ver."""
        return await self._set(user_id, "set", _settings_arg(settings))

    async def set_mood(self, user_id: int, mood: StoredMood | None) -> int | None:
        return await self._set(user_id, "mood", _mood_arg(mood))

    async def _set(self, user_id: int, name: str, value: str) -> int | None:
        ver = int(await self._set_field(keys=self.keys.keys(user_id, "st"), args=[name, value, STATE_TTL_S]))
        return None if ver < 0 else ver

    async def snapshot(self, user_id: int) -> Snapshot | None:
        fields, excluded, events = await self._snapshot(keys=self.keys.keys(user_id, "st", "excl", "ev"))
        ver, qver, np, queued, mood, settings = fields
        if ver is None:
            return None
        return Snapshot(
            ver=int(ver),
            fresh=ver == qver,
            now_playing=unpack_one(np),
            upcoming=unpack_ranked(queued),
            mood=_mood(mood),
            settings=_settings(settings),
            events=[_event(e) for e in events],
            excluded={int(i) for i in excluded},
            user_id=user_id,
        )


def _mood_arg(mood: StoredMood | None) -> str:
    return json.dumps(mood.to_record(), separators=(",", ":")) if mood else ""


def _settings_arg(settings: UserSettings) -> str:
    return json.dumps(settings.to_record(), separators=(",", ":"))


def _settings(raw: bytes | None) -> UserSettings:
    return UserSettings.from_record(json.loads(raw)) if raw else DEFAULT_SETTINGS


def _mood(raw: bytes | None) -> StoredMood | None:
    return StoredMood.from_record(json.loads(raw)) if raw else None


def _event(raw: bytes) -> tuple[int, str]:
    tid, _, action = raw.decode().partition(":")
    return int(tid), action

"""Seqs, publishing and resume of a user's queue frames (key layout: realtime/session_keys.py).

Stale-drop: a queue is computed from a snapshot taken at ``ver`` (realtime/session_state.py)
and published by ``publish_queue`` only if ``ver`` has not moved since; the check, the seq, the
queue fields of the state, the log entry and the PUBLISH happen in one script, so frames reach
the log and the channel in seq order and a queue made stale by a newer event can never be
published after it. ``hello`` and ``replay_after`` tell a (re)connecting client where its
stream starts and what it missed.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from realtime.queue_frames import QueueSnapshot, Ranked, pack_one, pack_ranked
from realtime.session_keys import STATE_TTL_S, TOUCH_FN, SessionKeys, seed

LOG_TTL_S = 15 * 60  # resume is for dropped connections; older gaps get a fresh queue

# KEYS: seq st lastf; ARGV: seed
_LOCAL_SEQ = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local s = redis.call('INCR', KEYS[1])
return {s, tonumber(redis.call('HGET', KEYS[2], 'lastq')) or 0, tonumber(redis.call('GET', KEYS[3])) or 0}
"""

# KEYS: st seq log floor excl ev
# ARGV: ver np_fill np_fill_id q snapshot body channel window seed ttl log_ttl
_PUBLISH = TOUCH_FN + """
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

# KEYS: seq lastf vshown; ARGV: seed body channel ttl ticket ('' for a frame without one)
_PUBLISH_FRAME = """
if ARGV[5] ~= '' then
  if tonumber(ARGV[5]) < (tonumber(redis.call('GET', KEYS[3])) or 0) then return 0 end
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[4])
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local s = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], s, 'EX', ARGV[4])
redis.call('PUBLISH', ARGV[3], 'f' .. string.format('%d', s) .. ':' .. ARGV[2])
return s
"""

# KEYS: vt; ARGV: seed ttl. Seeded like seq, so a ticket never goes back when the key expired.
_TICKET = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local t = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return t
"""

# KEYS: seq; ARGV: seed at_least
_RAISE = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
if tonumber(redis.call('GET', KEYS[1])) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""

# A connection that followed a group resumes its owner's stream from a group seq, which may be
# ahead of the owner's counter: the counter is raised to it, unless it is ahead of the wall clock
# (seeds are the clock in microseconds, so a real seq never is; CLOCK_SLACK_US allows for skew
# between instances), and the client gets a fresh queue under a seq above it.
CLOCK_SLACK_US = 60_000_000

# KEYS: st seq log floor; ARGV: resume_after seed slack
_HELLO = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[2]) end
local cur = tonumber(redis.call('GET', KEYS[2]))
local asked = tonumber(ARGV[1])
if asked and asked > cur and asked <= tonumber(ARGV[2]) + tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], string.format('%d', asked))
  cur = asked
  ARGV[1] = ''
end
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


@dataclass(slots=True)
class HelloResult:
    """What a `hello` finds. ``seq`` is the welcome's seq: the resume point when ``resumed``,
    else a fresh seq whose successor (``seq + 1``) stamps the snapshot frame."""

    seq: int
    resumed: bool
    stale: bool  # the latest queue predates the latest change: a recompute is owed
    last: QueueSnapshot | None
    replay: list[tuple[int, QueueSnapshot]]


def _split_entry(entry: bytes) -> tuple[int, bytes]:
    seq, _, body = entry.partition(b":")
    return int(seq), body


class ResumeLog:
    """The user's frame counter, the atomic publish of a queue frame, and the resume log."""

    def __init__(self, redis: Redis, keys: SessionKeys, resume_window: int) -> None:
        self._redis = redis
        self._keys = keys
        self._window = resume_window
        self._local = redis.register_script(_LOCAL_SEQ)
        self._publish = redis.register_script(_PUBLISH)
        self._hello = redis.register_script(_HELLO)
        self._publish_frame = redis.register_script(_PUBLISH_FRAME)
        self._raise = redis.register_script(_RAISE)
        self._ticket = redis.register_script(_TICKET)

    async def publish_frame(self, stream: int, body: bytes, ticket: int | None = None) -> int:
        """Publish a state frame (``group``, ``playback``) under the stream's next seq; its seq.
        Not logged: the latest such frame says it all, and a follower gets a fresh one on joining.

        ``ticket`` (from ``view_ticket``, taken before the frame's state was read): the frame is
        dropped (0 returned) when a frame with a later ticket was published already, because its
        state may be older than what that frame showed. Two writers reading at once would
        otherwise let the slower one's older view land last and stay there."""
        return int(await self._publish_frame(
            keys=self._keys.keys(stream, "seq", "lastf", "vshown"),
            args=[seed(), body, self._keys.channel(stream), LOG_TTL_S, "" if ticket is None else ticket]))

    async def view_ticket(self, stream: int) -> int:
        """A ticket for a state frame about to be read (see ``publish_frame``)."""
        return int(await self._ticket(keys=[self._keys.key(stream, "vt")], args=[seed(), LOG_TTL_S]))

    async def raise_seq(self, stream: int, at_least: int) -> None:
        """Make the stream's next seq exceed ``at_least`` (a connection switching streams)."""
        await self._raise(keys=[self._keys.key(stream, "seq")], args=[seed(), at_least])

    async def local_seq(self, user_id: int) -> tuple[int, int, int]:
        """A seq for a connection-local frame, and the seqs of the stream's latest queue frame
        and latest state frame (a local frame must not overtake either while it is on the bus)."""
        seq, lastq, lastf = await self._local(keys=self._keys.keys(user_id, "seq", "st", "lastf"),
                                              args=[seed()])
        return int(seq), int(lastq), int(lastf)

    async def publish_queue(
        self, user_id: int, ver: int, fill: Ranked | None, upcoming: list[Ranked],
        snapshot: QueueSnapshot, body: bytes,
    ) -> int | None:
        """Store and publish a queue computed at ``ver``; None when it went stale meanwhile.

        ``fill`` becomes now_playing (only ever passed when nothing was playing at ``ver``).
        """
        seq = await self._publish(
            keys=self._keys.keys(user_id, "st", "seq", "log", "floor", "excl", "ev"),
            args=[
                ver,
                pack_one(fill),
                fill.id if fill else 0,
                pack_ranked(upcoming),
                snapshot.pack(),
                body,
                self._keys.channel(user_id),
                self._window,
                seed(),
                STATE_TTL_S,
                LOG_TTL_S,
            ],
        )
        return int(seq) or None

    async def hello(self, user_id: int, resume_after: int | None) -> HelloResult | None:
        """Atomically: where a new connection's stream starts, and what it must be sent."""
        found = await self._hello(
            keys=self._keys.keys(user_id, "st", "seq", "log", "floor"),
            args=["" if resume_after is None else resume_after, seed(), CLOCK_SLACK_US],
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
            pipe.get(self._keys.key(user_id, "floor"))
            pipe.hget(self._keys.key(user_id, "st"), "lastq")
            pipe.lrange(self._keys.key(user_id, "log"), 0, -1)
            floor, lastq, entries = await pipe.execute()
        if lastq is None or int(lastq) <= after:
            return []
        if floor is None or int(floor) > after:
            return None
        pairs = map(_split_entry, entries)
        return [(s, QueueSnapshot.unpack(body)) for s, body in pairs if s > after]

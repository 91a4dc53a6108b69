"""The Redis session scripts, against real Redis: advancing, stale-drop, seq and the resume log
(realtime/session_state.py, realtime/resume_log.py, realtime/presence.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from app.store.moods import StoredMood
from realtime.presence import Presence
from realtime.queue_frames import QueueSnapshot, Ranked
from realtime.resume_log import ResumeLog
from realtime.session_keys import SessionKeys
from realtime.session_state import SessionState
from recsys.moods import MoodSpec
from tests.conftest import REDIS_URL, RUN_ID

USER = 7


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:{RUN_ID}:{secrets.token_hex(3)}:"


@dataclass
class Store:
    """The three jobs over one user's session keys, as an instance wires them."""

    keys: SessionKeys
    state: SessionState
    log: ResumeLog
    presence: Presence


def store_for(client: aioredis.Redis, prefix: str, window: int = 3) -> Store:
    keys = SessionKeys(prefix)
    return Store(keys, SessionState(client, keys), ResumeLog(client, keys, window), Presence(client, keys))


def ranked(*track_ids: int) -> list[Ranked]:
    return [Ranked(i, 1.0 - i / 100, f"reason {i}") for i in track_ids]


async def publish(
    store: Store, ver: int, upcoming: list[Ranked], fill: Ranked | None = None
) -> int | None:
    snap = await store.state.snapshot(USER)
    assert snap is not None
    playing = snap.now_playing or fill
    snapshot = QueueSnapshot(playing, upcoming, snap.mood, "test")
    return await store.log.publish_queue(USER, ver, fill, upcoming, snapshot, b"body")


async def test_a_queue_computed_before_a_newer_change_is_dropped(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix)
    await store.state.init(USER, None, [], set())
    before = await store.state.snapshot(USER)
    assert before is not None and before.ver == 1
    assert await store.state.apply_event(USER, 50, "like") == 2
    assert await publish(store, before.ver, ranked(1, 2, 3)) is None, "stale: computed at ver 1"
    seq = await publish(store, 2, ranked(1, 2, 3), fill=Ranked(9, 0.5, ""))
    assert seq is not None
    snap = await store.state.snapshot(USER)
    assert snap is not None and snap.now_playing == Ranked(9, 0.5, "")
    assert [r.id for r in snap.upcoming] == [1, 2, 3]
    assert 9 in snap.excluded and 50 not in snap.excluded  # a like is not "played"


async def test_skip_complete_dislike_of_what_plays_advance_and_like_play_do_not(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix)
    await store.state.init(USER, None, [], set())
    await publish(store, 1, ranked(2, 3, 4, 5, 6), fill=Ranked(1, 0.9, ""))
    for action in ("like", "play"):
        await store.state.apply_event(USER, 1, action)
        snap = await store.state.snapshot(USER)
        assert snap is not None and snap.now_playing is not None and snap.now_playing.id == 1
    expected_next = 2
    for action in ("skip", "complete", "dislike"):
        playing = expected_next - 1
        await store.state.apply_event(USER, playing, action)
        snap = await store.state.snapshot(USER)
        assert snap is not None and snap.now_playing is not None
        assert snap.now_playing.id == expected_next, action
        assert playing in snap.excluded
        expected_next += 1
    # A skip of an upcoming track removes it at once; `next` advances.
    await store.state.apply_event(USER, 5, "skip")
    await store.state.advance(USER)
    snap = await store.state.snapshot(USER)
    assert snap is not None and snap.now_playing is not None and snap.now_playing.id == 6
    assert snap.upcoming == [] and {1, 2, 3, 4, 5, 6} <= snap.excluded
    await store.state.advance(USER)
    snap = await store.state.snapshot(USER)
    assert snap is not None and snap.now_playing is None


async def test_without_a_session_changes_report_none(redis_client: aioredis.Redis, prefix: str) -> None:
    store = store_for(redis_client, prefix)
    assert await store.state.apply_event(USER, 1, "skip") is None
    assert await store.state.advance(USER) is None
    calm = StoredMood(MoodSpec(preset="calm"), datetime(2026, 1, 1, tzinfo=UTC))
    assert await store.state.set_mood(USER, calm) is None
    assert await store.log.hello(USER, None) is None
    sad = StoredMood(MoodSpec(preset="sad", energy=0.2), datetime(2026, 1, 2, tzinfo=UTC))
    assert await store.state.init(USER, sad, [(4, "skip"), (5, "like")], {4})
    assert not await store.state.init(USER, None, [], set()), "a second instance does not overwrite it"
    snap = await store.state.snapshot(USER)
    assert snap is not None and snap.mood == sad and snap.events == [(4, "skip"), (5, "like")]


async def test_seqs_increase_and_a_lost_counter_restarts_above_the_old_ones(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix)
    await store.state.init(USER, None, [], set())
    first, _, _ = await store.log.local_seq(USER)
    q = await publish(store, 1, ranked(1))
    second, latest, state = await store.log.local_seq(USER)
    assert q is not None and first < q < second and latest == q and state == 0
    # A state frame (group, playback) takes a seq of the same counter and is reported too.
    f = await store.log.publish_frame(USER, b"\x80")
    fourth, latest, state = await store.log.local_seq(USER)
    assert second < f < fourth and latest == q and state == f
    await redis_client.delete(store.keys.key(USER, "seq"))  # Redis lost it
    third, _, _ = await store.log.local_seq(USER)
    assert third > fourth


async def test_a_group_view_read_before_a_published_newer_one_is_not_published(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix)
    stream = -41  # a group's stream
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(store.keys.channel(stream))
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    slow = await store.log.view_ticket(stream)  # read the old view, then got delayed
    fast = await store.log.view_ticket(stream)  # read the new view and published first
    assert fast > slow
    assert await store.log.publish_frame(stream, b"new", fast) > 0
    assert await store.log.publish_frame(stream, b"old", slow) == 0
    # Frames without a ticket (playback, exit notices) are not held back.
    assert await store.log.publish_frame(stream, b"playback") > 0
    bodies = []
    while (message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)) is not None:
        bodies.append(message["data"].split(b":", 1)[1])
    assert bodies == [b"new", b"playback"]
    # A lost ticket counter restarts above the tickets handed out before.
    await redis_client.delete(store.keys.key(stream, "vt"))
    assert await store.log.view_ticket(stream) > fast
    await pubsub.aclose()


async def test_resume_replays_the_log_while_it_reaches_back(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix, window=3)
    await store.state.init(USER, None, [], set())
    seqs = []
    for n in range(5):
        ver = await store.state.apply_event(USER, 100 + n, "like")
        assert ver is not None
        seq = await publish(store, ver, ranked(n + 1, n + 2))
        assert seq is not None
        seqs.append(seq)
    # The log holds the last 3: a client that saw seqs[1] misses seqs[2:], all still there.
    found = await store.log.hello(USER, seqs[1])
    assert found is not None and found.resumed and found.seq == seqs[1]
    assert [s for s, _ in found.replay] == seqs[2:]
    assert [r.id for r in found.replay[-1][1].tracks] == [5, 6]
    # One that saw seqs[0] missed seqs[1], which is gone: a fresh start.
    old = await store.log.hello(USER, seqs[0])
    assert old is not None and not old.resumed and old.seq > seqs[-1]
    assert old.last is not None and [r.id for r in old.last.tracks] == [5, 6]
    # Up to date: resumed, nothing to replay. From the future: a fresh start.
    current = await store.log.hello(USER, seqs[-1])
    assert current is not None and current.resumed and current.replay == []
    future = await store.log.hello(USER, old.seq + 1000)
    assert future is not None and not future.resumed
    assert await store.log.replay_after(USER, seqs[0]) is None
    replay = await store.log.replay_after(USER, seqs[3])
    assert replay is not None and [s for s, _ in replay] == [seqs[4]]


async def test_a_stale_session_is_reported_to_hello(redis_client: aioredis.Redis, prefix: str) -> None:
    store = store_for(redis_client, prefix)
    await store.state.init(USER, None, [], set())
    found = await store.log.hello(USER, None)
    assert found is not None and found.last is None and found.stale
    await publish(store, 1, ranked(1, 2))
    found = await store.log.hello(USER, None)
    assert found is not None and found.last is not None and not found.stale
    await store.state.apply_event(USER, 1, "like")  # nobody recomputed yet
    found = await store.log.hello(USER, None)
    assert found is not None and found.stale


async def test_the_connection_cap_spans_instances_and_forgets_the_dead(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = store_for(redis_client, prefix)
    assert await store.presence.connect(USER, "a", 2)
    assert await store.presence.connect(USER, "b", 2)
    assert not await store.presence.connect(USER, "c", 2)
    await store.presence.disconnect(USER, "a")
    assert await store.presence.connect(USER, "c", 2)
    # An entry whose instance died stops counting when it expires.
    await redis_client.zadd(store.keys.key(USER, "conns"), {"b": 1.0})
    assert await store.presence.connect(USER, "d", 2)

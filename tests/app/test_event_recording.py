"""An event's outcome is acted on before it is durable (app.store.events.recording) and many
waiters share one flush of the write-ahead log (app.store.wal_flush), on the real PostgreSQL:
what the block sees, what the exit promises, and what failures leave."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from app.state import AppState
from app.store import events, users
from app.store.db import Database
from app.store.wal_flush import WalFlush
from tests.conftest import unique_name


@pytest.fixture
def state(app: Any) -> AppState:
    found: AppState = app.app.extensions["musicrec"]
    return found


async def _user_and_track(db: Database) -> tuple[int, int]:
    user = await users.create(db, unique_name(), "x" * 60)
    track = await db.fetchval("INSERT INTO tracks (source, external_id, title, artists) "
                              "VALUES ('test', $1, 'T', '{}') RETURNING id", unique_name("ext"))
    return user.id, int(track)


async def _stored(db: Database, user_id: int) -> list[str]:
    return [r["action"] for r in await db.fetch(
        "SELECT action FROM listening_events WHERE user_id = $1 ORDER BY id", user_id)]


async def test_the_outcome_is_known_in_the_block_and_the_exit_returns_once_it_is_stored(
        state: AppState) -> None:
    db = state.db
    user, track = await _user_and_track(db)
    async with events.recording(db, user, track, "skip", 1000, "r1") as recorded:
        assert recorded.created and recorded.event is not None and recorded.event.action == "skip"
        assert await _stored(db, user) == ["skip"], "committed (not yet flushed): others see it"
    assert await _stored(db, user) == ["skip"]


async def test_a_repeated_ref_and_a_second_like_change_nothing(state: AppState) -> None:
    db = state.db
    user, track = await _user_and_track(db)
    async with events.recording(db, user, track, "like", None, "a") as first:
        pass
    async with events.recording(db, user, track, "complete", None, "a") as again:
        assert not again.created and again.event == first.event
    async with events.recording(db, user, track, "like", None, "b") as liked_twice:
        assert not liked_twice.created and liked_twice.event is None
    assert await _stored(db, user) == ["like"]


async def test_a_failing_block_leaves_the_event_stored(state: AppState) -> None:
    db = state.db
    user, track = await _user_and_track(db)
    with pytest.raises(RuntimeError, match="live layer down"):
        async with events.recording(db, user, track, "dislike", None, "c"):
            raise RuntimeError("live layer down")
    assert await _stored(db, user) == ["dislike"]


async def test_a_caller_cancelled_in_the_block_still_commits_and_gives_back_the_connection(
        state: AppState) -> None:
    db = state.db
    user, track = await _user_and_track(db)
    inside = asyncio.Event()

    async def caller() -> None:
        async with events.recording(db, user, track, "play", 0, "d"):
            inside.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(caller())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if await _stored(db, user) == ["play"]:
            break
        await asyncio.sleep(0.02)
    assert await _stored(db, user) == ["play"]
    # Every connection came back: as many recordings at once as the pool holds still go through.
    size = db.pool.get_max_size()

    async def one(n: int) -> None:
        async with events.recording(db, user, track, "complete", None, f"e{n}"):
            pass
    await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(size))), 30)


async def test_an_unknown_track_is_refused_and_stores_nothing(state: AppState) -> None:
    db = state.db
    user, _ = await _user_and_track(db)
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with events.recording(db, user, 10**12, "like", None, "f"):
            pytest.fail("the block must not run")
    assert await _stored(db, user) == []


async def test_waiters_together_share_flushes_and_each_gets_one_that_began_after_it(state: AppState) -> None:
    db = state.db
    flush = WalFlush(db)
    await asyncio.gather(*(flush.wait() for _ in range(50)))
    assert 1 <= flush.flushes <= 2, "fifty waiters, one flush (and a second for those who came during it)"
    before = flush.flushes
    first = asyncio.ensure_future(flush.wait())
    await asyncio.sleep(0)  # its flush has begun
    second = asyncio.ensure_future(flush.wait())  # came after: the running flush may predate it
    await asyncio.gather(first, second)
    assert flush.flushes == before + 2
    await flush.close()


async def test_a_flush_that_fails_reaches_every_waiter_and_a_later_one_is_tried_again(
        state: AppState) -> None:
    db = Database(state.db.url, state.db.schema)
    await db.connect()
    await db.close()  # PostgreSQL gone, as far as this pool knows
    flush = WalFlush(db)
    results = await asyncio.gather(flush.wait(), flush.wait(), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results), results
    await db.connect()
    await flush.wait()
    assert flush.flushes == 1
    await flush.close()
    await db.close()

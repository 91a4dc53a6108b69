"""Two real app instances (Hypercorn processes) on one PostgreSQL and one Redis: what one tab
does reaches the user's every tab, whichever instance it is connected to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from recsys.catalog import CatalogTrack
from tests.conftest import DATABASE_URL
from tests.realtime.conftest import Cluster, Tab, ids, open_tab, register


@pytest.fixture(scope="module")
def cluster_of(rt_tracks: list[CatalogTrack]) -> dict[int, str]:
    """Track id -> its synthetic cluster ("edm", "folk", ...)."""
    return {t.id: t.external_id.split("-")[0] for t in rt_tracks}


def later(frame: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    return lambda f: bool(f["seq"] > frame["seq"])


def moved_past(playing: int) -> Callable[[dict[str, Any]], bool]:
    return lambda f: bool(f["now_playing"]["id"] != playing)


async def test_both_tabs_see_one_queue_and_a_like_on_a_moves_the_tab_on_b(
    cluster: Cluster, cluster_of: dict[int, str]
) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab_a, open_tab(cluster.b.ws, cookie) as tab_b:
        _, first_a = await tab_a.hello()
        _, first_b = await tab_b.hello()
        assert first_a is not None and first_b is not None
        assert ids(first_a) == ids(first_b), "one queue per user, not one per connection"
        assert len(first_a["tracks"]) >= 15
        assert all("score" in t and "reason" in t for t in first_a["tracks"])

        old = [cluster_of[i] for i in ids(first_b)[1:]]
        target = next(c for c in ("edm", "sleep", "folk", "pop", "rock") if old.count(c) <= 2)
        liked = next(i for i, c in cluster_of.items() if c == target and i not in ids(first_b))
        await tab_a.send({"type": "feedback", "track_id": liked, "action": "like", "ref": "like-1"})
        ack = await tab_a.expect("ack")
        assert ack["ref"] == "like-1"

        moved_b = await tab_b.expect("queue", later(first_b))
        # The queue may reach tab A before the ack (it does not wait for the disk; the ack does).
        moved_a = next((f for f in tab_a.frames if f["type"] == "queue" and f["seq"] == moved_b["seq"]),
                       None) or await tab_a.expect("queue", lambda f: f["seq"] == moved_b["seq"])
        assert ids(moved_a) == ids(moved_b)
        assert moved_b["now_playing"]["id"] == first_b["now_playing"]["id"], "what plays never jumps"
        new = [cluster_of[t["id"]] for t in moved_b["tracks"]]
        assert new.count(target) > old.count(target), (target, old, new)
        assert "liked" in moved_b["reason"]


async def test_seq_strictly_increases_on_every_connection(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab_a, open_tab(cluster.b.ws, cookie) as tab_b:
        _, queue = await tab_a.hello()
        await tab_b.hello()
        assert queue is not None
        for n in range(4):
            await tab_a.send({"type": "ping", "ref": n})
            await tab_b.send({"type": "next", "ref": f"n{n}"})
            await tab_a.expect("pong")
            await tab_b.expect("ack")
        await tab_a.send({"type": "ping"})
        await tab_a.expect("pong")
        await tab_b.quiet(0.3)
        for tab in (tab_a, tab_b):
            seqs = tab.seqs()
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs


async def test_mood_over_http_reaches_every_tab(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab_a, open_tab(cluster.b.ws, cookie, text=True) as tab_b:
        _, first_a = await tab_a.hello()
        _, first_b = await tab_b.hello()
        assert first_a is not None and first_b is not None
        async with httpx.AsyncClient(base_url=cluster.b.http, headers={"Cookie": cookie}) as http:
            r = await http.put("/api/me/mood", json={"mood": "sleep"})
            assert r.status_code == 200, r.text
        for tab, first in ((tab_a, first_a), (tab_b, first_b)):
            queue = await tab.expect("queue", later(first))
            assert queue["mood"]["preset"] == "sleep"
            assert queue["reason"].startswith("New mood")
            assert queue["now_playing"]["id"] == first["now_playing"]["id"]
            calm = [t["audio"]["energy"] for t in queue["tracks"] if t.get("audio")]
            assert sum(calm) / len(calm) < 0.45, calm


async def test_mood_frame_is_persisted_and_reaches_the_other_instance(cluster: Cluster) -> None:
    user_id, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab_a, open_tab(cluster.b.ws, cookie) as tab_b:
        await tab_a.hello()
        _, first_b = await tab_b.hello()
        assert first_b is not None
        await tab_a.send({"type": "mood", "text": "loud festival bangers", "energy": 0.95, "ref": "m1"})
        await tab_a.expect("ack", lambda f: f["ref"] == "m1")
        queue = await tab_b.expect("queue", later(first_b))
        assert queue["mood"]["text"] == "loud festival bangers"
        assert queue["mood"]["energy"] == pytest.approx(0.95)
    async with httpx.AsyncClient(base_url=cluster.b.http, headers={"Cookie": cookie}) as http:
        me = (await http.get("/api/me")).json()
        assert me["user"]["id"] == user_id and me["mood"]["text"] == "loud festival bangers"


async def test_http_feedback_reaches_the_tabs(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.b.ws, cookie) as tab:
        _, first = await tab.hello()
        assert first is not None
        playing = first["now_playing"]["id"]
        async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": cookie}) as http:
            r = await http.post("/api/feedback", json={"track_id": playing, "action": "skip"})
            assert r.status_code == 202, r.text
        queue = await tab.expect("queue", later(first))
        assert queue["now_playing"]["id"] == first["tracks"][0]["id"], "a skip of what plays advances"
        assert playing not in ids(queue)


async def test_acked_feedback_is_in_postgresql_once(cluster: Cluster) -> None:
    user_id, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        _, first = await tab.hello()
        assert first is not None
        track = first["tracks"][3]["id"]
        for _ in range(2):  # a retried frame (same ref) is stored once, and acked each time
            await tab.send({"type": "feedback", "track_id": track, "action": "like", "ref": "dup-7"})
            await tab.expect("ack", lambda f: f["ref"] == "dup-7")
    conn = await asyncpg.connect(DATABASE_URL, server_settings={"search_path": cluster.schema})
    try:
        rows = await conn.fetch(
            "SELECT track_id, action FROM listening_events WHERE user_id = $1 AND client_ref = 'dup-7'",
            user_id,
        )
    finally:
        await conn.close()
    assert [(r["track_id"], r["action"]) for r in rows] == [(track, "like")]


async def test_resume_after_a_dropped_connection_loses_nothing(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.b.ws, cookie) as other:
        _, start = await other.hello()
        assert start is not None
        async with open_tab(cluster.a.ws, cookie) as dropped:
            await dropped.hello()
            await dropped.send({"type": "ping"})
            await dropped.expect("pong")
            resume_point = max(dropped.seqs())
        # While it is away, the other tab changes the queue three times.
        published = []
        for _ in range(3):
            await other.send({"type": "next"})
            published.append(await other.expect("queue", lambda f: f["seq"] > resume_point))
            await asyncio.sleep(0.1)
        async with open_tab(cluster.b.ws, cookie) as back:
            welcome, _ = await back.hello(resume_after=resume_point)
            assert welcome["resumed"] is True and welcome["seq"] == resume_point
            replayed = [await back.expect("queue") for _ in published]
            assert [f["seq"] for f in replayed] == [f["seq"] for f in published]
            assert [ids(f) for f in replayed] == [ids(f) for f in published]
            assert await back.quiet(0.3) == []


async def test_resume_from_a_forgotten_seq_gets_a_fresh_queue(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        _, first = await tab.hello()
        assert first is not None
    async with open_tab(cluster.b.ws, cookie) as tab:
        await tab.send({"type": "hello", "resume_after": 3})  # long gone (or never existed)
        welcome = await tab.expect("welcome")
        assert welcome["resumed"] is False
        queue = await tab.expect("queue")
        assert queue["seq"] > welcome["seq"] and ids(queue) == ids(first)


async def test_a_burst_of_skips_is_coalesced_and_stale_queues_are_dropped(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab, open_tab(cluster.b.ws, cookie) as watcher:
        _, first = await tab.hello()
        await watcher.hello()
        assert first is not None
        await watcher.quiet(0.3)
        before = len(watcher.frames)
        # Skip what plays, then each track as it would come up: ten advances, sent at once.
        skipped = ids(first)[:10]
        for track in skipped:
            await tab.send({"type": "feedback", "track_id": track, "action": "skip"})
        frames = await watcher.quiet(1.5)
        queues = [f for f in watcher.frames[before:] if f["type"] == "queue"]
        # One immediate recompute and one trailing one on a quick server (the exact folding is
        # unit-tested with a controlled clock in test_units). Each skip is committed to
        # PostgreSQL before the next frame is read, so on a loaded machine the skips can reach
        # the coalescer further apart than its 30 ms window and fold into a few runs: what
        # matters here is far fewer queues than skips, in order, and none stale.
        assert frames and 1 <= len(queues) <= 4, [q["reason"] for q in queues]
        assert [q["seq"] for q in queues] == sorted({q["seq"] for q in queues})
        last = queues[-1]
        assert not set(skipped) & set(ids(last)), "a skipped track came back"
        # The last frame is the session as it stands after all ten: a new tab is told the same.
        async with open_tab(cluster.b.ws, cookie) as fresh:
            _, now = await fresh.hello()
            assert now is not None and ids(now) == ids(last)


async def test_no_skipped_completed_or_disliked_track_comes_back(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab, open_tab(cluster.b.ws, cookie) as watcher:
        _, queue = await tab.hello()
        await watcher.hello()
        assert queue is not None
        gone: set[int] = set()
        for n in range(12):
            playing: int = queue["now_playing"]["id"]
            gone.add(playing)
            action = ("skip", "complete", "dislike")[n % 3]
            await tab.send({"type": "feedback", "track_id": playing, "action": action})
            queue = await tab.expect("queue", moved_past(playing))
            assert not gone & set(ids(queue)), (gone & set(ids(queue)))
        await watcher.quiet(0.5)
        last_seen_on_b = [f for f in watcher.frames if f["type"] == "queue"][-1]
        assert last_seen_on_b["seq"] == queue["seq"] and not gone & set(ids(last_seen_on_b))


async def test_the_connection_cap_counts_every_instance(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    tabs: list[Tab] = []
    contexts = []
    try:
        for n in range(20):
            ctx = open_tab((cluster.a if n % 2 else cluster.b).ws, cookie)
            contexts.append(ctx)
            tabs.append(await ctx.__aenter__())
        async with open_tab(cluster.a.ws, cookie) as extra:
            with pytest.raises(Exception) as closed:
                await extra.recv(5)
            assert getattr(closed.value, "rcvd", None) is not None
            assert closed.value.rcvd.code == 1008  # type: ignore[attr-defined]
            assert "too many" in closed.value.rcvd.reason  # type: ignore[attr-defined]
    finally:
        for ctx in contexts:
            await ctx.__aexit__(None, None, None)

"""What a listener does besides feedback: play a picked track now, take a like back, change a
setting, ask for a mood in words that mean nothing; and empty queues filled when the catalog
changes. Two instances share one Redis and PostgreSQL (the `cluster` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import DATABASE_URL
from tests.realtime.conftest import Cluster, ids, open_tab, register
from tests.realtime.test_in_process import running


def later(frame: dict[str, Any]) -> Any:
    return lambda f: f["seq"] > frame["seq"]


async def test_a_picked_track_plays_now_on_every_tab(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab_a, open_tab(cluster.b.ws, cookie) as tab_b:
        _, first = await tab_a.hello()
        _, _ = await tab_b.hello()
        assert first is not None
        picked = first["tracks"][7]["id"]
        await tab_a.send({"type": "play", "track_id": picked, "ref": "pick-1"})
        assert (await tab_a.expect("ack"))["ref"] == "pick-1"
        moved = await tab_b.expect("queue", lambda f: f["now_playing"] and f["now_playing"]["id"] == picked)
        assert picked not in [t["id"] for t in moved["tracks"]], "the pick left the upcoming list"

        # "Previous": the track played before comes back, even though it was already heard.
        previous = first["now_playing"]["id"]
        await tab_a.send({"type": "play", "track_id": previous, "ref": "back"})
        await tab_a.expect("ack")
        back = await tab_b.expect("queue", lambda f: f["now_playing"]["id"] == previous)
        assert previous not in ids(back)[1:]

        await tab_a.send({"type": "play", "track_id": 987_654_321, "ref": "nope"})
        error = await tab_a.expect("error")
        assert error["code"] == "unknown_track" and error["ref"] == "nope"


async def test_like_toggles_over_the_socket_and_is_stored_once(cluster: Cluster) -> None:
    user_id, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        _, first = await tab.hello()
        assert first is not None
        track = first["now_playing"]["id"]
        for ref, action in (("l1", "like"), ("l2", "like"), ("u1", "unlike"), ("u2", "unlike")):
            await tab.send({"type": "feedback", "track_id": track, "action": action, "ref": ref})
            assert (await tab.expect("ack"))["ref"] == ref
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(
            f'SELECT action FROM "{cluster.schema}".listening_events WHERE user_id = $1 ORDER BY id', user_id)
    finally:
        await conn.close()
    assert [r["action"] for r in rows] == ["like", "unlike"]


async def test_a_settings_change_requeues_every_tab(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.b.ws, cookie) as tab:
        _, first = await tab.hello()
        assert first is not None
        async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": cookie}) as client:
            response = await client.put("/api/me/settings", json={"include_unplayable": True})
            assert response.status_code == 200
        requeued = await tab.expect("queue", later(first))
        assert requeued["reason"] == "Settings changed"


async def test_mood_words_that_mean_nothing_are_refused_with_a_reason(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        await tab.hello()
        await tab.send({"type": "mood", "text": "zzzzqqq", "ref": "m1"})
        error = await tab.expect("error")
        assert error["code"] == "unknown_mood_words" and error["ref"] == "m1"
        await tab.send({"type": "mood", "text": "rainy sunday morning", "ref": "m2"})
        assert (await tab.expect("ack"))["ref"] == "m2"


async def test_an_empty_queue_is_filled_when_the_catalog_changes(rt_index: Path, tmp_path: Path) -> None:
    async with running(rt_index, tmp_path) as server:
        user_id, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as tab:
            _, first = await tab.hello()
            assert first is not None
            keys = server.realtime.state.keys
            # As after a first start before the demo catalog is in: nothing queued, nothing playing.
            await server.state.redis.hset(keys.key(user_id, "st"), mapping={"q": "", "np": ""})
            async with server.state.db.transaction() as conn:
                await conn.execute(
                    "UPDATE catalog_meta SET value = (value::bigint + 1)::text WHERE key = 'version'")
            filled = await tab.expect("queue", later(first), within_s=5)
            assert filled["reason"] == "The catalog is ready"
            assert filled["now_playing"] is not None and len(filled["tracks"]) >= 15

            # A queue that has music keeps it when the catalog changes again.
            async with server.state.db.transaction() as conn:
                await conn.execute(
                    "UPDATE catalog_meta SET value = (value::bigint + 1)::text WHERE key = 'version'")
            assert [f for f in await tab.quiet(2.5) if f["type"] == "queue"] == []

"""Fault: Redis is SIGKILLed and restarted while 200 WebSocket sessions are live.

The test owns its redis-server (the project's embedded one, services/redis.py, with the AOF on
as in production) on a free loopback port, and one app server that uses it. 40 users with 5
tabs each (200 sockets, one event loop) are live; every user sends acked feedback before the
kill, tries more while Redis is dead, and retries what was refused. It checks that:

- no tab is dropped for good: every one is connected again after Redis returns;
- queues flow again within 5 s of Redis returning (a `next` reaches all 5 tabs of every user);
- the login sessions survive (AOF): the same cookies still authenticate, HTTP and WebSocket;
- no acked event is lost: every acked ref is a row in PostgreSQL, once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import DATABASE_URL
from tests.reliability.conftest import PASSWORD, make_server
from tests.reliability.faults import LiveTab, OwnRedis

pytestmark = pytest.mark.faults

USERS = 40
TABS = 5
DOWN_S = 6.0  # long enough for the pub/sub reader's backoff to reach its cap
RESULTS: dict[str, object] = {}


async def _register(client: httpx.AsyncClient) -> tuple[int, str]:
    body = {"username": f"fr_{secrets.token_hex(5)}", "password": PASSWORD}
    r = await client.post("/api/auth/register", json=body)
    assert r.status_code == 201, r.text
    client.cookies.clear()  # a register from a logged-in client would revoke the previous session
    return int(r.json()["user"]["id"]), r.headers["set-cookie"].split(";")[0]


async def test_redis_killed_and_restarted_under_200_live_sockets(
    rt_index: Path, tmp_path: Path, run_schema: str
) -> None:
    redis = OwnRedis(tmp_path / "redis-home")
    redis.start()
    server = make_server(rt_index, tmp_path / "app", run_schema, redis_url=redis.url, ws_idle_timeout_s=600)
    tabs: list[LiveTab] = []
    try:
        server.start()
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            users = [await _register(client) for _ in range(USERS)]
        for uid, cookie in users:
            for t in range(TABS):
                tabs.append(LiveTab([server.ws], cookie, name=f"u{uid}t{t}"))
        started = time.monotonic()
        for tab in tabs:
            tab.start()
        try:
            await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs)), 90)
        except TimeoutError:
            print(
                "connected",
                sum(t.connected.is_set() for t in tabs),
                "refused",
                sum(t.refused_handshakes for t in tabs),
                "closes",
                [t.closes for t in tabs if t.closes][:10],
            )
            raise
        await asyncio.gather(*(t.queue_after(0, 30) for t in tabs))
        RESULTS["connect_all_s"] = round(time.monotonic() - started, 2)
        track_id = 1
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            r = await client.get("/api/recommendations?limit=1", headers={"Cookie": users[0][1]})
            track_id = r.json()["tracks"][0]["id"]

        acked: dict[int, set[str]] = {uid: set() for uid, _ in users}

        async def feedback(i: int, tag: str) -> tuple[str, str]:
            uid = users[i][0]
            ref = f"{tag}-{uid}-{secrets.token_hex(3)}"
            outcome = await tabs[i * TABS].request(
                {"type": "feedback", "track_id": track_id, "action": "play", "ref": ref}, within_s=5
            )
            if outcome.kind == "ack":
                acked[uid].add(ref)
            return ref, outcome.code or outcome.kind

        before = await asyncio.gather(*(feedback(i, "before") for i in range(USERS)))
        assert all(kind == "ack" for _, kind in before), before

        # -- the fault -----------------------------------------------------------------------------
        seq_at_kill = [max(t.last_seq or 0 for t in tabs[i * TABS : (i + 1) * TABS]) for i in range(USERS)]
        redis.kill()
        killed_at = time.monotonic()
        during = await asyncio.gather(*(feedback(i, "during") for i in range(USERS)))
        refused = [(ref, kind) for ref, kind in during if kind != "ack"]
        await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - killed_at)))
        redis.start()
        back_at = time.monotonic()

        # Every refused feedback is retried with its ref until acked (as the player does).
        async def retry(i: int, ref: str) -> int:
            tries, _ = await tabs[i * TABS].send_until_acked(
                {"type": "feedback", "track_id": track_id, "action": "play", "ref": ref}, deadline_s=30
            )
            acked[users[i][0]].add(ref)
            return tries

        index_of = {ref: i for i, (ref, _) in enumerate(during)}
        retries = await asyncio.gather(*(retry(index_of[ref], ref) for ref, _ in refused))

        # Queues flow again: a `next` from tab 0 of every user reaches all five of its tabs.
        async def flow(i: int) -> float:
            mark = time.monotonic()
            await tabs[i * TABS].send_until_acked(
                {"type": "next", "ref": f"next-{i}-{secrets.token_hex(2)}"}, deadline_s=20
            )
            arrivals = await asyncio.gather(
                *(t.queue_after(mark, 20) for t in tabs[i * TABS : (i + 1) * TABS])
            )
            return max(arrivals) - back_at

        flow_s = await asyncio.gather(*(flow(i) for i in range(USERS)))
        await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs)), 20)

        # Sessions survived (AOF): the same cookies still work over HTTP and for a new socket.
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            me = [(await client.get("/api/me", headers={"Cookie": c})).status_code for _, c in users]
        assert me == [200] * USERS, me
        fresh = LiveTab([server.ws], users[0][1], name="fresh")
        fresh.start()
        await asyncio.wait_for(fresh.connected.wait(), 10)
        await fresh.stop()

        # No acked event lost: every acked ref is one row in PostgreSQL.
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            rows = await conn.fetch(
                f'SELECT user_id, client_ref FROM "{run_schema}".listening_events WHERE user_id = ANY($1)',
                [uid for uid, _ in users],
            )
        finally:
            await conn.close()
        stored: dict[int, list[str]] = {uid: [] for uid, _ in users}
        for row in rows:
            stored[row["user_id"]].append(row["client_ref"])
        n_acked = sum(len(v) for v in acked.values())
        for uid, refs in acked.items():
            assert sorted(stored[uid]) == sorted(refs), (uid, refs, stored[uid])

        # Nothing lost on the stream either: once quiet, the tabs of one user end on the same
        # queue, and none is behind the newest frame published to the user. (A tab whose resume
        # could not be served got a snapshot under a seq of its own, so seqs alone differ.)
        await asyncio.sleep(1.5)
        mismatched = 0
        for i in range(USERS):
            group = tabs[i * TABS : (i + 1) * TABS]
            since = seq_at_kill[i]
            seen = [{q for _, q in t.queue_frames if q > since} for t in group]
            published = [q for q in set().union(*seen) if sum(q in s for s in seen) >= 2]
            newest = max(published, default=since)
            finals = [t.queue_contents[t.queue_frames[-1][1]] for t in group]
            behind = [t.name for t in group if t.queue_frames[-1][1] < newest]
            diverged = any(f != finals[0] for f in finals) or bool(behind)
            mismatched += diverged
            assert not diverged, (i, [sorted(s) for s in seen], behind, finals)
        log = server.log.read_text(errors="replace")
        assert "Task exception was never retrieved" not in log
        assert "Traceback" not in log

        dropped = sum(len(t.drops) for t in tabs)
        resumed = sum(1 for t in tabs for _, r in t.resumed[1:] if r)
        RESULTS.update(
            {
                "sockets": len(tabs),
                "users": USERS,
                "redis_down_s": round(back_at - killed_at, 2),
                "acked_before": len(before),
                "during_acked": USERS - len(refused),
                "during_refused": len(refused),
                "refusal_kinds": sorted({k for _, k in refused}),
                "max_retries": max(retries, default=0),
                "acked_total": n_acked,
                "rows_in_pg": len(rows),
                "users_with_divergent_tabs": mismatched,
                "connections_dropped": dropped,
                "reconnects_resumed": resumed,
                "refused_handshakes": sum(t.refused_handshakes for t in tabs),
                "queue_flow_after_return_s_max": round(max(flow_s), 2),
                "queue_flow_after_return_s_median": round(sorted(flow_s)[len(flow_s) // 2], 2),
            }
        )
        print(f"redis fault: {RESULTS}")
        assert n_acked == len(rows) == 2 * USERS
        assert max(flow_s) <= 5.0, flow_s
        assert all(t.connected.is_set() for t in tabs)
        assert server.alive()
    finally:
        await asyncio.gather(*(t.stop() for t in tabs))
        server.stop()
        redis.stop()
        assert redis.server.pid() is None

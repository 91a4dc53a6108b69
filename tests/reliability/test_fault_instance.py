"""Fault: one of two app instances is SIGKILLed under load.

Two instances share PostgreSQL and Redis (one key prefix). Every user has a tab on each; the
tab on A streams feedback (one event per ref, retried until acked) while A is killed with
SIGKILL: no drain, no close frame. The tabs that were on A reconnect to B, resume from the last
seq they saw, and carry on; every acked event is in PostgreSQL once, and each user's two tabs
end up with the same queue frames."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import DATABASE_URL, RUN_ID
from tests.realtime.conftest import free_port, instance_data_dir, instance_env
from tests.reliability.conftest import PASSWORD, Server
from tests.reliability.faults import LiveTab

pytestmark = pytest.mark.faults

USERS = 20
RESULTS: dict[str, object] = {}


async def test_an_instance_killed_under_load_loses_nothing(
    rt_index: Path, tmp_path: Path, run_schema: str
) -> None:
    prefix = f"test:{RUN_ID}:{secrets.token_hex(3)}:"
    servers = []
    for name in ("a", "b"):
        port = free_port()
        data_dir = instance_data_dir(rt_index, tmp_path / name)
        env = instance_env(run_schema, prefix, data_dir, port, ws_idle_timeout_s=600)
        servers.append(Server(port, env, tmp_path / f"{name}.log"))
    a, b = servers
    tabs_a: list[LiveTab] = []
    tabs_b: list[LiveTab] = []
    try:
        for s in servers:
            s.start()
        users = []
        async with httpx.AsyncClient(base_url=b.http, timeout=30) as client:
            for _ in range(USERS):
                r = await client.post(
                    "/api/auth/register",
                    json={"username": f"fi_{secrets.token_hex(5)}", "password": PASSWORD},
                )
                assert r.status_code == 201, r.text
                client.cookies.clear()
                users.append((int(r.json()["user"]["id"]), r.headers["set-cookie"].split(";")[0]))
            track_ids = [
                t["id"]
                for t in (
                    await client.get("/api/recommendations?limit=50", headers={"Cookie": users[0][1]})
                ).json()["tracks"]
            ]
        tabs_a = [LiveTab([a.ws, b.ws], c, name=f"a{u}") for u, c in users]
        tabs_b = [LiveTab([b.ws], c, name=f"b{u}") for u, c in users]
        for t in tabs_a + tabs_b:
            t.start()
        await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs_a + tabs_b)), 30)
        await asyncio.gather(*(t.queue_after(0, 30) for t in tabs_a + tabs_b))

        acked: dict[int, set[str]] = {u: set() for u, _ in users}
        stop_at = time.monotonic() + 6.0
        refusals: list[str] = []

        async def stream(i: int) -> None:
            n = 0
            liked: set[int] = set()
            while time.monotonic() < stop_at:
                n += 1
                ref = f"k{i}-{n}-{secrets.token_hex(2)}"
                track = track_ids[(i + n) % len(track_ids)]
                # A like of a track already liked changes nothing and stores nothing (likes are
                # a state), so once a fast machine has gone round the 50 tracks it plays them.
                action = "like" if n % 3 and track not in liked else "play"
                if action == "like":
                    liked.add(track)
                frame = {"type": "feedback", "track_id": track, "action": action, "ref": ref}
                _, refused = await tabs_a[i].send_until_acked(frame, deadline_s=30)
                refusals.extend(refused)
                acked[users[i][0]].add(ref)
                await asyncio.sleep(0.1)

        async def kill() -> float:
            await asyncio.sleep(2.0)
            assert a.proc is not None
            a.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            a.proc.wait(10)
            return killed

        results = await asyncio.gather(kill(), *(stream(i) for i in range(USERS)))
        killed_at = results[0]
        # Every tab that was on A lost its connection, and came back on B with a resume.
        reconnect_s = []
        for t in tabs_a:
            assert t.drops and t.drops[0] >= killed_at, t.name
            back = [at for at, resumed in t.resumed if at > t.drops[0]]
            assert back, f"{t.name} never came back"
            first_back = next(r for at, r in t.resumed if at > t.drops[0])
            assert first_back is True, f"{t.name} was not resumed"
            reconnect_s.append(back[0] - killed_at)
            assert t.url_index % 2 == 1 and t.connected.is_set()  # now on B
        assert all(not t.drops for t in tabs_b), "tabs on B must not notice"

        await asyncio.sleep(1.0)
        shared_frames: list[int] = []
        for ta, tb in zip(tabs_a, tabs_b, strict=True):
            qa = {s for _, s in ta.queue_frames}
            qb = {s for _, s in tb.queue_frames}
            first = max(min(qa), min(qb))  # each tab's first queue frame is its own snapshot
            assert {s for s in qa if s > first} == {s for s in qb if s > first}, (
                ta.name,
                sorted(qa),
                sorted(qb),
            )
            shared_frames.append(len({s for s in qb if s > first}))
            assert ta.seqs == sorted(ta.seqs) and len(set(ta.seqs)) == len(ta.seqs), "seqs must increase"

        conn = await asyncpg.connect(DATABASE_URL)
        try:
            rows = await conn.fetch(
                f'SELECT user_id, client_ref FROM "{run_schema}".listening_events WHERE user_id = ANY($1)',
                [u for u, _ in users],
            )
        finally:
            await conn.close()
        stored = sorted((r["user_id"], r["client_ref"]) for r in rows)
        expected = sorted((u, ref) for u, refs in acked.items() for ref in refs)
        assert stored == expected
        assert b.alive()
        RESULTS.update(
            {
                "users": USERS,
                "tabs": 2 * USERS,
                "acked": len(expected),
                "rows_in_pg": len(stored),
                "queue_frames_compared": sum(shared_frames),
                "refused_then_retried": len(refusals),
                "refusal_kinds": sorted(set(refusals)),
                "reconnect_s_max": round(max(reconnect_s), 2),
                "reconnect_s_median": round(sorted(reconnect_s)[len(reconnect_s) // 2], 2),
            }
        )
        print(f"instance kill: {RESULTS}")
    finally:
        await asyncio.gather(*(t.stop() for t in tabs_a + tabs_b))
        for s in servers:
            s.stop()

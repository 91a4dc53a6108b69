"""Faults with a listening group of five: an app instance SIGKILLed, and Redis SIGKILLed and
restarted (AOF on), while every member streams acked feedback into the group.

Each member is a player tab (tests/reliability/faults.py ``LiveTab`` with ``group_id``): after
every (re)connect it says hello with the last seq it saw, then ``group_join`` again, and counts
as connected only once the join is acked. Both tests check that:

- no acked event is lost: every acked ref is one row in PostgreSQL ``listening_events``,
  carrying the group's ``group_id`` (so it steered the group, not the member's own queue);
- the group's queue flows again: a member's feedback reaches all five members, and every
  member ends on the same group queue;
- membership is intact (it is PostgreSQL's): all five are members, and present again.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DATABASE_URL, RUN_ID
from tests.realtime.conftest import free_port, instance_data_dir, instance_env
from tests.reliability.conftest import PASSWORD, Server, make_server
from tests.reliability.faults import LiveTab, OwnRedis

pytestmark = pytest.mark.faults

MEMBERS = 5
DOWN_S = 5.0
ACTIONS = ("play", "complete")  # each is a new row every time (a second like would not be)
RESULTS: dict[str, dict[str, object]] = {}


async def _people(base_url: str) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Five accounts: the first starts a group, the others join it by its code."""
    people = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for _ in range(MEMBERS):
            body = {"username": f"fg_{secrets.token_hex(5)}", "password": PASSWORD}
            r = await client.post("/api/auth/register", json=body)
            assert r.status_code == 201, r.text
            client.cookies.clear()
            people.append((int(r.json()["user"]["id"]), r.headers["set-cookie"].split(";")[0]))
        made = await client.post("/api/groups", json={"name": "faults"}, headers={"Cookie": people[0][1]})
        assert made.status_code == 201, made.text
        group = made.json()["group"]
        for _, cookie in people[1:]:
            joined = await client.post("/api/groups/join", json={"code": group["code"]},
                                       headers={"Cookie": cookie})
            assert joined.status_code == 200, joined.text
    return group, people


async def _tracks(base_url: str, cookie: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        r = await client.get("/api/recommendations?limit=40", headers={"Cookie": cookie})
    return [t["id"] for t in r.json()["tracks"]]


async def _group(base_url: str, cookie: str, group_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        r = await client.get(f"/api/groups/{group_id}", headers={"Cookie": cookie})
    assert r.status_code == 200, r.text
    return dict(r.json()["group"])


async def _rows(schema: str, user_ids: list[int]) -> list[tuple[int, str, int | None]]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(
            f'SELECT user_id, client_ref, group_id FROM "{schema}".listening_events WHERE user_id = ANY($1)',
            user_ids,
        )
    finally:
        await conn.close()
    return sorted((r["user_id"], r["client_ref"], r["group_id"]) for r in rows)


async def _stream(tabs: list[LiveTab], users: list[int], tracks: list[int], seconds: float,
                  acked: dict[int, set[str]], refusals: list[str], tag: str) -> None:
    """Every member sends feedback (one ref each, retried until acked) for ``seconds``."""
    stop_at = time.monotonic() + seconds

    async def member(i: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            ref = f"{tag}{i}-{n}-{secrets.token_hex(2)}"
            frame = {"type": "feedback", "track_id": tracks[(7 * i + n) % len(tracks)],
                     "action": ACTIONS[n % 2], "ref": ref}
            _, refused = await tabs[i].send_until_acked(frame, deadline_s=40)
            refusals.extend(refused)
            acked[users[i]].add(ref)
            await asyncio.sleep(0.15)

    await asyncio.gather(*(member(i) for i in range(len(tabs))))


async def _flows(tabs: list[LiveTab], users: list[int], group_id: int, track: int,
                 acked: dict[int, set[str]]) -> float:
    """A member's feedback reaches every member's group queue; seconds until the last has it.
    Then every member ends on the same group queue."""
    await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs)), 30)
    await asyncio.sleep(0.5)  # the rejoins' own queue frames are in
    mark = time.monotonic()
    ref = f"flow-{secrets.token_hex(3)}"
    await tabs[1].send_until_acked(
        {"type": "feedback", "track_id": track, "action": "complete", "ref": ref}, deadline_s=20
    )
    acked[users[1]].add(ref)
    arrivals = await asyncio.gather(*(t.queue_after(mark, 10, group_id) for t in tabs))
    await asyncio.sleep(1.0)  # quiet: any frame still on its way lands
    finals = [t.last_queue() for t in tabs]
    assert all(f[0] == group_id for f in finals), finals
    assert all(f == finals[0] for f in finals), [(t.name, f) for t, f in zip(tabs, finals, strict=True)]
    for t in tabs:
        back = [i for i in range(1, len(t.seqs)) if t.seqs[i] <= t.seqs[i - 1]]
        assert not back, (f"{t.name}: seqs must increase",
                          [list(zip(t.kinds[i - 2:i + 2], t.seqs[i - 2:i + 2], strict=True)) for i in back])
    return max(arrivals) - mark


def _no_lost_events(stored: list[tuple[int, str, int | None]], acked: dict[int, set[str]],
                    group_id: int) -> int:
    expected = sorted((u, ref, group_id) for u, refs in acked.items() for ref in refs)
    assert stored == expected, (len(stored), len(expected))
    return len(expected)


async def _each_present(base_url: str, cookie: str, group_id: int, users: list[int]) -> None:
    """Membership intact, and every member present again (within a few seconds)."""
    deadline = time.monotonic() + 10
    while True:
        group = await _group(base_url, cookie, group_id)
        members = {m["user"]["id"]: m["present"] for m in group["members"]}
        assert sorted(members) == sorted(users), members
        if all(members.values()):
            return
        assert time.monotonic() < deadline, members
        await asyncio.sleep(0.3)


async def _with_tabs(tabs: list[LiveTab], body: Callable[[], Awaitable[None]]) -> None:
    for t in tabs:
        t.start()
    try:
        await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs)), 30)
        await body()
    finally:
        await asyncio.gather(*(t.stop() for t in tabs))


async def test_a_group_of_five_survives_an_instance_killed(
    rt_index: Path, tmp_path: Path, run_schema: str
) -> None:
    prefix = f"test:{RUN_ID}:{secrets.token_hex(3)}:"
    servers = []
    for name in ("a", "b"):
        port = free_port()
        env = instance_env(run_schema, prefix, instance_data_dir(rt_index, tmp_path / name), port,
                           ws_idle_timeout_s=600)
        servers.append(Server(port, env, tmp_path / f"{name}.log"))
    a, b = servers
    try:
        for s in servers:
            s.start()
        group, people = await _people(b.http)
        gid = group["id"]
        users = [u for u, _ in people]
        tracks = await _tracks(b.http, people[0][1])
        # Host and two guests on A (B is their fallback), two guests on B.
        on_a = [LiveTab([a.ws, b.ws], c, name=f"a{u}", group_id=gid) for u, c in people[:3]]
        on_b = [LiveTab([b.ws], c, name=f"b{u}", group_id=gid) for u, c in people[3:]]
        tabs = on_a + on_b
        acked: dict[int, set[str]] = {u: set() for u in users}
        refusals: list[str] = []

        async def body() -> None:
            await asyncio.gather(*(t.queue_after(0, 20, gid) for t in tabs))

            async def kill() -> float:
                await asyncio.sleep(2.0)
                assert a.proc is not None
                a.proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                a.proc.wait(10)
                return killed

            streamed = _stream(tabs, users, tracks, 6.0, acked, refusals, "k")
            killed_at, _ = await asyncio.gather(kill(), streamed)
            back_s = []
            for t in on_a:  # dropped by the kill, back on B (hello with resume_after), following again
                # A resume_after from the group's stream resumes the own stream with a fresh
                # queue (docs/websocket.md); group_join then brings the group's current queue.
                assert t.drops and t.drops[0] >= killed_at, t.name
                assert any(at > t.drops[0] for at, _ in t.resumed), f"{t.name} never came back"
                assert t.url_index % 2 == 1 and t.connected.is_set() and t.joins >= 2, t.name
                back_s.append(max(at for at, _ in t.resumed) - killed_at)
            assert all(not t.drops for t in on_b), "members on B must not notice"

            flow_s = await _flows(tabs, users, gid, tracks[0], acked)
            n = _no_lost_events(await _rows(run_schema, users), acked, gid)
            await _each_present(b.http, people[0][1], gid, users)
            assert (await _group(b.http, people[0][1], gid))["host"]["id"] == users[0]
            RESULTS["instance_kill"] = {"acked_in_pg": n, "refused_then_retried": len(refusals),
                                        "refusal_kinds": sorted(set(refusals)),
                                        "back_on_b_s_max": round(max(back_s), 2),
                                        "flow_after_s": round(flow_s, 3)}
            print(f"group instance kill: {RESULTS['instance_kill']}")

        await _with_tabs(tabs, body)
        assert b.alive()
    finally:
        for s in servers:
            s.stop()


async def test_a_group_of_five_survives_redis_killed_and_restarted(
    rt_index: Path, tmp_path: Path, run_schema: str
) -> None:
    redis = OwnRedis(tmp_path / "redis-home")
    redis.start()
    server = make_server(rt_index, tmp_path / "app", run_schema, redis_url=redis.url, ws_idle_timeout_s=600)
    try:
        server.start()
        group, people = await _people(server.http)
        gid = group["id"]
        users = [u for u, _ in people]
        tracks = await _tracks(server.http, people[0][1])
        tabs = [LiveTab([server.ws], c, name=f"m{u}", group_id=gid) for u, c in people]
        acked: dict[int, set[str]] = {u: set() for u in users}
        refusals: list[str] = []

        async def body() -> None:
            await asyncio.gather(*(t.queue_after(0, 20, gid) for t in tabs))
            await _stream(tabs, users, tracks, 1.0, acked, refusals, "before")
            assert not refusals, refusals

            async def fault() -> float:
                await asyncio.sleep(0.5)
                redis.kill()
                killed = time.monotonic()
                await asyncio.sleep(DOWN_S)
                redis.start()
                return time.monotonic() - killed

            # Members keep sending through the outage; what is refused is retried until acked.
            down_s, _ = await asyncio.gather(fault(), _stream(tabs, users, tracks, DOWN_S + 1.5, acked,
                                                              refusals, "during"))
            flow_s = await _flows(tabs, users, gid, tracks[0], acked)
            n = _no_lost_events(await _rows(run_schema, users), acked, gid)
            await _each_present(server.http, people[0][1], gid, users)
            assert (await _group(server.http, people[0][1], gid))["host"]["id"] == users[0]
            log = server.log.read_text(errors="replace")
            assert "Task exception was never retrieved" not in log
            RESULTS["redis_restart"] = {"redis_down_s": round(down_s, 2), "acked_in_pg": n,
                                        "refused_then_retried": len(refusals),
                                        "refusal_kinds": sorted(set(refusals)),
                                        "connections_dropped": sum(len(t.drops) for t in tabs),
                                        "rejoins": sum(t.joins for t in tabs) - len(tabs),
                                        "flow_after_s": round(flow_s, 3)}
            print(f"group redis restart: {RESULTS['redis_restart']}")

        await _with_tabs(tabs, body)
        assert server.alive()
    finally:
        server.stop()
        redis.stop()

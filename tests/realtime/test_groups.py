"""Listening together, per the contract's "Listening together" section: a host on one instance,
guests on the other (the `cluster` fixture: two app servers on one Redis and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.conftest import DATABASE_URL
from tests.realtime.conftest import Cluster, Tab, open_tab, register


def seqs_increase(tab: Tab) -> bool:
    seqs = tab.seqs()
    return all(a < b for a, b in itertools.pairwise(seqs))


@contextlib.asynccontextmanager
async def following(url: str, cookie: str, group_id: int) -> AsyncIterator[tuple[Tab, dict[str, Any]]]:
    """A tab that said hello and follows the group; yields it with the group's first queue frame."""
    async with open_tab(url, cookie) as tab:
        await tab.hello()
        await tab.send({"type": "group_join", "group_id": group_id, "ref": "join"})
        seen: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 20
        while len(seen) < 3:  # the ack, the group and its queue, in whichever order they come
            frame = await tab.recv(max(0.01, deadline - time.monotonic()))
            if frame["type"] == "ack" and frame.get("ref") == "join":
                seen["ack"] = frame
            elif frame["type"] == "group":
                seen["group"] = frame
            elif frame["type"] == "queue" and frame.get("group_id") == group_id:
                seen["queue"] = frame
        queue = seen["queue"]
        yield tab, queue


async def start_group(cluster: Cluster, **body: Any) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """A host and two guests; the guests joined by code. Returns the group and (id, cookie)s."""
    people = [await register(cluster.a.http) for _ in range(3)]
    async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": people[0][1]}) as host:
        created = await host.post("/api/groups", json={"name": "Friday", "mood": "chill", **body})
        assert created.status_code == 201, created.text
    group = created.json()["group"]
    for _, cookie in people[1:]:
        async with httpx.AsyncClient(base_url=cluster.b.http, headers={"Cookie": cookie}) as guest:
            joined = await guest.post("/api/groups/join", json={"code": group["code"].lower()})
            assert joined.status_code == 200, joined.text
    return group, people


async def test_start_and_join_by_code_with_roles_presence_and_refusals(cluster: Cluster) -> None:
    group, people = await start_group(cluster)
    (host_id, host), (guest_id, guest), _ = people
    assert len(group["code"]) == 6 and group["link"] == f"/join/{group['code']}"
    assert group["host"]["id"] == host_id and group["limit"] >= 32 and group["guest_controls"] is False
    async with httpx.AsyncClient(base_url=cluster.b.http) as client:
        seen = (await client.get(f"/api/groups/{group['id']}", headers={"Cookie": guest})).json()["group"]
        assert [m["role"] for m in seen["members"]] == ["host", "guest", "guest"]
        assert not any(m["present"] for m in seen["members"])
        mine = (await client.get("/api/me/group", headers={"Cookie": guest})).json()["group"]
        assert mine["id"] == group["id"]

        _, stranger = await register(cluster.b.http)
        outsider = await client.get(f"/api/groups/{group['id']}", headers={"Cookie": stranger})
        assert outsider.status_code == 403
        wrong = await client.post("/api/groups/join", json={"code": "ZZZZZZ"}, headers={"Cookie": stranger})
        assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "unknown_group"
        for _ in range(12):  # guessing is refused after a few wrong codes
            last = await client.post("/api/groups/join", json={"code": "QQQQQQ"},
                                     headers={"Cookie": stranger})
        assert last.status_code == 429
        guest_mood = await client.put(f"/api/groups/{group['id']}/mood", json={"mood": "focus"},
                                      headers={"Cookie": guest})
        assert guest_mood.status_code == 403

    # Presence is live: a member following the group over a socket is present.
    async with following(cluster.b.ws, guest, group["id"]) as (tab, _):
        async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": host}) as client:
            present = {m["user"]["id"]: m["present"]
                       for m in (await client.get(f"/api/groups/{group['id']}")).json()["group"]["members"]}
        assert present[guest_id] is True and present[host_id] is False
        assert seqs_increase(tab)


async def test_a_member_who_comes_or_goes_changes_the_queue_at_once(cluster: Cluster) -> None:
    """Arriving (a first connection following the group) and leaving (the last one closed) each
    recompute the group's queue for the company present, before anyone reacts to a track."""
    group, people = await start_group(cluster)
    (_, host), (guest_id, guest), _ = people

    def by_company(frame: dict[str, Any]) -> bool:
        return frame.get("group_id") == group["id"] and frame.get("reason") == "Updated for who is here"

    async with following(cluster.a.ws, host, group["id"]) as (host_tab, _):
        await host_tab.expect("queue", by_company)  # the host's own arrival
        async with following(cluster.b.ws, guest, group["id"]):
            await host_tab.expect("queue", by_company)
            # A second tab of someone already present changes nothing.
            async with following(cluster.b.ws, guest, group["id"]):
                extra = [f for f in await host_tab.quiet(1.0) if f["type"] == "queue" and by_company(f)]
                assert extra == []
        # The guest's last tab closed: they are away, then the queue is for the host alone.
        await host_tab.expect("group", lambda f: not next(m["present"] for m in f["group"]["members"]
                                                          if m["user"]["id"] == guest_id))
        await host_tab.expect("queue", by_company)


async def test_a_full_group_refuses_the_next_member(cluster: Cluster) -> None:
    group, _ = await start_group(cluster)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'UPDATE "{cluster.schema}".groups SET member_limit = 3 WHERE id = $1',
                           group["id"])
    finally:
        await conn.close()
    _, late = await register(cluster.a.http)
    async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": late}) as client:
        full = await client.post("/api/groups/join", json={"code": group["code"]})
    assert full.status_code == 409 and full.json()["error"]["code"] == "group_full"


async def test_every_member_steers_one_queue_across_instances(cluster: Cluster) -> None:
    group, people = await start_group(cluster)
    (host_id, host), (g1_id, g1), (g2_id, g2) = people
    gid = group["id"]
    async with (following(cluster.a.ws, host, gid) as (tab_h, first),
                following(cluster.b.ws, g1, gid) as (tab_1, _),
                following(cluster.b.ws, g2, gid) as (tab_2, _)):
        assert first["group_id"] == gid and all("added_by" in t for t in first["tracks"])
        playback = await tab_h.expect("playback")
        assert playback["track_id"] == first["now_playing"]["id"] and playback["state"] == "playing"

        # A guest's like reaches every member's queue.
        liked = first["tracks"][0]["id"]
        await tab_1.send({"type": "feedback", "track_id": liked, "action": "like", "ref": "like-1"})
        for tab in (tab_h, tab_1, tab_2):  # (the members' arrivals brought queue frames of their own)
            changed = await tab.expect("queue", lambda f: f.get("group_id") == gid
                                       and f["reason"] == "Tuned toward what you liked")
            assert changed["seq"] > first["seq"]
        # A member puts a track next: first in line, attributed to them.
        pick = first["tracks"][-1]["id"]
        await tab_2.send({"type": "queue_add", "track_id": pick, "ref": "add"})
        for tab in (tab_h, tab_1, tab_2):
            added = await tab.expect("queue", lambda f: bool(f["tracks"]) and f["tracks"][0]["id"] == pick)
            assert added["tracks"][0]["added_by"]["id"] == g2_id

        # A guest's skip is a vote: one of three present is not enough, two are.
        playing = first["now_playing"]["id"]
        await tab_1.send({"type": "vote_skip", "ref": "v1"})
        votes = await tab_h.expect("group", lambda f: bool(f["group"]["skip_votes"]))
        assert votes["group"]["skip_votes"] == {"track_id": playing, "votes": 1, "needed": 2}
        await tab_2.send({"type": "feedback", "track_id": playing, "action": "skip", "ref": "v2"})
        for tab in (tab_h, tab_1, tab_2):
            moved = await tab.expect("playback", lambda f: f["track_id"] != playing)
            assert moved["position_ms"] == 0 and moved["state"] == "playing"
        assert moved["track_id"] == pick, "the member's pick plays next"

        # Playback is the host's (guest controls are off): pause and seek reach everyone.
        await tab_1.send({"type": "playback", "state": "paused", "position_ms": 1000, "ref": "p1"})
        assert (await tab_1.expect("error", lambda f: f.get("ref") == "p1"))["code"] == "forbidden"
        await tab_h.send({"type": "playback", "state": "paused", "position_ms": 42_000, "ref": "p2"})
        for tab in (tab_h, tab_1, tab_2):
            paused = await tab.expect("playback", lambda f: f["state"] == "paused")
            assert paused["position_ms"] == 42_000 and paused["track_id"] == pick

        # The server is the clock.
        await tab_2.send({"type": "clock", "client_ms": 1234.5})
        tick = await tab_2.expect("clock")
        assert tick["client_ms"] == 1234.5 and abs(tick["server_ms"] - time.time() * 1000) < 5000

        # Every player reports the end of the track; the group advances once.
        for tab, ref in ((tab_h, "e1"), (tab_1, "e2"), (tab_2, "e3")):
            await tab.send({"type": "ended", "track_id": pick, "ref": ref})
        await tab_h.expect("playback", lambda f: f["track_id"] not in (pick, playing))
        after = [f for f in await tab_1.quiet(1.0) if f["type"] == "playback"]
        assert len({f["track_id"] for f in after}) <= 1, "one advance, not three"
        for tab in (tab_h, tab_1, tab_2):
            assert seqs_increase(tab)

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(
            f'SELECT user_id, action, group_id FROM "{cluster.schema}".listening_events '
            "WHERE user_id = ANY($1) ORDER BY id", [host_id, g1_id, g2_id])
    finally:
        await conn.close()
    assert rows and all(r["group_id"] == gid for r in rows), "every group event carries the group"
    assert ("like" in {r["action"] for r in rows if r["user_id"] == g1_id})


async def test_host_leaves_then_the_group_ends_and_everyone_gets_their_own_queue(cluster: Cluster) -> None:
    group, people = await start_group(cluster)
    (host_id, host), (g1_id, g1), (_, g2) = people
    gid = group["id"]
    async with (following(cluster.a.ws, host, gid) as (tab_h, _),
                following(cluster.b.ws, g1, gid) as (tab_1, _),
                following(cluster.a.ws, g2, gid) as (tab_2, _),
                open_tab(cluster.b.ws, g2) as own_2):
        await own_2.hello()  # a second tab of guest 2 that stays on its own queue
        async with httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": host}) as client:
            assert (await client.post(f"/api/groups/{gid}/leave")).status_code == 204
        gone = await tab_h.expect("group", lambda f: f.get("status") == "left")
        assert gone["group"]["id"] == gid
        own = await tab_h.expect("queue", lambda f: "group_id" not in f)
        assert own["seq"] > gone["seq"]
        # The member present longest (guest 1 followed first) is the new host.
        promoted = await tab_2.expect("group", lambda f: f["group"]["host"]["id"] != host_id)
        assert promoted["group"]["host"]["id"] == g1_id
        assert host_id not in [m["user"]["id"] for m in promoted["group"]["members"]]

        async with httpx.AsyncClient(base_url=cluster.b.http, headers={"Cookie": g2}) as client:
            assert (await client.delete(f"/api/groups/{gid}")).status_code == 403
        async with httpx.AsyncClient(base_url=cluster.b.http, headers={"Cookie": g1}) as client:
            assert (await client.delete(f"/api/groups/{gid}")).status_code == 204
            assert (await client.get(f"/api/groups/{gid}")).status_code == 404
            assert (await client.get("/api/me/group")).json()["group"] is None
        for tab in (tab_1, tab_2):
            ended = await tab.expect("group", lambda f: f.get("status") == "ended")
            assert ended["group"]["ended"] is True
            back = await tab.expect("queue", lambda f: "group_id" not in f)
            assert back["seq"] > ended["seq"] and seqs_increase(tab)
        # A tab that was not following the group hears that it ended too.
        assert (await own_2.expect("group", lambda f: f.get("status") == "ended"))["group"]["id"] == gid
        # Back on their own stream: feedback steers their own queue again.
        track = back["tracks"][0]["id"]
        await tab_2.send({"type": "feedback", "track_id": track, "action": "skip", "ref": "own"})
        await tab_2.expect("ack", lambda f: f["ref"] == "own")


async def test_rights_changed_on_one_instance_hold_at_once_for_members_on_the_other(cluster: Cluster) -> None:
    """Instance B keeps the group's rows for its members' frames (realtime/group_rows.py); the
    host's changes over HTTP on instance A reach them with the group frame."""
    group, people = await start_group(cluster)
    host, g1_id = people[0][1], people[1][0]
    gid = group["id"]
    async with (contextlib.AsyncExitStack() as stack,
                httpx.AsyncClient(base_url=cluster.a.http, headers={"Cookie": host}) as client):
        tab_h, tab_1, tab_2 = [(await stack.enter_async_context(following(server.ws, cookie, gid)))[0]
                               for server, (_, cookie) in zip((cluster.a, cluster.b, cluster.b), people,
                                                              strict=True)]
        await tab_1.send({"type": "playback", "state": "paused", "position_ms": 1000, "ref": "p1"})
        assert (await tab_1.expect("error", lambda f: f.get("ref") == "p1"))["code"] == "forbidden"

        assert (await client.patch(f"/api/groups/{gid}", json={"guest_controls": True})).status_code == 200
        await tab_1.expect("group", lambda f: f["group"]["guest_controls"] is True)
        await tab_1.send({"type": "playback", "state": "paused", "position_ms": 7000, "ref": "p2"})
        await tab_1.expect("ack", lambda f: f.get("ref") == "p2")
        assert (await tab_h.expect("playback", lambda f: f["state"] == "paused"))["position_ms"] == 7000

        assert (await client.patch(f"/api/groups/{gid}", json={"guest_controls": False})).status_code == 200
        assert (await client.put(f"/api/groups/{gid}/host", json={"user_id": g1_id})).status_code == 200
        await tab_2.expect("group", lambda f: f["group"]["host"]["id"] == g1_id)
        await tab_2.send({"type": "playback", "state": "playing", "position_ms": 0, "ref": "p3"})
        assert (await tab_2.expect("error", lambda f: f.get("ref") == "p3"))["code"] == "forbidden"
        await tab_1.send({"type": "playback", "state": "playing", "position_ms": 9000, "ref": "p4"})
        await tab_1.expect("ack", lambda f: f.get("ref") == "p4")
        assert (await tab_2.expect("playback", lambda f: f["position_ms"] == 9000))["state"] == "playing"


async def test_a_dropped_member_resumes_and_follows_again(cluster: Cluster) -> None:
    group, people = await start_group(cluster)
    _, guest = people[1]
    gid = group["id"]
    async with following(cluster.b.ws, guest, gid) as (tab, _):
        last = max(tab.seqs())
    async with open_tab(cluster.a.ws, guest) as again:
        welcome, _ = await again.hello(resume_after=last)
        assert welcome["seq"] >= last
        await again.send({"type": "group_join", "group_id": gid, "ref": "j"})
        queue = await again.expect("queue", lambda f: f.get("group_id") == gid)
        assert queue["seq"] > last
        assert (await again.expect("group"))["group"]["id"] == gid
        assert seqs_increase(again)


async def test_an_empty_group_ends_after_the_idle_time_and_switching_groups_moves_presence(
    rt_index: Path, tmp_path: Path
) -> None:
    from tests.realtime.test_in_process import running

    async with running(rt_index, tmp_path, group_idle_end_s=2.0) as server:
        (_, host), (guest_id, guest), (_, loner) = [await register(server.http) for _ in range(3)]
        async with httpx.AsyncClient(base_url=server.http) as client:
            first = (await client.post("/api/groups", json={}, headers={"Cookie": host})).json()["group"]
            second = (await client.post("/api/groups", json={}, headers={"Cookie": guest})).json()["group"]
            # A group whose only member never listens: nobody present, it ends after the idle time.
            unheard = (await client.post("/api/groups", json={}, headers={"Cookie": loner})).json()["group"]
            await client.post("/api/groups/join", json={"code": first["code"]}, headers={"Cookie": guest})
            async with following(server.ws, guest, first["id"]) as (tab, _):
                # The guest left the group they started to join the first: it is empty and ends.
                await asyncio.sleep(5)
                gone = await client.get(f"/api/groups/{second['id']}", headers={"Cookie": guest})
                assert gone.status_code == 404
                idle = await client.get(f"/api/groups/{unheard['id']}", headers={"Cookie": loner})
                assert idle.status_code == 404
                assert (await client.get("/api/me/group", headers={"Cookie": loner})).json()["group"] is None
                # A group with someone present lives on past the idle time.
                here = await client.get(f"/api/groups/{first['id']}", headers={"Cookie": host})
                assert here.status_code == 200
                assert {m["user"]["id"]: m["present"] for m in here.json()["group"]["members"]}[guest_id]
                assert seqs_increase(tab)

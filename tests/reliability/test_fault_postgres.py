"""Fault: PostgreSQL is SIGKILLed (the postmaster and every backend) and restarted mid-stream.

The test owns an embedded PostgreSQL started by the project's own service manager
(services/manager.py, EmbeddedServices) on a free loopback port, holding a copy of the realtime
tests' catalog, and one app server on it. Users stream feedback, half over the WebSocket and half
over `POST /api/feedback`, each event with its own ref, through the kill and the restart. Every
event must be either acked (and then durable) or refused with the contract's answer (an
`unavailable` error frame, a 1011 close, or a 503), which the client retries with the same ref.
Afterwards the acked refs and the rows in PostgreSQL are the same set, each row once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.store.db import Database
from app.store.migrate import migrate
from services.manager import EmbeddedServices
from tests.conftest import DATABASE_URL
from tests.realtime.conftest import free_port
from tests.reliability.conftest import PASSWORD, make_server
from tests.reliability.faults import LiveTab, _sigkill_tree

pytestmark = pytest.mark.faults

USERS = 8
STREAM_S = 9.0  # feedback flows for this long; the kill comes after 2 s, the restart 3 s later
SCHEMA = "faults"
RESULTS: dict[str, object] = {}


async def _copy_catalog(own_url: str, run_schema: str) -> int:
    """The realtime catalog, with its ids, into the owned server (the index copy refers to them)."""
    db = Database(own_url, SCHEMA)
    await db.connect()
    try:
        await migrate(db)
    finally:
        await db.close()
    src = await asyncpg.connect(DATABASE_URL)
    dst = await asyncpg.connect(own_url)
    try:
        rows = await src.fetch(f'SELECT * FROM "{run_schema}".tracks WHERE source = $1', "rt-test")
        columns = list(rows[0].keys())
        await dst.copy_records_to_table(
            "tracks", records=[tuple(r) for r in rows], columns=columns, schema_name=SCHEMA
        )
        await dst.execute(
            f'SELECT setval(\'"{SCHEMA}".tracks_id_seq\', (SELECT max(id) FROM "{SCHEMA}".tracks))'
        )
        return len(rows)
    finally:
        await src.close()
        await dst.close()


async def test_postgres_killed_and_restarted_mid_stream(
    rt_index: Path, rt_tracks: list, tmp_path: Path, run_schema: str
) -> None:
    services = EmbeddedServices(tmp_path / "pg-home", postgres=True, redis=False, pg_port=free_port())
    assert services.postgres is not None
    server = None
    tabs: list[LiveTab] = []
    try:
        t0 = time.monotonic()
        own_url = services.start()["database_url"]
        RESULTS["pg_start_s"] = round(time.monotonic() - t0, 1)
        n_tracks = await _copy_catalog(own_url, run_schema)
        track_ids = [t.id for t in rt_tracks][:50]
        server = make_server(
            rt_index,
            tmp_path / "app",
            run_schema,
            database_url=own_url,
            db_schema=SCHEMA,
            ws_idle_timeout_s=600,
        )
        server.start()
        users = []
        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            for _ in range(USERS):
                r = await client.post(
                    "/api/auth/register",
                    json={"username": f"fp_{secrets.token_hex(5)}", "password": PASSWORD},
                )
                assert r.status_code == 201, r.text
                client.cookies.clear()
                users.append((int(r.json()["user"]["id"]), r.headers["set-cookie"].split(";")[0]))
        tabs = [LiveTab([server.ws], cookie, name=f"u{uid}") for uid, cookie in users]
        for tab in tabs:
            tab.start()
        await asyncio.wait_for(asyncio.gather(*(t.connected.wait() for t in tabs)), 30)

        acked: dict[int, set[str]] = {uid: set() for uid, _ in users}
        sent = Counter[str]()
        refusals = Counter[str]()
        health_during: list[tuple[int, dict]] = []
        stop_at = time.monotonic() + STREAM_S

        async def over_ws(i: int, ref: str) -> None:
            frame = {
                "type": "feedback",
                "track_id": track_ids[(i * 7 + len(ref)) % len(track_ids)],
                "action": "play",
                "ref": ref,
            }
            _, refused = await tabs[i].send_until_acked(frame, deadline_s=60)
            for kind in refused:
                refusals[f"ws:{kind}"] += 1

        async def over_http(client: httpx.AsyncClient, i: int, ref: str) -> None:
            body = {"track_id": track_ids[i % len(track_ids)], "action": "play", "ref": ref}
            deadline = time.monotonic() + 60
            while True:
                try:
                    r = await client.post("/api/feedback", json=body, headers={"Cookie": users[i][1]})
                except httpx.HTTPError as exc:
                    refusals[f"http:{type(exc).__name__}"] += 1
                else:
                    if r.status_code == 202:
                        return
                    assert r.status_code == 503, (r.status_code, r.text)
                    assert r.json()["error"]["code"] == "service_unavailable"
                    refusals["http:503"] += 1
                assert time.monotonic() < deadline, f"{ref} never accepted"
                await asyncio.sleep(0.2)

        async def stream(i: int, client: httpx.AsyncClient) -> None:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                ref = f"s{i}-{n}-{secrets.token_hex(2)}"
                if n % 2:
                    await over_ws(i, ref)
                    sent["ws"] += 1
                else:
                    await over_http(client, i, ref)
                    sent["http"] += 1
                acked[users[i][0]].add(ref)
                await asyncio.sleep(0.05)

        async def fault(client: httpx.AsyncClient) -> None:
            await asyncio.sleep(2.0)
            assert services.postgres is not None
            pid = services.postgres.pid()
            assert pid is not None
            _sigkill_tree(pid)
            RESULTS["killed_after_acks"] = sum(len(v) for v in acked.values())
            killed = time.monotonic()
            await asyncio.sleep(1.0)
            r = await client.get("/api/health")
            health_during.append((r.status_code, r.json()))
            await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - killed)))
            restarted = time.monotonic()
            await asyncio.to_thread(services.start)  # crash recovery, then accepting again
            RESULTS["pg_down_s"] = round(time.monotonic() - killed, 1)
            RESULTS["pg_restart_s"] = round(time.monotonic() - restarted, 1)

        async with httpx.AsyncClient(base_url=server.http, timeout=30) as client:
            await asyncio.gather(fault(client), *(stream(i, client) for i in range(USERS)))
            health_after = (await client.get("/api/health")).status_code

        conn = await asyncpg.connect(own_url)
        try:
            rows = await conn.fetch(f'SELECT user_id, client_ref FROM "{SCHEMA}".listening_events')
        finally:
            await conn.close()
        stored = Counter((r["user_id"], r["client_ref"]) for r in rows)
        acked_pairs = {(uid, ref) for uid, refs in acked.items() for ref in refs}
        assert set(stored) == acked_pairs
        assert all(n == 1 for n in stored.values())
        assert health_during and health_during[0][0] == 503 and health_during[0][1]["postgres"] == "down"
        assert health_after == 200
        assert sum(refusals.values()) > 0, "the kill must have refused something"
        assert server.alive()
        log = server.log.read_text(errors="replace")
        # Only warnings: a refused request is logged in one line (asyncpg's own pool warning about
        # its connection floor carries a traceback; no error of the app's does).
        assert " ERROR " not in log and "Task exception was never retrieved" not in log, log[-3000:]
        RESULTS.update(
            {
                "tracks_copied": n_tracks,
                "users": USERS,
                "acked": len(acked_pairs),
                "rows_in_pg": len(rows),
                "sent": dict(sent),
                "refusals": dict(refusals),
                "health_during": health_during[0][1],
                "health_after": health_after,
                "ws_drops": sum(len(t.drops) for t in tabs),
            }
        )
        print(f"postgres fault: {RESULTS}")
    finally:
        await asyncio.gather(*(t.stop() for t in tabs))
        if server is not None:
            server.stop()
        pid = services.postgres.pid()
        services.stop()
        if pid is not None:
            _sigkill_tree(pid)
        assert services.postgres.pid() is None

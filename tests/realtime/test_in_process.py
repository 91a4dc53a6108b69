"""An instance in the test's own event loop, for what needs a look inside or special settings:
idle timeouts, shutdown, the bus losing Redis, the stale-drop counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from quart import Quart
from websockets.exceptions import ConnectionClosed

from app.factory import create_app
from app.state import AppState
from realtime.runtime import Realtime, get_realtime
from tests.conftest import REDIS_URL, make_settings
from tests.realtime.conftest import free_port, ids, instance_data_dir, open_tab, register
from tests.realtime.server_main import serve_app


@dataclass
class Running:
    app: Quart
    port: int
    stop: asyncio.Event
    task: asyncio.Task[None]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def state(self) -> AppState:
        state: AppState = self.app.extensions["musicrec"]
        return state

    @property
    def realtime(self) -> Realtime:
        found = get_realtime(self.state)
        assert found is not None
        return found


@contextlib.asynccontextmanager
async def running(rt_index: Path, tmp_path: Path, **overrides: Any) -> AsyncIterator[Running]:
    port = free_port()
    settings = make_settings(tmp_path, data_dir=instance_data_dir(rt_index, tmp_path / "data"), port=port,
                             **overrides)
    app = create_app(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_app(app, settings, stop))
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{port}/api/moods", timeout=1)).status_code < 500:
                    break
            await asyncio.sleep(0.05)
    server = Running(app, port, stop, task)
    try:
        yield server
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def test_an_idle_connection_is_closed_with_1000(rt_index: Path, tmp_path: Path) -> None:
    async with running(rt_index, tmp_path, ws_idle_timeout_s=0.8) as server:
        _, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as idle, open_tab(server.ws, cookie) as chatty:
            await idle.hello()
            await chatty.hello()
            for _ in range(8):  # pings keep a connection alive
                await asyncio.sleep(0.25)
                await chatty.send({"type": "ping"})
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await idle.recv(3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
            assert closed.value.rcvd.reason == "idle timeout"
            await chatty.send({"type": "ping"})
            assert (await chatty.expect("pong"))["type"] == "pong"


async def test_shutdown_closes_every_socket_with_1001(rt_index: Path, tmp_path: Path) -> None:
    async with running(rt_index, tmp_path) as server:
        _, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as one, open_tab(server.ws, cookie, text=True) as two:
            await one.hello()
            await two.hello()
            server.stop.set()
            for tab in (one, two):
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await tab.recv(5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_the_bus_reconnects_and_the_tab_misses_nothing(rt_index: Path, tmp_path: Path) -> None:
    async with running(rt_index, tmp_path) as server:
        _, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as tab:
            _, first = await tab.hello()
            assert first is not None
            bus = server.realtime.hub.bus
            name = f"{server.state.settings.redis_prefix}bus"
            admin = aioredis.from_url(REDIS_URL)
            try:
                clients = await admin.client_list()
                (victim,) = [c for c in clients if c.get("name") == name]
                await admin.client_kill_filter(_id=victim["id"])
            finally:
                await admin.aclose()
            # Changed while the bus is down (or coming back): the frame reaches the tab anyway,
            # from pub/sub or from the resume log.
            async with httpx.AsyncClient(base_url=server.http, headers={"Cookie": cookie}) as http:
                r = await http.post("/api/feedback", json={"track_id": first["now_playing"]["id"],
                                                           "action": "skip"})
                assert r.status_code == 202
            moved = await tab.expect("queue", lambda f: f["seq"] > first["seq"], within_s=10)
            assert moved["now_playing"]["id"] == first["tracks"][0]["id"]
            for _ in range(100):
                if bus.reconnects:
                    break
                await asyncio.sleep(0.05)
            assert bus.reconnects == 1 and bus.connected
            # And it is subscribed again: the next change arrives live.
            await tab.send({"type": "next"})
            after = await tab.expect("queue", lambda f: f["seq"] > moved["seq"])
            assert after["now_playing"]["id"] == moved["tracks"][0]["id"]


async def test_one_recompute_serves_all_tabs_and_stale_ones_are_counted(
    rt_index: Path, tmp_path: Path
) -> None:
    async with running(rt_index, tmp_path) as server:
        _, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as a, open_tab(server.ws, cookie) as b:
            _, first = await a.hello()
            await b.hello()
            assert first is not None
            stats = server.realtime.queues.stats
            computed = stats.computed
            await a.send({"type": "feedback", "track_id": first["tracks"][2]["id"], "action": "like"})
            await a.expect("queue", lambda f: f["seq"] > first["seq"])
            await b.expect("queue", lambda f: f["seq"] > first["seq"])
            await a.quiet(0.2)
            assert stats.computed == computed + 1, "two tabs, one recompute"
            skipped = ids(first)[:10]
            for track in skipped:
                await a.send({"type": "feedback", "track_id": track, "action": "skip"})
            await a.quiet(1.0)
            assert stats.computed - computed <= 4
            assert stats.published + stats.stale == stats.computed

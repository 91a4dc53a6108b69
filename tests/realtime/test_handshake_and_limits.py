"""Who may connect, and what abusive or broken clients get (per the contract)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.realtime.conftest import Cluster, open_tab, register


async def refused_status(url: str, cookie: str | None, origin: str | None = "auto") -> tuple[int, Any]:
    with pytest.raises(InvalidStatus) as refused:
        async with open_tab(url, cookie, origin=origin):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"null")


async def closed_with(tab: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(1000):
            await tab.recv(5)
    assert closed.value.rcvd is not None, "the server must send a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_no_session_is_refused_before_the_upgrade(cluster: Cluster) -> None:
    status, body = await refused_status(cluster.a.ws, None)
    assert status == 401 and body["error"]["code"] == "not_authenticated"
    status, _ = await refused_status(cluster.a.ws, "musicrec_session=forged.value.sig")
    assert status == 401


async def test_a_foreign_or_missing_origin_is_refused_before_the_upgrade(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    status, body = await refused_status(cluster.a.ws, cookie, origin="http://evil.example")
    assert status == 403 and body["error"]["code"] == "bad_origin"
    status, _ = await refused_status(cluster.a.ws, cookie, origin=None)
    assert status == 403
    # The same host, and an origin from settings.allowed_origins, are welcome.
    async with open_tab(cluster.a.ws, cookie, origin="http://player.example") as tab:
        welcome, _ = await tab.hello()
        assert welcome["type"] == "welcome"


async def test_an_oversized_frame_closes_with_1009(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        await tab.hello()
        await tab.ws.send(msgpack.packb({"type": "ping", "pad": "x" * 70_000}))
        code, reason = await closed_with(tab)
        assert code == 1009 and "65536" in reason


async def test_flooding_closes_with_1008(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        # Before hello a ping is answered without a Redis round trip, so the server takes the
        # frames as fast as they come even on a loaded machine: the flood is a flood. (After
        # hello, a server slowed down enough processes them below the limit.)
        for sent in range(200):
            try:
                await tab.send({"type": "ping"})
            except ConnectionClosed:
                break  # closed mid-flood: the close frame is read below
            if sent % 20 == 19:
                # Let the client's reader run, so that a close frame already sent is taken in
                # before a write into the closed socket could lose it (a loaded machine).
                await asyncio.sleep(0.001)
        code, reason = await closed_with(tab)
        assert code == 1008 and "too many frames" in reason


BAD_FRAMES: list[tuple[bytes, str]] = [
    (b"\xc1", "bad_frame"),  # not MessagePack
    (msgpack.packb([1, 2, 3]), "not_a_map"),
    (msgpack.packb({"kind": "hello"}), "missing_field"),
    (msgpack.packb({"type": 5}), "bad_field"),
    (msgpack.packb({"type": "dance"}), "unknown_type"),
    (msgpack.packb({"type": "feedback", "action": "like"}), "missing_field"),
    (msgpack.packb({"type": "feedback", "track_id": "7", "action": "like"}), "bad_field"),
    (msgpack.packb({"type": "feedback", "track_id": True, "action": "like"}), "bad_field"),
    (msgpack.packb({"type": "feedback", "track_id": 1, "action": "love"}), "bad_field"),
    (msgpack.packb({"type": "feedback", "track_id": 987654321, "action": "like"}), "track_not_found"),
    (msgpack.packb({"type": "feedback", "track_id": 1, "action": "like", "position_ms": -1}), "bad_field"),
    (msgpack.packb({"type": "mood"}), "bad_field"),
    (msgpack.packb({"type": "mood", "mood": "no_such_mood"}), "unknown_mood"),
    (msgpack.packb({"type": "mood", "text": "calm", "energy": 3}), "bad_field"),
    (msgpack.packb({"type": "hello", "resume_after": "yesterday"}), "bad_field"),
    (msgpack.packb({"type": "ping", "x": [[[[[[1]]]]]]}), "too_deep"),
    (b"\x91" * 5000 + b"\xc0", "bad_frame"),  # nesting far past any limit
    (msgpack.packb({"type": "ping", "ref": {"a": 1}}), "bad_field"),
]


async def test_malformed_frames_get_errors_and_the_connection_stays_up(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:
        await tab.send({"type": "next"})
        early = await tab.expect("error")
        assert early["code"] == "hello_required" and early["seq"] == 0
        _, queue = await tab.hello()
        assert queue is not None
        for n, (raw, code) in enumerate(BAD_FRAMES):
            await tab.ws.send(raw)
            error = await tab.expect("error")
            assert error["code"] == code, (n, error)
            assert error["message"] and error["seq"] > queue["seq"]
        await tab.send({"type": "hello"})
        assert (await tab.expect("error"))["code"] == "already_started"
        await tab.send({"type": "ping", "ref": "still-here"})
        pong = await tab.expect("pong")
        assert pong["ref"] == "still-here"


async def test_a_json_client_is_answered_in_json(cluster: Cluster) -> None:
    _, cookie = await register(cluster.b.http)
    async with open_tab(cluster.b.ws, cookie, text=True) as tab:
        welcome, queue = await tab.hello()
        assert welcome["type"] == "welcome" and queue is not None
        await tab.ws.send("{not json")
        assert (await tab.expect("error"))["code"] == "bad_frame"
        await tab.ws.send(json.dumps({"type": "feedback", "track_id": queue["tracks"][0]["id"],
                                      "action": "like", "ref": 41}))
        ack = await tab.expect("ack")
        assert ack["ref"] == 41


async def test_compression_keeps_no_state_between_messages(cluster: Cluster) -> None:
    _, cookie = await register(cluster.a.http)
    async with open_tab(cluster.a.ws, cookie) as tab:  # the client offers permessage-deflate
        assert tab.ws.response is not None
        negotiated = tab.ws.response.headers["Sec-WebSocket-Extensions"]
        assert "permessage-deflate" in negotiated
        assert "server_no_context_takeover" in negotiated and "client_no_context_takeover" in negotiated
        _, queue = await tab.hello()
        assert queue is not None and queue["tracks"]

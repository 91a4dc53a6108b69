"""WebSocket fuzzing: Hypothesis sends random and malformed frames (MessagePack and JSON, wrong
types, huge and deeply nested maps, unknown ids, binary garbage) to a live server from a logged-in
client. The server must answer each with frames the protocol knows (error frames with a documented
code) or close only with 1008/1009 for abuse, and keep serving a second, well-behaved user."""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.reliability.conftest import Server, register

EXAMPLES = 150
MAX_FRAME = 65_536
ERROR_CODES = {
    "bad_frame",
    "not_a_map",
    "missing_field",
    "bad_field",
    "unknown_type",
    "too_deep",
    "too_large",
    "track_not_found",
    "unknown_mood",
    "hello_required",
    "already_started",
    "unavailable",
}
SERVER_TYPES = {"welcome", "queue", "ack", "error", "pong"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.binary(max_size=40),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=40)
)


def nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=10), inner, max_size=6),
        max_leaves=30,
    )


def deep(depth: int) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ping"}
    for _ in range(depth):
        frame = {"type": "mood", "x": frame}
    return frame


# Frames that look like the protocol's, with random values in every field.
protocol_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["hello", "mood", "feedback", "next", "ping", "welcome", "", "HELLO"])},
    optional={
        "resume_after": scalars,
        "mood": scalars,
        "text": scalars,
        "energy": scalars,
        "valence": scalars,
        "track_id": st.one_of(st.integers(-(2**63), 2**63 - 1), scalars),
        "action": st.one_of(st.sampled_from(["play", "like", "skip", "dislike", "complete"]), scalars),
        "position_ms": scalars,
        "ref": scalars,
    },
)

frames = st.one_of(
    st.binary(max_size=300).map(lambda b: ("bin", b)),  # garbage
    st.text(max_size=300).map(lambda t: ("text", t)),  # not JSON
    protocol_like.map(lambda f: ("bin", msgpack.packb(f))),
    protocol_like.filter(
        lambda f: not any(isinstance(v, bytes) or (isinstance(v, float) and v != v) for v in f.values())
    ).map(lambda f: ("text", json.dumps(f, default=str))),
    nested(scalars).map(lambda v: ("bin", msgpack.packb(v))),
    nested(json_scalars).map(lambda v: ("text", json.dumps(v))),
    st.integers(5, 60).map(lambda d: ("bin", msgpack.packb(deep(d)))),  # too deep
    st.integers(33, 400).map(
        lambda n: ("bin", msgpack.packb({"type": "ping", **{f"k{i}": i for i in range(n)}}))
    ),
    st.integers(257, 3000).map(lambda n: ("text", json.dumps({"type": "ping", "l": list(range(n))}))),
    st.integers(MAX_FRAME + 1, 3 * MAX_FRAME).map(
        lambda n: ("bin", msgpack.packb({"type": "ping", "p": "x" * n}))
    ),
    st.integers(1, 2**63 - 1).map(
        lambda i: ("bin", msgpack.packb({"type": "feedback", "track_id": i, "action": "like", "ref": "fuzz"}))
    ),  # unknown ids
)


def _decode(raw: str | bytes) -> Any:
    return json.loads(raw) if isinstance(raw, str) else msgpack.unpackb(raw, raw=False, strict_map_key=False)


def _check_frame(frame: Any) -> None:
    assert isinstance(frame, dict) and frame.get("type") in SERVER_TYPES, frame
    if frame["type"] == "error":
        assert frame["code"] in ERROR_CODES and isinstance(frame["message"], str), frame


def _probe(ws: ClientConnection) -> list[dict[str, Any]]:
    """Send a ping with a ref; read until its pong. Returns every frame received."""
    ws.send(msgpack.packb({"type": "ping", "ref": "probe"}))
    got = []
    while True:
        frame = _decode(ws.recv(10))
        _check_frame(frame)
        got.append(frame)
        if frame["type"] == "pong" and frame.get("ref") == "probe":
            return got


def _open(server: Server, cookie: str) -> ClientConnection:
    return connect(
        server.ws,
        origin=server.origin,
        additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
        max_size=2**22,
        open_timeout=10,
        ping_interval=None,
    )


def test_random_frames_never_break_the_server(live: Server) -> None:
    _, fuzzer = register(live.http)
    _, bystander = register(live.http)
    stats = {"examples": 0, "errors": 0, "closed_1008": 0, "closed_1009": 0}
    with _open(live, bystander) as calm:
        calm.send(msgpack.packb({"type": "hello", "resume_after": None}))
        assert _decode(calm.recv(20))["type"] == "welcome"

        @given(kind_payload=frames, hello_first=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(kind_payload: tuple[str, str | bytes], hello_first: bool) -> None:
            _, payload = kind_payload
            stats["examples"] += 1
            with _open(live, fuzzer) as ws:
                if hello_first:
                    ws.send(msgpack.packb({"type": "hello", "resume_after": None}))
                ws.send(payload)
                try:
                    got = _probe(ws)
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None, "the server must close with a close frame"
                    code = closed.rcvd.code
                    assert code in (1008, 1009), (code, closed.rcvd.reason)
                    if code == 1009:
                        assert len(payload) > MAX_FRAME
                    stats[f"closed_{code}"] += 1
                    return
                assert len(payload) <= MAX_FRAME, "an oversized frame must close with 1009"
                stats["errors"] += sum(f["type"] == "error" for f in got)

        run()
        # The well-behaved user's connection still works, and so does the HTTP side.
        calm.send(msgpack.packb({"type": "ping", "ref": "calm"}))
        while (frame := _decode(calm.recv(10)))["type"] != "pong":
            pass
        assert frame["ref"] == "calm"
    assert httpx.get(f"{live.http}/api/health", timeout=10).status_code == 200
    assert live.alive()
    print(f"ws fuzz: {stats}")

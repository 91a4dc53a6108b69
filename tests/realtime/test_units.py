"""Pure parts: frame decoding, the token bucket, coalescing, the send buffer."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import msgpack
import pytest

from realtime import protocol
from realtime.coalesce import Coalescer
from realtime.connection import Connection, Outgoing
from realtime.protocol import Feedback, Hello, MoodChange, Next, Ping, ProtocolError
from realtime.ratelimit import TokenBucket, frame_bucket

# -- protocol ---------------------------------------------------------------------------------


def test_frames_decode_from_msgpack_and_json_alike() -> None:
    frame = {"type": "feedback", "track_id": 12, "action": "skip", "position_ms": 3000, "ref": "r-1"}
    expected = Feedback(12, "skip", 3000, "r-1")
    assert protocol.decode(msgpack.packb(frame)) == expected
    assert protocol.decode(json.dumps(frame)) == expected
    assert protocol.decode(msgpack.packb({"type": "hello"})) == Hello(None)
    assert protocol.decode(msgpack.packb({"type": "hello", "resume_after": 41})) == Hello(41)
    assert protocol.decode(msgpack.packb({"type": "next", "ref": 3})) == Next(3)
    assert protocol.decode(msgpack.packb({"type": "ping", "extra": "ignored"})) == Ping()
    assert protocol.decode(json.dumps({"type": "mood", "text": "  rainy   night ", "valence": 0})) == (
        MoodChange(None, "rainy night", None, 0.0)
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad_frame"),
        (None, "bad_frame"),
        (b"\x81\xa1a\x01\x02", "bad_frame"),  # trailing bytes
        (msgpack.packb({1: 2}), "bad_frame"),  # non-string keys
        (msgpack.packb({"type": "ping", "a": list(range(300))}), "bad_frame"),  # array too long
        (json.dumps({"type": "ping", "a": list(range(300))}), "too_large"),
        (json.dumps({"type": "ping", "a": {str(i): i for i in range(40)}}), "too_large"),
        ("[" * 5000 + "]" * 5000, "bad_frame"),
        (json.dumps({"type": "mood", "mood": "calm", "text": "both"}), "bad_field"),
        (json.dumps({"type": "mood", "text": "x" * 201}), "bad_field"),
        (json.dumps({"type": "mood", "mood": "Has Spaces"}), "bad_field"),
        (json.dumps({"type": "mood", "text": "calm", "valence": float("nan")}), "bad_field"),
        (msgpack.packb({"type": "mood", "text": "calm", "valence": float("nan")}), "bad_field"),
        (json.dumps({"type": "feedback", "track_id": 2**70, "action": "like"}), "bad_field"),
        (json.dumps({"type": "feedback", "track_id": 0, "action": "like"}), "bad_field"),
        (json.dumps({"type": "ping", "ref": ""}), "bad_field"),
        (json.dumps({"type": "ping", "ref": "x" * 65}), "bad_field"),
    ],
)
def test_malformed_frames_are_refused_with_a_code(data: Any, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(data)
    assert refused.value.code == code


def test_an_error_keeps_the_ref_when_it_could_be_read() -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.decode(json.dumps({"type": "feedback", "action": "like", "ref": "abc"}))
    assert refused.value.ref == "abc"


def test_server_frames_encode_in_the_clients_format() -> None:
    frame = {"type": "pong", "seq": 7}
    assert msgpack.unpackb(protocol.encode(frame, text=False)) == frame
    assert json.loads(protocol.encode(frame, text=True)) == frame
    out = Outgoing(frame)
    assert out.encoded(True) is out.encoded(True)  # encoded once, shared by every connection


# -- token bucket -------------------------------------------------------------------------------


@pytest.mark.parametrize("entries", [1, 7, 14, 15, 16, 40, 70_000])
def test_a_seq_added_to_a_packed_frame_reads_as_the_frame_with_its_seq(entries: int) -> None:
    frame: dict[str, Any] = {"type": "queue", "tracks": [{"id": 3, "title": "Été"}]}
    frame.update({f"k{i}": i for i in range(entries - len(frame))})
    packed = protocol.with_seq(msgpack.packb(frame, use_bin_type=True), 2**40 + 7)
    assert msgpack.unpackb(packed, raw=False) == {**frame, "seq": 2**40 + 7}
    with pytest.raises(ValueError):
        protocol.with_seq(msgpack.packb([1, 2]), 1)


def test_a_packed_frame_goes_out_as_it_is_and_is_decoded_only_for_a_text_client() -> None:
    body = protocol.with_seq(msgpack.packb({"type": "queue", "tracks": []}, use_bin_type=True), 9)
    out = Outgoing.packed(body, "queue")
    assert out.encoded(False) is body and out.kind == "queue"
    assert json.loads(out.encoded(True)) == {"type": "queue", "tracks": [], "seq": 9}


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5)
    assert all(bucket.take() for _ in range(5))
    assert not bucket.take()
    time.sleep(0.21)
    assert bucket.take() and bucket.take()
    assert not bucket.take()
    flood = frame_bucket(50)
    assert sum(flood.take() for _ in range(100)) == 60


# -- coalescing ---------------------------------------------------------------------------------


async def test_a_lone_event_runs_at_once_and_a_burst_folds_after_the_second() -> None:
    runs: list[tuple[int, str, float]] = []

    async def run(user_id: int, reason: str) -> None:
        runs.append((user_id, reason, time.monotonic()))
        await asyncio.sleep(0.01)

    coalescer = Coalescer(run, window_s=0.03)
    start = time.monotonic()
    coalescer.poke(1, "like")
    await asyncio.sleep(0.005)
    assert len(runs) == 1 and runs[0][2] - start < 0.005, "a lone event waits for nothing"
    await asyncio.sleep(0.2)
    runs.clear()
    for n in range(10):  # ten skips, 20 ms apart
        coalescer.poke(1, f"skip{n}")
        coalescer.poke(2, "mood") if n == 0 else None
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    user1 = [r for r in runs if r[0] == 1]
    assert [r[1] for r in user1[:2]] == ["skip0", "skip1"], "the first two are answered at once"
    assert len(user1) == 3, user1
    assert user1[-1][1] == "skip9", "the trailing run carries the latest reason"
    assert [r[1] for r in runs if r[0] == 2] == ["mood"]
    await coalescer.close()


async def test_a_second_event_soon_after_the_first_waits_for_no_window() -> None:
    """Two members of a group react to one track 5 ms apart: the second is answered as soon as
    the first run ends, not a window later."""
    runs: list[tuple[str, float]] = []

    async def run(user_id: int, reason: str) -> None:
        runs.append((reason, time.monotonic()))
        await asyncio.sleep(0.01)

    coalescer = Coalescer(run, window_s=0.2)
    coalescer.poke(1, "like")
    await asyncio.sleep(0.005)
    coalescer.poke(1, "skip")  # during the first run
    await asyncio.sleep(0.05)
    assert [r for r, _ in runs] == ["like", "skip"]
    assert runs[1][1] - runs[0][1] < 0.05
    await asyncio.sleep(0.05)
    coalescer.poke(1, "complete")  # a third, in the linger after the second: it folds
    await asyncio.sleep(0.05)
    assert len(runs) == 2
    await asyncio.sleep(0.4)
    assert [r for r, _ in runs] == ["like", "skip", "complete"]
    await coalescer.close()


async def test_a_steady_stream_still_gets_answers_within_max_wait() -> None:
    runs: list[float] = []

    async def run(user_id: int, reason: str) -> None:
        runs.append(time.monotonic())

    coalescer = Coalescer(run, window_s=0.03, max_wait_s=0.1)
    start = time.monotonic()
    while time.monotonic() - start < 0.45:
        coalescer.poke(1, "skip")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert len(runs) >= 4 and max(gaps) < 0.2, gaps
    await coalescer.close()


async def test_a_failing_run_does_not_stop_later_ones() -> None:
    calls = 0

    async def run(user_id: int, reason: str) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("engine down")

    coalescer = Coalescer(run, window_s=0.0)
    coalescer.poke(1, "a")
    await asyncio.sleep(0.02)
    coalescer.poke(1, "b")
    await asyncio.sleep(0.02)
    assert calls == 2
    await coalescer.close()


# -- the send buffer ----------------------------------------------------------------------------


class SlowSocket:
    """Sends block until released; records what went out and how it was closed."""

    def __init__(self) -> None:
        self.sent: list[bytes | str] = []
        self.gate = asyncio.Event()
        self.closed: tuple[int, str] | None = None

    async def send(self, data: bytes | str) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


def queue_frame(seq: int) -> Outgoing:
    return Outgoing({"type": "queue", "seq": seq, "tracks": []})


async def test_a_full_buffer_keeps_only_the_newest_queue_frame() -> None:
    socket = SlowSocket()
    conn = Connection(socket, user_id=1, buffer_size=4)
    conn.start(0)
    conn.push(Outgoing({"type": "ack", "seq": 1, "ref": "a"}), False, 1)
    for seq in range(2, 8):
        conn.deliver(seq, queue_frame(seq))
    await asyncio.sleep(0)
    socket.gate.set()
    await asyncio.sleep(0.01)
    got = [(f["type"], f["seq"]) for f in map(msgpack.unpackb, socket.sent)]
    # When the buffer filled, queues 2-4 gave way to 5 (the ack stays: it is a promise);
    # 6 and 7 then fit beside them.
    assert got == [("ack", 1), ("queue", 5), ("queue", 6), ("queue", 7)], got
    assert conn.dropped_frames == 3 and socket.closed is None


async def test_a_client_that_reads_nothing_is_closed_with_1008() -> None:
    socket = SlowSocket()
    conn = Connection(socket, user_id=1, buffer_size=3)
    conn.start(0)
    for seq in range(1, 6):  # acks cannot be dropped: they are promises
        conn.push(Outgoing({"type": "ack", "seq": seq, "ref": seq}), False, seq)
    await asyncio.sleep(0.01)
    assert socket.closed is not None and socket.closed[0] == 1008


async def test_frames_the_stream_already_covers_are_skipped() -> None:
    socket = SlowSocket()
    socket.gate.set()
    conn = Connection(socket, user_id=1, buffer_size=8)
    conn.deliver(5, queue_frame(5))  # before the welcome: held
    conn.push(Outgoing({"type": "welcome", "seq": 9}), False, 9)
    conn.start(9)
    conn.deliver(8, queue_frame(8))
    conn.deliver(10, queue_frame(10))
    await asyncio.sleep(0.01)
    assert [msgpack.unpackb(s)["seq"] for s in socket.sent] == [9, 10]
    waiter = asyncio.create_task(conn.wait_cursor(11, 1.0))
    await asyncio.sleep(0)
    conn.deliver(11, queue_frame(11))
    assert await waiter
    assert not await conn.wait_cursor(12, 0.01)


async def test_a_resync_fills_the_gap_before_newer_bus_frames_go_out() -> None:
    """After a bus outage, a frame published later must not overtake the missed ones: it would
    move the cursor past them and the resync would then skip them."""
    socket = SlowSocket()
    socket.gate.set()
    conn = Connection(socket, user_id=1, buffer_size=8)
    conn.start(0)
    conn.deliver(3, queue_frame(3))
    conn.hold()  # the bus came back: a resync is on its way
    conn.deliver(7, queue_frame(7))  # published after the resubscribe, arrives first
    for seq in (5, 7):  # the resync's replay: what was logged while the bus was away
        if seq > conn.cursor:
            conn.push(queue_frame(seq), False, seq)
    conn.release()
    await asyncio.sleep(0.01)
    assert [msgpack.unpackb(s)["seq"] for s in socket.sent] == [3, 5, 7]


async def test_pokes_before_the_first_run_starts_are_covered_by_it() -> None:
    reasons: list[str] = []

    async def run(user_id: int, reason: str) -> None:
        reasons.append(reason)

    coalescer = Coalescer(run, window_s=0.01)
    for n in range(3):  # three tabs say hello at once
        coalescer.poke(1, f"start{n}")
    await asyncio.sleep(0.1)
    assert reasons == ["start2"]
    await coalescer.close()

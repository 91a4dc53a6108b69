"""The outgoing side of permessage-deflate: small messages as they are, large ones compressed
in a form any RFC 7692 client inflates."""

from __future__ import annotations

import zlib

import msgpack
from wsproto.frame_protocol import FrameProtocol, Opcode, RsvBits

from realtime.compression import UNCOMPRESSED_BELOW, StatelessDeflate


def _server_side() -> tuple[StatelessDeflate, FrameProtocol]:
    extension = StatelessDeflate()
    return extension, FrameProtocol(client=False, extensions=[extension])


def _inflate(payload: bytes) -> bytes:
    # What a client does (RFC 7692 7.2.2): append the sync-flush tail, inflate raw deflate
    # with the largest window it accepts.
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


def test_a_small_message_goes_uncompressed() -> None:
    extension, proto = _server_side()
    ack = msgpack.packb({"type": "ack", "ref": 7, "seq": 12})
    assert len(ack) < UNCOMPRESSED_BELOW
    rsv, data = extension.frame_outbound(proto, Opcode.BINARY, RsvBits(False, False, False), ack, True)
    assert rsv[0] is False and data == ack


def test_a_queue_frame_is_compressed_and_inflates_to_itself_every_time() -> None:
    extension, proto = _server_side()
    frame = msgpack.packb({"type": "queue", "tracks": [
        {"id": i, "title": f"Song {i}", "artist": ["Someone"], "reason": "for everyone: calm"}
        for i in range(21)]})
    for _ in range(3):  # no context is carried from one message to the next
        rsv, data = extension.frame_outbound(proto, Opcode.BINARY, RsvBits(False, False, False), frame, True)
        assert rsv[0] is True and len(data) < len(frame) / 2
        assert _inflate(data) == frame


def test_a_message_split_over_frames_is_compressed_as_one_stream() -> None:
    extension, proto = _server_side()
    frame = b"queue frame " * 100
    plain = RsvBits(False, False, False)
    rsv, head = extension.frame_outbound(proto, Opcode.BINARY, plain, frame[:600], False)
    _, tail = extension.frame_outbound(proto, Opcode.CONTINUATION, plain, frame[600:], True)
    assert rsv[0] is True and _inflate(head + tail) == frame

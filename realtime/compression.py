"""WebSocket compression that costs no memory between messages, and little CPU per message.

Hypercorn offers permessage-deflate on every WebSocket (browsers always ask for it), with
context takeover, so each socket keeps a zlib compressor (about 260 KB) and decompressor
(about 40 KB) for as long as it is open: 10,000 idle listeners would pin some 3 GB.
Negotiating "no context takeover" in both directions (RFC 7692 section 7.1.1) makes the zlib
state live for one message only. Queue frames are self-contained snapshots, so compression
loses little. Hypercorn has no setting for this, so the extension class it instantiates for
each handshake is replaced, once per process.

With a fresh compressor per message, its set-up is most of the cost: zlib's defaults (a
32 KB window, memLevel 8) allocate ~260 KB for every frame sent, and a group's queue goes to
every member. Outgoing messages are therefore compressed with a 4 KB window, memLevel 5 and
level 1 (a 3.5 KB queue frame: 466 bytes instead of 460, at about half the CPU), and messages
under UNCOMPRESSED_BELOW bytes (acks, playback, pongs) are sent as they are: RFC 7692 lets an
endpoint leave any message uncompressed (RSV1 clear), and a smaller window than the one
negotiated is always allowed.

And a message is compressed once for every socket it goes to: without context takeover its
compressed form depends only on its bytes and the window, and a group's frame is the same
bytes for each member (realtime.connection.Outgoing encodes it once), so the last SHARED
results are kept, keyed by (window bits, message).
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from typing import Any

import hypercorn.protocol.ws_stream as ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

UNCOMPRESSED_BELOW = 200  # bytes
WINDOW_BITS = 12
MEM_LEVEL = 5
LEVEL = 1
SHARED = 64  # messages whose compressed form is kept (~12 KB each with the message)

_compressed: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()


def compressed(message: bytes, window_bits: int) -> bytes:
    """The message as one compressed permessage-deflate frame's payload (RFC 7692 7.2.1: a sync
    flush without its 4-byte tail)."""
    key = (window_bits, message)
    found = _compressed.get(key)
    if found is None:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -window_bits, MEM_LEVEL)
        found = (compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        _compressed[key] = found
        while len(_compressed) > SHARED:
            _compressed.popitem(last=False)
    else:
        _compressed.move_to_end(key)
    return found


class StatelessDeflate(PerMessageDeflate):
    """permessage-deflate with client_ and server_no_context_takeover always negotiated, and
    outgoing messages compressed cheaply (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(client_no_context_takeover=True, server_no_context_takeover=True)
        super().__init__(**kwargs)

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        whole = fin and opcode is not Opcode.CONTINUATION
        if not self._compressible_opcode(opcode) or (whole and len(data) < UNCOMPRESSED_BELOW):
            return (rsv, data)
        negotiated = self.client_max_window_bits if proto.client else self.server_max_window_bits
        bits = min(WINDOW_BITS, negotiated)
        if whole:
            return (RsvBits(True, rsv[1], rsv[2]), compressed(bytes(data), bits))
        if self._compressor is None and opcode is not Opcode.CONTINUATION:
            self._compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -bits, MEM_LEVEL)
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def install() -> None:
    ws_stream.PerMessageDeflate = StatelessDeflate  # type: ignore[assignment,misc]

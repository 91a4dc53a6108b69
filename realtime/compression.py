"""WebSocket compression that costs no memory between messages.

Hypercorn offers permessage-deflate on every WebSocket (browsers always ask for it), with
context takeover, so each socket keeps a zlib compressor (about 260 KB) and decompressor
(about 40 KB) for as long as it is open: 10,000 idle listeners would pin some 3 GB.
Negotiating "no context takeover" in both directions (RFC 7692 section 7.1.1) makes the zlib
state live for one message only. Queue frames are self-contained snapshots, so compression
loses little. Hypercorn has no setting for this, so the extension class it instantiates for
each handshake is replaced, once per process.
"""

from __future__ import annotations

from typing import Any

import hypercorn.protocol.ws_stream as ws_stream
from wsproto.extensions import PerMessageDeflate


class StatelessDeflate(PerMessageDeflate):
    """permessage-deflate with client_ and server_no_context_takeover always negotiated."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(client_no_context_takeover=True, server_no_context_takeover=True)
        super().__init__(**kwargs)


def install() -> None:
    ws_stream.PerMessageDeflate = StatelessDeflate  # type: ignore[assignment,misc]

"""Free TCP ports for the servers the tests start."""

from __future__ import annotations

import socket

# Every port handed out in this process: the kernel can give the same ephemeral port to two
# calls in a row (the first socket is closed before anything listens on it), and two servers
# of one test then fought over it (seen in CI: the embedded PostgreSQL and Redis were both
# given 47697).
_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now and that no earlier call in this process returned."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _given:
            _given.add(port)
            return port

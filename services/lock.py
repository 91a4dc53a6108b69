"""One owner per data directory: an advisory lock (flock) on ``<data_dir>/musicrec.lock``.

The kernel drops the lock when its holder exits, however it exits (SIGKILL included), so a file
left behind never blocks a start. The file's content (JSON: pid, role, url, data dir) only says
who holds it, for the one-line message a second `musicrec serve` prints; it is rewritten by each
new holder and may be empty or stale while nobody holds the lock.

The descriptor is close-on-exec, so processes started by the holder (pg_ctl, redis-server, the
guardian, a process pool's workers) never inherit the lock and cannot keep it after it exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

FILE_NAME = "musicrec.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, info: dict[str, Any], wait_s: float = 0.0) -> bool:
        """Take the lock (waiting up to ``wait_s``) and record ``info``; False when another holds it."""
        if self._fd is not None:
            raise RuntimeError("this lock is already held")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> dict[str, Any]:
        """What the current holder recorded (empty when unreadable: it may be writing it now)."""
        try:
            found = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # nobody holds it now: no stale holder to report
        os.close(fd)  # closing the only descriptor drops the flock

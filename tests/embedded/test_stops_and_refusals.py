"""`make run` stops cleanly and refuses clearly: Ctrl-C stops everything within seconds, a
SIGKILLed serve leaves no embedded server behind (its guardian stops them), and a second serve
on the same data directory or port says in one line what already runs there.

The tests share one data directory (PostgreSQL is initialised once); each starts its own serve.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from services.lock import DataDirLock
from tests.embedded.conftest import alive, serving, wait_gone
from tests.realtime.conftest import ROOT, free_port, open_tab, register

STOP_WITHIN_S = 10.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stops") / "data"


async def test_ctrl_c_stops_the_server_and_the_embedded_servers_whatever_runs(data_dir: Path) -> None:
    with serving(data_dir) as server:  # a first start: the demo catalog starts loading now
        pids = server.embedded_pids()
        guardian = server.guardian_pid()
        assert all(alive(pid) for pid in pids.values()), pids
        assert guardian is not None, "serve starts a guardian for the servers it starts"
        _, cookie = await register(server.http)
        async with open_tab(server.ws, cookie) as tab:  # a live session, too
            await tab.send({"type": "hello", "resume_after": None})
            await tab.expect("welcome")
            started = time.monotonic()
            server.signal(signal.SIGINT)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await tab.recv(STOP_WITHIN_S)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001  # "going away"
        assert await asyncio.to_thread(server.wait, STOP_WITHIN_S) == 0, server.output()
        took = time.monotonic() - started
        left = wait_gone([p for p in pids.values() if p is not None] + [guardian], 3.0)
        assert left == [], f"still running after Ctrl-C: {left}"
        assert "Traceback" not in server.output()
    assert took < STOP_WITHIN_S
    lock = DataDirLock(data_dir)
    assert lock.acquire({"pid": os.getpid()}), "the data directory is free again"
    lock.release()


def test_work_that_cannot_be_cancelled_does_not_hold_the_exit_up() -> None:
    """A thread stuck in a to_thread (parsing scores, a model run) is left behind, not joined."""
    script = (
        "import asyncio, time\n"
        "import cli.boot as server\n"
        "async def busy(settings):\n"
        "    asyncio.ensure_future(asyncio.to_thread(time.sleep, 60))\n"
        "    await asyncio.sleep(0.2)\n"
        "server.run_server = busy\n"
        "server.run(None)\n"
        "server.exit_now(0)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < STOP_WITHIN_S
    assert "exiting without waiting for: asyncio-default" in done.stderr


def test_after_a_sigkill_the_guardian_stops_the_embedded_servers(data_dir: Path) -> None:
    with serving(data_dir) as server:
        pids = [pid for pid in server.embedded_pids().values() if pid is not None]
        assert len(pids) == 2
        server.signal(signal.SIGKILL)  # no finally, no atexit: only the guardian is left
        assert server.wait(5) == -signal.SIGKILL
        assert wait_gone(pids, STOP_WITHIN_S) == [], "the embedded servers outlived a killed serve"
        assert all(status.pid is None for status in server.services().status())
    assert "musicrec serve exited without stopping" in (data_dir / "logs" / "guardian.log").read_text()


@pytest.fixture
def listening() -> Iterator[int]:
    """A port some other program (this test) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_second_serve_on_the_same_data_dir_or_port_is_refused_in_one_line(
    data_dir: Path, tmp_path: Path, listening: int
) -> None:
    with serving(data_dir, demo_catalog=False) as first:
        assert first.proc is not None
        running = f"musicrec is already running at {first.http} (pid {first.proc.pid}, data {data_dir})"

        same_dir = first.second(MUSICREC_PORT=str(free_port()))
        assert same_dir.returncode == 1
        assert same_dir.stderr.strip().splitlines() == [running], same_dir.stderr

        other_dir = tmp_path / "other"
        same_port = first.second(MUSICREC_DATA_DIR=str(other_dir), MUSICREC_EMBEDDED_PG_PORT=str(free_port()),
                                 MUSICREC_EMBEDDED_REDIS_PORT=str(free_port()))
        assert same_port.returncode == 1
        assert same_port.stderr.strip().splitlines() == [running], same_port.stderr
        assert not (other_dir / "postgres").exists(), "refused before anything started"

        taken = first.second(MUSICREC_DATA_DIR=str(other_dir), MUSICREC_PORT=str(listening))
        assert taken.returncode == 1
        me = psutil.Process()
        assert taken.stderr.strip().splitlines() == [
            f"port {listening} is already in use by another program ({me.name()}, pid {me.pid})"
        ], taken.stderr

        assert httpx.get(f"{first.http}/api/health").status_code == 200, "the first one is untouched"

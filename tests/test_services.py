"""`musicrec services` starts real PostgreSQL and Redis under a data directory, and stops them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(data_dir: Path, env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MUSICREC_DATA_DIR": str(data_dir), **env_extra}
    return subprocess.run([sys.executable, "-m", "cli", "services", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_services_start_status_stop(tmp_path: Path) -> None:
    ports = {"MUSICREC_EMBEDDED_PG_PORT": str(_free_port()),
             "MUSICREC_EMBEDDED_REDIS_PORT": str(_free_port())}
    started = _cli(tmp_path, ports, "start")
    assert started.returncode == 0, started.stderr
    urls = dict(line.split(": ", 1) for line in started.stdout.strip().splitlines())
    try:
        async def talk() -> None:
            conn = await asyncpg.connect(urls["database_url"])
            assert await conn.fetchval("SELECT 41 + 1") == 42
            await conn.close()
            client = aioredis.from_url(urls["redis_url"])
            await client.set("probe", "yes")
            assert await client.get("probe") == b"yes"
            await client.aclose()

        asyncio.run(talk())
        status = _cli(tmp_path, ports, "status")
        assert status.returncode == 0
        assert "postgres: running" in status.stdout and "redis: running" in status.stdout
        assert (tmp_path / "postgres" / "PG_VERSION").exists()
    finally:
        stopped = _cli(tmp_path, ports, "stop")
    assert stopped.returncode == 0
    after = _cli(tmp_path, ports, "status")
    assert after.returncode == 3
    assert "postgres: stopped" in after.stdout and "redis: stopped" in after.stdout


def test_one_holder_per_data_dir_and_the_lock_goes_with_a_killed_holder(tmp_path: Path) -> None:
    from services.lock import DataDirLock

    first, second = DataDirLock(tmp_path), DataDirLock(tmp_path)
    assert first.acquire({"pid": 1, "url": "http://127.0.0.1:8080"})
    assert not second.acquire({"pid": 2})
    assert second.holder() == {"pid": 1, "url": "http://127.0.0.1:8080"}
    first.release()
    assert second.acquire({"pid": 2})
    second.release()

    holder = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time; from pathlib import Path; from services.lock import DataDirLock\n"
        "assert DataDirLock(Path(sys.argv[1])).acquire({'pid': os.getpid()}); time.sleep(60)"
    ), str(tmp_path)])
    try:
        for _ in range(100):
            if DataDirLock(tmp_path).holder().get("pid") == holder.pid:
                break
            time.sleep(0.05)
        assert not DataDirLock(tmp_path).acquire({"pid": 3})
        holder.kill()  # SIGKILL: no clean-up ran, the pid is still in the file
        holder.wait(10)
        assert DataDirLock(tmp_path).holder().get("pid") == holder.pid
        after = DataDirLock(tmp_path)
        assert after.acquire({"pid": 3}), "the kernel dropped the dead holder's lock"
        after.release()
    finally:
        holder.kill()

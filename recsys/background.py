"""Background work in a child process at the lowest CPU priority: what a serving process must
not run itself, however low the priority of the thread it would run in.

Why a process: a thread's Python work holds the GIL, and the event loop waits for it at every
wake-up (up to the interpreter's 5 ms switch interval each time, several per push), whatever
the thread's niceness. A collab fit in a thread held live pushes 30-53 ms, a shard copy ~25 ms
(docs/benchmarks.md). A child at SCHED_IDLE (where the OS has it; nice 10 otherwise) takes only
the CPU that serving leaves, from its first import on: importing numpy and friends alone takes
~0.3 s of a core.

``run_background(what, module, *args)`` runs ``python -m module args`` so, in the project's
root; a failure raises BackgroundJobFailed with the tail of the child's stderr, and a cancelled
caller kills the child (nothing is left running on shutdown).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STDERR_TAIL = 500

# Runs before the module's first import.
_LAUNCH = (
    "import os, runpy, sys\n"
    "os.nice(10)\n"
    "try:\n"
    "    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
    "except (AttributeError, OSError):\n"
    "    pass\n"
    "module, sys.argv = sys.argv[1], sys.argv[1:]\n"
    "runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)


class BackgroundJobFailed(RuntimeError):
    """The child exited with an error; the message ends with its stderr's tail."""


async def run_background(what: str, module: str, *args: str) -> None:
    """``python -m MODULE ARGS`` in a child at the lowest CPU priority (see the docstring)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _LAUNCH, module, *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,  # so that the child finds the project's packages
    )
    try:
        _, stderr = await proc.communicate()
    except BaseException:
        if proc.returncode is None:  # cancelled: leave no orphan working on
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        detail = stderr.decode(errors="replace")[-STDERR_TAIL:]
        raise BackgroundJobFailed(f"{what} failed (exit {proc.returncode}): {detail}")

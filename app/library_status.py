"""Which libraries are online, checked off the request path, and what depends on it.

Invariants:
- ``BOARD`` is this process's view: a background task pings every library each
  ``settings.library_check_interval_s`` and the media proxy marks a library offline the moment
  a stream cannot reach it. Requests only read the board (no network call on their path).
- A track whose sound is on an offline library is unplayable: its Track JSON says
  ``media.playable: false`` and queues and Quick Mixes that want playable tracks exclude it
  (``TrackFilter.exclude_libraries`` on the index payload field ``library``). Everything
  else keeps working.
- A status change bumps the catalog version, so cached Quick Mixes that hold its tracks fall
  away, and asks the live queue of every listener connected to this process to be recomputed
  (``state.fanout.refresh(user, "library")``): queues already sent must not keep offering a
  library that went away, and may offer one that came back. Each instance runs its own
  monitor and so tells its own listeners; the fan-out runs in a task of its own, off the
  path (a media request) that noticed the change.
- Coming back online also wakes the audio analysis (app/library_analysis.py), which skips
  unreachable libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from quart import Quart

from app import library, library_analysis
from app.library_board import BOARD
from app.listening import add_feedback_hook
from app.state import AppState
from app.store import libraries, tracks
from recsys.importers.subsonic import LibraryError

log = logging.getLogger("musicrec.library")
_MONITOR = "library_monitor"
_FANOUTS = "library_status_fanouts"


async def record_status(state: AppState, library_id: int, online: bool, error: str | None) -> None:
    changed = BOARD.set(library_id, online)
    await libraries.set_status(state.db, library_id, online, error)
    if changed:
        log.warning("library %d is %s%s", library_id, "online" if online else "offline",
                    f": {error}" if error else "")
        async with state.db.transaction() as conn:
            await tracks.bump_catalog_version(conn)
        _refresh_live_queues(state)
        if online:
            library_analysis.wake(state)


def _refresh_live_queues(state: AppState) -> None:
    """Every listener connected here gets a new queue (filtered by the board as it is now).
    All of them, not only those whose queue holds the library's tracks: finding those would
    read every session from Redis, a status change is rare (at most one per check interval),
    and a library that comes back may belong in any queue. Recomputes are coalesced per user."""
    users = state.fanout.live_users()
    if not users:
        return
    tasks: set[asyncio.Task[None]] = state.extras.setdefault(_FANOUTS, set())

    async def run() -> None:
        for user_id in users:
            await state.fanout.refresh(user_id, "library")

    task = asyncio.create_task(run(), name="library-status-fanout")
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def check_all(state: AppState) -> dict[int, bool]:
    """Ping every library once (concurrently); returns id → online."""
    found = await libraries.all_libraries(state.db)

    async def check(lib_id: int) -> bool:
        try:
            client = await library.client_for(state, lib_id)
            await client.ping()
        except LibraryError as exc:
            # Wrong credentials are a library we cannot play from either.
            await record_status(state, lib_id, False, exc.message)
            return False
        await record_status(state, lib_id, True, None)
        return True

    results = await asyncio.gather(*(check(lib.id) for lib in found))
    return {lib.id: ok for lib, ok in zip(found, results, strict=True)}


async def _monitor(state: AppState) -> None:
    while True:
        try:
            await check_all(state)
        except Exception:  # the database away for a moment: try again next round
            log.exception("library status check failed")
        await asyncio.sleep(state.settings.library_check_interval_s)


async def _start(state: AppState) -> None:
    add_feedback_hook(state, library.feed_back)
    for lib in await libraries.all_libraries(state.db):
        BOARD.set(lib.id, lib.online)  # the last known status until the first check
    state.extras[_MONITOR] = asyncio.create_task(_monitor(state), name="library-monitor")

    async def offline(library_id: int, error: str) -> None:
        await record_status(state, library_id, False, error)

    library_analysis.start(state, lambda library_id: library.client_for(state, library_id), offline)


async def _stop(state: AppState) -> None:
    task = state.extras.pop(_MONITOR, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for fanout in list(state.extras.get(_FANOUTS, ())):
        fanout.cancel()
    await library_analysis.stop(state)
    await library.stop_syncs(state)
    await library.close_clients(state)


def install(app: Quart) -> None:
    """Start the monitor and the feedback hook with the app (factory start-up hooks)."""
    app.extensions.setdefault("musicrec_startup", []).append(_start)
    app.extensions.setdefault("musicrec_shutdown", []).append(_stop)

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
  away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from quart import Quart

from app import library
from app.library_board import BOARD
from app.listening import add_feedback_hook
from app.state import AppState
from app.store import libraries, tracks
from recsys.importers.subsonic import LibraryError

log = logging.getLogger("musicrec.library")
_MONITOR = "library_monitor"


async def record_status(state: AppState, library_id: int, online: bool, error: str | None) -> None:
    changed = BOARD.set(library_id, online)
    await libraries.set_status(state.db, library_id, online, error)
    if changed:
        log.warning("library %d is %s%s", library_id, "online" if online else "offline",
                    f": {error}" if error else "")
        async with state.db.transaction() as conn:
            await tracks.bump_catalog_version(conn)


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


async def _stop(state: AppState) -> None:
    task = state.extras.pop(_MONITOR, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await library.stop_syncs(state)
    await library.close_clients(state)


def install(app: Quart) -> None:
    """Start the monitor and the feedback hook with the app (factory start-up hooks)."""
    app.extensions.setdefault("musicrec_startup", []).append(_start)
    app.extensions.setdefault("musicrec_shutdown", []).append(_stop)

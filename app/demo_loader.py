"""On a first start with an empty catalog, load the built-in demo catalog in the background.

The server answers at once (health, accounts); recommendations fill in as batches land.
"""

from __future__ import annotations

import asyncio
import logging
import time

from app.catalog import import_records
from app.state import AppState
from app.store import tracks

log = logging.getLogger("musicrec.demo")


async def load_demo_if_empty(state: AppState) -> None:
    if not state.settings.demo_catalog or state.index is None or state.encoder is None:
        return
    if await tracks.count(state.db) > 0:
        return
    state.extras["demo_task"] = asyncio.create_task(_load(state), name="demo-catalog")


async def _load(state: AppState) -> None:
    from recsys.importers.demo_music21 import demo_records

    assert state.index is not None and state.encoder is not None
    started = time.perf_counter()
    records = await asyncio.to_thread(lambda: list(demo_records()))
    total = len(records)
    log.info("loading the demo catalog: %d pieces", total)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        log.info("demo catalog: %d/%d pieces (%.0f%%)", done, total, 100 * done / max(total, 1))

    try:
        await import_records(state.db, state.index, state.encoder, records, batch_size=250,
                             on_progress=progress)
        await state.index.optimize()
    except Exception:
        log.exception("loading the demo catalog failed; `musicrec import demo` retries it")
        return
    log.info("demo catalog ready: %d pieces in %.1f s", total, time.perf_counter() - started)


async def stop_demo_loader(state: AppState) -> None:
    task = state.extras.pop("demo_task", None)
    if task is not None and not task.done():
        task.cancel()

"""Catalog work at start-up, in the background: the server answers at once (health, accounts)
while it runs, and `/api/catalog/status` reports its progress.

- On a first start with an empty catalog, the built-in demo catalog is loaded.
- An index written by an older version (its payload lacks a field the queries filter on, or
  its text vectors were made another way: recsys.text.TEXT_VERSION) is rebuilt from
  PostgreSQL, the source of truth, so that no query silently matches nothing or the wrong thing.

Either way the catalog version is bumped when it is done, and live sessions whose queue was
empty get one then (realtime.catalog_watch).
"""

from __future__ import annotations

import asyncio
import logging
import time

from app import catalog_status
from app.catalog import import_records, rebuild_index
from app.state import AppState
from app.store import tracks
from recsys.index.builder import build_points

log = logging.getLogger("musicrec.demo")

_TASK = "catalog_task"
# A payload field every current query may filter on; an index without it predates it.
_CURRENT_FIELD = "playable"
# A stored text vector this far from what the current code makes of the same track was made by
# an older recsys.text (a changed TEXT_VERSION moves it far more: dropping the names moved the
# vectors of the demo catalog to cosines around 0.6-0.8); encoder noise stays above 0.999.
_TEXT_MATCH = 0.98


async def load_demo_if_empty(state: AppState) -> None:
    if state.index is None or state.encoder is None:
        return
    if await tracks.count(state.db) > 0:
        if await _index_outdated(state):
            state.extras[_TASK] = asyncio.create_task(_reindex(state), name="index-rebuild")
        return
    if not state.settings.demo_catalog:
        return
    catalog_status.begin(state, "loading", 0)
    state.extras[_TASK] = asyncio.create_task(_load(state), name="demo-catalog")


async def _index_outdated(state: AppState) -> bool:
    """Only the embedded index is rebuilt here: it belongs to this one process, while a Qdrant
    server is shared by several instances, which must not all rebuild it at once (there,
    `musicrec index rebuild` is run once, as docs/deploy.md says)."""
    assert state.index is not None
    if state.settings.qdrant_url is not None:
        return False
    newest = await state.db.fetchval("SELECT max(id) FROM tracks")
    if newest is None:
        return False
    stored = (await state.index.points([int(newest)])).get(int(newest))
    # A track missing from the index altogether is left to `musicrec index rebuild` (an import
    # run with --no-index); only an index written by an older version is rebuilt unasked.
    if stored is None:
        return False
    if _CURRENT_FIELD not in stored.payload:
        return True
    # The text vector as this version makes it (one track: two short lines to encode).
    track = await tracks.get(state.db, int(newest))
    assert state.encoder is not None
    if track is None:
        return False
    fresh = (await build_points([track], state.encoder))[0].text
    return float(fresh @ stored.text) < _TEXT_MATCH


async def _reindex(state: AppState) -> None:
    assert state.index is not None and state.encoder is not None
    progress = catalog_status.begin(state, "reindexing", await tracks.count(state.db))
    log.info("the track index predates this version: rebuilding it from PostgreSQL (%d tracks)",
             progress.total)
    try:
        await rebuild_index(state.db, state.index, state.encoder, progress.advance)
        await state.index.optimize()
        async with state.db.transaction() as conn:
            await tracks.bump_catalog_version(conn)
    except Exception:
        log.exception("rebuilding the index failed; `musicrec index rebuild` retries it")
    finally:
        catalog_status.finish(state)


async def _load(state: AppState) -> None:
    from recsys.importers.demo_music21 import demo_records

    assert state.index is not None and state.encoder is not None
    started = time.perf_counter()
    try:
        records = await asyncio.to_thread(lambda: list(demo_records()))
        total = len(records)
        progress = catalog_status.begin(state, "loading", total)
        log.info("loading the demo catalog: %d pieces", total)

        def advance(n: int) -> None:
            progress.advance(n)
            log.info("demo catalog: %d/%d pieces (%.0f%%)", progress.loaded, total,
                     100 * progress.loaded / max(total, 1))

        await import_records(state.db, state.index, state.encoder, records, batch_size=250,
                             on_progress=advance)
        await state.index.optimize()
    except Exception:
        log.exception("loading the demo catalog failed; `musicrec import demo` retries it")
        return
    finally:
        catalog_status.finish(state)
    log.info("demo catalog ready: %d pieces in %.1f s", total, time.perf_counter() - started)


async def stop_demo_loader(state: AppState) -> None:
    task = state.extras.pop(_TASK, None)
    if task is not None and not task.done():
        task.cancel()

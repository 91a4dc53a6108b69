"""Opens the index and the text encoder at start-up and builds the engine around them.

When the index cannot be opened (a Qdrant server not up yet, an embedded store held by
another process), the app starts anyway, serving accounts, feedback and history, answers
recommendations with 503 `index_unavailable`, and keeps trying to open the index in the
background so that it recovers without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.state import AppState
from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.index import open_index
from recsys.index.base import TrackIndex

log = logging.getLogger("musicrec.engine")

RETRY_FIRST_S = 2.0
RETRY_MAX_S = 10.0
_RETRY_TASK = "engine_retry"


async def _open(state: AppState) -> TrackIndex:
    settings = state.settings
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    index = open_index(settings.qdrant_url, settings.data_dir, settings.qdrant_collection, api_key)
    try:
        await index.ensure()
    except BaseException:
        with contextlib.suppress(Exception):
            await index.close()
        raise
    return index


def _attach(state: AppState, index: TrackIndex) -> None:
    assert state.encoder is not None
    state.index = index
    state.engine = Engine(index, state.encoder)


async def start_engine(state: AppState) -> None:
    state.encoder = AsyncEncoder.for_backend(state.settings.encoder_backend)
    try:
        _attach(state, await _open(state))
    except Exception as exc:
        log.error("the track index could not be opened (retrying in the background): %s", exc)
        state.extras[_RETRY_TASK] = asyncio.create_task(_keep_trying(state), name="engine-retry")


async def _keep_trying(state: AppState) -> None:
    delay = RETRY_FIRST_S
    while True:
        await asyncio.sleep(delay)
        try:
            index = await _open(state)
        except Exception as exc:
            log.warning("the track index is still unavailable: %s", exc)
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        _attach(state, index)
        log.info("the track index is open again")
        return


async def stop_engine(state: AppState) -> None:
    retry = state.extras.pop(_RETRY_TASK, None)
    if retry is not None:
        retry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retry
    if state.index is not None:
        await state.index.close()
    if state.encoder is not None:
        state.encoder.close()

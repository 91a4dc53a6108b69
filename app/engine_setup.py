"""Opens the index and the text encoder at start-up and builds the engine around them."""

from __future__ import annotations

import logging

from app.state import AppState
from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.index import open_index

log = logging.getLogger("musicrec.engine")


async def start_engine(state: AppState) -> None:
    settings = state.settings
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    state.encoder = AsyncEncoder.for_backend(settings.encoder_backend)
    try:
        index = open_index(settings.qdrant_url, settings.data_dir, settings.qdrant_collection, api_key)
        await index.ensure()
    except Exception as exc:  # the app still serves accounts and history without an index
        log.error("the track index could not be opened: %s", exc)
        return
    state.index = index
    state.engine = Engine(index, state.encoder)


async def stop_engine(state: AppState) -> None:
    if state.index is not None:
        await state.index.close()
    if state.encoder is not None:
        state.encoder.close()

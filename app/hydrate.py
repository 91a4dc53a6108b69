"""Turn the engine's scored ids into the contract's Track JSON, in ranking order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.store import tracks
from app.store.db import Database
from app.views import ranked_tracks_json
from recsys.engine import Scored


async def hydrate(db: Database, scored: Sequence[Scored]) -> list[dict[str, Any]]:
    return ranked_tracks_json(await tracks.get_many(db, [s.id for s in scored]), scored)

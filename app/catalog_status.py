"""Is the catalog there yet? What `/api/catalog/status`, `/api/ready` and `/api/health` report.

States: "loading" while a catalog load or an index rebuild runs in this process (with
progress: loaded of total tracks), "unavailable" while the index cannot be opened, "empty"
when the catalog holds no track, else "ready". ``playable`` counts the tracks this server
can play (recsys.catalog.is_playable); a ready catalog with none says so in the player.

Counting is one PostgreSQL query, kept for COUNTS_TTL_S so that players polling while a
catalog loads cost next to nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from app.state import AppState
from app.store import tracks

COUNTS_TTL_S = 1.0
_PROGRESS = "catalog_progress"
_COUNTS = "catalog_counts"

Phase = Literal["loading", "reindexing"]


@dataclass(slots=True)
class CatalogProgress:
    """A catalog load (or index rebuild) running in this process."""

    phase: Phase
    total: int
    loaded: int = 0

    def advance(self, rows: int) -> None:
        self.loaded = min(self.total, self.loaded + rows)


def begin(state: AppState, phase: Phase, total: int) -> CatalogProgress:
    progress = CatalogProgress(phase, total)
    state.extras[_PROGRESS] = progress
    return progress


def finish(state: AppState) -> None:
    state.extras.pop(_PROGRESS, None)
    state.extras.pop(_COUNTS, None)  # the next status counts afresh


async def _counts(state: AppState) -> tuple[int, int]:
    cached = state.extras.get(_COUNTS)
    now = time.monotonic()
    if cached is not None and now - cached[0] < COUNTS_TTL_S:
        return cached[1], cached[2]
    total, playable = await tracks.counts(state.db)
    state.extras[_COUNTS] = (now, total, playable)
    return total, playable


async def catalog_status(state: AppState) -> dict[str, Any]:
    total, playable = await _counts(state)
    progress: CatalogProgress | None = state.extras.get(_PROGRESS)
    body: dict[str, Any] = {"tracks": total, "playable": playable}
    if progress is not None:
        pct = 100 * progress.loaded / max(progress.total, 1)
        body |= {"state": "loading", "phase": progress.phase,
                 "loaded": progress.loaded, "total": progress.total, "percent": round(pct, 1)}
    elif state.index is None:
        body["state"] = "unavailable"
    elif total == 0:
        body["state"] = "empty"
    else:
        body["state"] = "ready"
    if body["state"] != "loading":
        body |= {"loaded": total, "total": total, "percent": 100.0}
    return body

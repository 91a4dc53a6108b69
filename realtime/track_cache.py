"""Catalog rows for queue frames, cached in this process for a short while.

Every recompute renders about 21 tracks, mostly the same ones again (a queue shifts by one
track per skip), so asking PostgreSQL each time would put a query on the hot path of every
feedback. Catalog rows change only on imports; a short TTL bounds how long a renamed or
deleted track can linger in a live queue.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable

from app.store import tracks
from app.store.db import Database
from recsys.catalog import CatalogTrack

TTL_S = 300.0
MAX_TRACKS = 5000


class TrackCache:
    def __init__(self, db: Database, ttl_s: float = TTL_S, max_tracks: int = MAX_TRACKS) -> None:
        self._db = db
        self._ttl = ttl_s
        self._max = max_tracks
        self._items: OrderedDict[int, tuple[float, CatalogTrack]] = OrderedDict()

    async def get_many(self, ids: Iterable[int]) -> dict[int, CatalogTrack]:
        """The tracks that exist among ``ids`` (one query for those not cached)."""
        now = time.monotonic()
        found: dict[int, CatalogTrack] = {}
        missing: list[int] = []
        for track_id in dict.fromkeys(ids):
            item = self._items.get(track_id)
            if item is not None and now - item[0] < self._ttl:
                self._items.move_to_end(track_id)
                found[track_id] = item[1]
            else:
                missing.append(track_id)
        if missing:
            fetched = await tracks.get_many(self._db, missing)
            for track_id, track in fetched.items():
                self._items[track_id] = (now, track)
                self._items.move_to_end(track_id)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
            found.update(fetched)
        return found

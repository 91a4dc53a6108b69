"""Which library servers this process currently sees as offline, and the filter rule that
follows from it. Written by app/library_status.py (a background monitor, and the media proxy
the moment a stream fails); read on request paths, which never make a network call for it.

A module of its own, below the services, so that the listening service (app/listening.py)
and the views can read it without importing the library machinery.
"""

from __future__ import annotations

from recsys.catalog import CatalogTrack, parse_library_ref
from recsys.index.base import TrackFilter


class StatusBoard:
    """Offline library ids, as last seen by this process."""

    def __init__(self) -> None:
        self._offline: set[int] = set()
        self._known: set[int] = set()

    def any_library(self) -> bool:
        """Whether this process knows of any library at all (most servers have none)."""
        return bool(self._known)

    def offline(self) -> frozenset[int]:
        return frozenset(self._offline)

    def is_offline(self, library_id: int) -> bool:
        return library_id in self._offline

    def track_offline(self, track: CatalogTrack) -> bool:
        ref = parse_library_ref(track.media_ref)
        return ref is not None and ref[0] in self._offline

    def set(self, library_id: int, online: bool) -> bool:
        """Record a status; True when it changed."""
        was_offline = library_id in self._offline
        self._known.add(library_id)
        if online:
            self._offline.discard(library_id)
        else:
            self._offline.add(library_id)
        return was_offline == online

    def forget(self, library_id: int) -> None:
        self._offline.discard(library_id)
        self._known.discard(library_id)


BOARD = StatusBoard()


def playable_filter(flt: TrackFilter) -> TrackFilter:
    """``flt`` that, when it asks for playable tracks, also leaves out offline libraries."""
    if flt.playable_only:
        flt.exclude_libraries = {str(i) for i in BOARD.offline()}
    return flt

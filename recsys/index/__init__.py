"""Track index back ends (Qdrant Edge embedded, Qdrant server) behind one async interface."""

from __future__ import annotations

from pathlib import Path

from recsys.index.base import (
    AUDIO,
    TEXT,
    BlendWeights,
    Hit,
    IndexPoint,
    TrackFilter,
    TrackIndex,
    TrackIndexError,
    Vectors,
    normalise_name,
)

__all__ = [
    "AUDIO",
    "TEXT",
    "BlendWeights",
    "Hit",
    "IndexPoint",
    "TrackFilter",
    "TrackIndex",
    "TrackIndexError",
    "Vectors",
    "normalise_name",
    "open_index",
]


def open_index(
    qdrant_url: str | None, data_dir: Path, collection: str, api_key: str | None = None
) -> TrackIndex:
    """The configured back end, not yet opened: the caller awaits ``ensure()`` next.

    None → Qdrant Edge under data_dir/"qdrant-edge"/collection; ":memory:" → qdrant-client
    local mode (tests, demos); anything else is a Qdrant server URL.
    """
    if qdrant_url is None:
        from recsys.index.edge import EdgeIndex

        return EdgeIndex(Path(data_dir) / "qdrant-edge" / collection)
    from recsys.index.server import ServerIndex

    if qdrant_url == ":memory:":
        return ServerIndex(collection, location=":memory:")
    return ServerIndex(collection, url=qdrant_url, api_key=api_key)

"""The committed feature cache of the demo catalog (demo_catalog.json.gz).

A gzipped JSON object {"version", "music21", "pieces": {ref: entry}}; an entry holds what a
TrackRecord needs (title, artists, album, genres, descriptors, duration_ms, audio) plus the
collection name. Written with sorted keys and a zero gzip timestamp, so rebuilding without
changes leaves the committed file byte-identical.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

CACHE_PATH = Path(__file__).with_name("demo_catalog.json.gz")
# Bump when features, titles or the entry layout change: older caches are then ignored.
CACHE_VERSION = 1

Entry = dict[str, Any]


def load_cache(path: Path = CACHE_PATH) -> dict[str, Entry]:
    """ref → entry; empty when the file is missing, unreadable or of another version."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    pieces = data.get("pieces", {})
    return pieces if isinstance(pieces, dict) else {}


def write_cache(entries: dict[str, Entry], path: Path = CACHE_PATH) -> None:
    import music21

    payload = {
        "version": CACHE_VERSION,
        "music21": music21.__version__,
        "pieces": dict(sorted(entries.items())),
    }
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # mtime=0 keeps the committed file byte-identical when nothing changed.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))

"""A Qdrant Edge index of the evaluation catalog, built once and reused across runs.

Encoding ~20k descriptive lines with MiniLM is most of a first run's time on 2 cores, so
the built shard is kept under the cache folder, named by a hash of exactly what was
indexed (recsys.evaluation.dataset.catalog_fingerprint plus a format version). A folder
counts as built only once a marker file is written after the last upsert and the HNSW
build, so an interrupted build is never reused: it is removed and redone.

An index with a collaborative model (``cached_collab_index``) is a copy of the content
index with the model installed by ``replace_collab``, in its own folder named by the
content key AND the model's version (a hash of what it was trained on): a different model
is a different folder, never a stale one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from recsys.catalog import CatalogTrack
from recsys.encoder import AsyncEncoder
from recsys.evaluation.dataset import catalog_fingerprint
from recsys.index import TrackIndex, open_index
from recsys.index.base import CollabVectors
from recsys.index.builder import index_tracks
from recsys.text import TEXT_VERSION

log = logging.getLogger("musicrec.eval")

# Bump when the way tracks become points changes in a way the fingerprint cannot see
# (recsys.features, the payload): old caches then rebuild. recsys.text.TEXT_VERSION is part of
# the key too, so a change in how the text vector is made rebuilds without a bump here.
FORMAT_VERSION = 1
MARKER = "built.json"


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "musicrec" / "eval"


async def cached_index(
    tracks: list[CatalogTrack],
    encoder: AsyncEncoder,
    cache_dir: Path,
    label: str,
    optimize: bool = True,
) -> tuple[TrackIndex, bool]:
    """An opened index holding ``tracks``; True as second value when it came from the cache.

    ``label`` names the variant ("full", "mood-blind"); other builds of the same label are
    removed when a new one is made, so the cache holds one shard per variant.
    """
    folder = cache_dir / f"{label}-{content_key(tracks)}"
    marker = folder / MARKER
    if marker.is_file():
        index = open_index(None, folder, "tracks")
        await index.ensure()
        if await index.count() == len(tracks):
            return index, True
        await index.close()  # a damaged cache: rebuild
    await asyncio.to_thread(_clear, cache_dir, label, folder)
    started = time.perf_counter()
    index = open_index(None, folder, "tracks")
    await index.ensure()
    await index.recreate()
    await index_tracks(index, tracks, encoder)
    if optimize:
        # What a served catalog gets after an import (HNSW), so searches behave the same.
        await index.optimize()
    built = {"tracks": len(tracks), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(built))
    log.info("built the %s index (%d tracks) in %.0f s", label, len(tracks), built["seconds"])
    return index, False


def content_key(tracks: list[CatalogTrack]) -> str:
    """What a content index is keyed on: format, text version, catalog fingerprint."""
    return f"{FORMAT_VERSION}.{TEXT_VERSION}-{catalog_fingerprint(tracks)}"[:24]


async def cached_collab_index(
    tracks: list[CatalogTrack],
    encoder: AsyncEncoder,
    cache_dir: Path,
    label: str,
    version: str,
    make_model: Callable[[TrackIndex], Awaitable[CollabVectors]],
    optimize: bool = True,
) -> tuple[TrackIndex, bool]:
    """An opened index holding ``tracks`` with the collab model ``version`` installed; True
    as second value when it came from the cache.

    On a miss, ``make_model`` is called with the content index (it reads the tracks' content
    vectors for the cold-track fallback) and must return the model named ``version``; the
    content folder is then copied and the model installed into the copy.
    """
    collab_label = f"{label}+collab"
    folder = cache_dir / f"{collab_label}-{content_key(tracks)}-{version}"
    marker = folder / MARKER
    if marker.is_file():
        index = open_index(None, folder, "tracks")
        await index.ensure()
        if await index.count() == len(tracks) and (await index.collab_info())[0] == version:
            return index, True
        await index.close()
    base, _ = await cached_index(tracks, encoder, cache_dir, label, optimize)
    started = time.perf_counter()
    try:
        model = await make_model(base)
    finally:
        await base.close()
    if model.version != version:
        raise ValueError(f"the model is {model.version!r}, the cache expected {version!r}")
    source = cache_dir / f"{label}-{content_key(tracks)}"
    await asyncio.to_thread(_clear, cache_dir, collab_label, folder)
    await asyncio.to_thread(_copy_shard, source, folder)
    index = open_index(None, folder, "tracks")
    await index.ensure()
    await index.replace_collab(model)
    built = {"tracks": len(tracks), "collab_version": version,
             "seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(built))
    log.info("installed collab model %s in the %s index in %.0f s", version, label, built["seconds"])
    return index, False


def _copy_shard(source: Path, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns(MARKER))


def _clear(cache_dir: Path, label: str, folder: Path) -> None:
    """Remove every earlier build of ``label`` (stale or unfinished) and make ``folder``."""
    for stale in cache_dir.glob(f"{label}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)

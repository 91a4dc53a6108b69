"""Catalog writes: records into PostgreSQL (one transaction per batch), then into the index."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import islice
from typing import TypeVar

from app.store import tracks
from app.store.db import Database
from recsys.catalog import CatalogTrack, TrackRecord
from recsys.encoder import AsyncEncoder
from recsys.index.base import TrackIndex
from recsys.index.builder import index_tracks

T = TypeVar("T")
Progress = Callable[[int], None]


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


_RECORD_FIELDS = tuple(f.name for f in fields(TrackRecord))


def with_ids(records: Sequence[TrackRecord], ids: Sequence[int]) -> list[CatalogTrack]:
    return [CatalogTrack(**{name: getattr(r, name) for name in _RECORD_FIELDS}, id=i)
            for r, i in zip(records, ids, strict=True)]


async def store_batch(db: Database, records: Sequence[TrackRecord]) -> list[CatalogTrack]:
    """Upsert one batch atomically and bump the catalog version (caches keyed on it fall away)."""
    async with db.transaction() as conn:
        ids = await tracks.upsert_batch(conn, records)
        await tracks.bump_catalog_version(conn)
    return with_ids(records, ids)


async def import_records(
    db: Database,
    index: TrackIndex | None,
    encoder: AsyncEncoder | None,
    records: Iterable[TrackRecord],
    batch_size: int = 1000,
    on_progress: Progress | None = None,
) -> int:
    """Store and index every record; returns how many were stored.

    PostgreSQL is written first: if indexing fails, `musicrec index rebuild` recovers from it.
    """
    stored = 0
    # Batch k is encoded (in the encoder's worker thread) while batch k+1 is parsed and written
    # to PostgreSQL on the event loop: the two overlap instead of taking turns.
    indexing: tuple[asyncio.Task[int], int] | None = None  # the task and its batch's size

    async def finish_indexing() -> None:
        nonlocal indexing
        if indexing is not None:
            task, rows = indexing
            indexing = None
            await task
            if on_progress is not None:
                on_progress(rows)

    try:
        for batch in chunks(records, batch_size):
            catalog_tracks = await store_batch(db, batch)
            stored += len(batch)
            await finish_indexing()
            if index is not None and encoder is not None:
                indexing = (asyncio.ensure_future(index_tracks(index, catalog_tracks, encoder)), len(batch))
            elif on_progress is not None:
                on_progress(len(batch))
        await finish_indexing()
    finally:
        if indexing is not None:
            indexing[0].cancel()
    return stored


async def rebuild_index(
    db: Database,
    index: TrackIndex,
    encoder: AsyncEncoder,
    on_progress: Progress | None = None,
    batch: int = 2000,
) -> int:
    """Drop the index and fill it again from PostgreSQL, the source of truth."""
    await index.recreate()
    done = 0
    async for page in tracks.iterate(db, batch):
        await index_tracks(index, page, encoder)
        done += len(page)
        if on_progress is not None:
            on_progress(len(page))
    return done

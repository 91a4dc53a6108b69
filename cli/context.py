"""What a command starts from: its settings, and the stores it works on.

``command_settings`` is the one way a command reads its settings (a bad value ends it with
exit code 2 and one line). ``open_catalog`` starts the embedded servers that have no URL
(left running for ``serve``), connects PostgreSQL, applies missing migrations and opens the
index and the text encoder; everything opened is closed again on the way out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import typer
from rich.console import Console

from app.store.db import Database
from app.store.migrate import migrate
from cli.boot import with_embedded
from config import Settings, SettingsError, load_settings
from recsys.encoder import AsyncEncoder
from recsys.index import TrackIndex, open_index

console = Console(stderr=True)

# How to get the index when an embedded one is held by another process (a serve).
IMPORT_BUSY_HINT = ("stop `musicrec serve`, or import with --no-index and run `musicrec index rebuild` "
                    "later")


class IndexBusy(Exception):
    """The index cannot be opened; the message is one line for the terminal."""


def command_settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None


@dataclass
class Catalog:
    settings: Settings
    db: Database
    index: TrackIndex | None
    encoder: AsyncEncoder | None


async def open_track_index(settings: Settings, busy_hint: str) -> TrackIndex:
    """The configured index, opened; IndexBusy when it cannot be (an embedded index belongs to
    one process)."""
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    index = open_index(settings.qdrant_url, settings.data_dir, settings.qdrant_collection, api_key)
    try:
        await index.ensure()
    except Exception as exc:
        with contextlib.suppress(Exception):
            await index.close()
        raise IndexBusy(f"the index cannot be opened ({exc}); an embedded index belongs to one process: "
                        f"{busy_hint}") from exc
    return index


@asynccontextmanager
async def open_catalog(settings: Settings, with_index: bool = True) -> AsyncIterator[Catalog]:
    resolved, _services = with_embedded(settings)  # embedded servers are left running for `serve`
    assert resolved.database_url is not None
    db = Database(resolved.database_url, resolved.db_schema)
    await db.connect()
    await migrate(db)
    index: TrackIndex | None = None
    encoder: AsyncEncoder | None = None
    try:
        if with_index:
            try:
                index = await open_track_index(resolved, IMPORT_BUSY_HINT)
            except IndexBusy as exc:
                raise typer.BadParameter(str(exc)) from exc.__cause__
            encoder = AsyncEncoder.for_backend(resolved.encoder_backend)
        yield Catalog(resolved, db, index, encoder)
    finally:
        if index is not None:
            await index.close()
        if encoder is not None:
            encoder.close()
        await db.close()

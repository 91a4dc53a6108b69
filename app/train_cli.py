"""`musicrec train`: train the collaborative model now and install it in the index."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from config import Settings


def train_command(
    threads: Annotated[int, typer.Option(help="ALS solver threads (a serving instance uses 1)")] = 2,
    factors: Annotated[int, typer.Option(min=2, max=512, help="dimension of the collab vector")] = 64,
    iterations: Annotated[int, typer.Option(min=1, max=100, help="ALS iterations")] = 15,
) -> None:
    """Train the collaborative model from listening events and imported listens, and swap it
    into the index (queries keep being answered throughout)."""
    from app.cli import _settings

    result = asyncio.run(_train(_settings(), threads, factors, iterations))
    typer.echo(result)


async def _train(settings: Settings, threads: int, factors: int, iterations: int) -> str:
    from app.collab_training import train
    from app.server import with_embedded
    from app.store.db import Database
    from app.store.migrate import migrate
    from recsys.collab import NotEnoughData, TrainParams
    from recsys.index import open_index

    resolved, _services = with_embedded(settings)  # embedded servers stay up for `serve`
    assert resolved.database_url is not None
    db = Database(resolved.database_url, resolved.db_schema)
    await db.connect()
    try:
        await migrate(db)
        api_key = resolved.qdrant_api_key.get_secret_value() if resolved.qdrant_api_key else None
        index = open_index(resolved.qdrant_url, resolved.data_dir, resolved.qdrant_collection, api_key)
        try:
            await index.ensure()
        except Exception as exc:
            typer.echo(f"the index cannot be opened ({exc}); an embedded index belongs to one process: "
                       "stop `musicrec serve` (which retrains by itself) or use a Qdrant server", err=True)
            raise typer.Exit(1) from None
        try:
            params = TrainParams(factors=factors, iterations=iterations, threads=threads)
            try:
                done = await train(db, index, params)
            except NotEnoughData as exc:
                typer.echo(f"not enough listening data to train: {exc}", err=True)
                raise typer.Exit(3) from None
            if done is None:
                typer.echo("another instance is training right now", err=True)
                raise typer.Exit(4)
            row = done.row
            return (f"model {row.version}: {row.users} listeners, {row.tracks} tracks "
                    f"({row.warm_tracks} with listening data), {row.rows_read} rows, "
                    f"dim {row.dim}, {row.duration_s:.1f} s")
        finally:
            await index.close()
    finally:
        await db.close()

"""`musicrec train`: train the collaborative model now and install it in the index."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli.context import IndexBusy, command_settings, open_catalog, open_track_index
from config import Settings

BUSY_HINT = "stop `musicrec serve` (which retrains by itself) or use a Qdrant server"


def train_command(
    threads: Annotated[int, typer.Option(help="ALS solver threads (a serving instance uses 1)")] = 2,
    factors: Annotated[int, typer.Option(min=2, max=512, help="dimension of the collab vector")] = 64,
    iterations: Annotated[int, typer.Option(min=1, max=100, help="ALS iterations")] = 15,
) -> None:
    """Train the collaborative model from listening events and imported listens, and swap it
    into the index (queries keep being answered throughout)."""
    result = asyncio.run(_train(command_settings(), threads, factors, iterations))
    typer.echo(result)


async def _train(settings: Settings, threads: int, factors: int, iterations: int) -> str:
    # Here, not above: a third of a second of imports that only this command needs.
    from app.collab_training import train
    from recsys.collab import NotEnoughData, TrainParams

    async with open_catalog(settings, with_index=False) as catalog:  # no text encoder needed
        try:
            index = await open_track_index(catalog.settings, BUSY_HINT)
        except IndexBusy as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        try:
            params = TrainParams(factors=factors, iterations=iterations, threads=threads)
            try:
                done = await train(catalog.db, index, params)
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

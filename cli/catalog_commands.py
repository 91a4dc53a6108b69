"""`musicrec import ...` and `musicrec index ...`: catalog work with progress bars and reports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.catalog import import_records, rebuild_index
from app.store import tracks
from cli.context import Catalog, command_settings, console, open_catalog
from cli.listens_command import listens_command
from config import Settings
from recsys.catalog import TrackRecord
from recsys.importers.report import ImportReport

import_cli = typer.Typer(help="Import a catalog: Spotify CSVs, Last.fm tags, an audio folder, the demo.",
                         no_args_is_help=True)
index_cli = typer.Typer(help="The track index (Qdrant): rebuild it from PostgreSQL.", no_args_is_help=True)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console)


async def store_all(
    catalog: Catalog, records: Iterator[TrackRecord], label: str, total: int | None, batch_size: int = 1000,
) -> tuple[int, float]:
    """Store and index records with a progress bar; returns (stored, seconds)."""
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(label, total=total, rate="")

        def advance(n: int) -> None:
            done = progress.tasks[0].completed + n
            rate = done / max(time.perf_counter() - started, 1e-6)
            progress.update(task, advance=n, rate=f"{rate:,.0f} tracks/s")

        stored = await import_records(catalog.db, catalog.index, catalog.encoder, records,
                                      batch_size=batch_size, on_progress=advance)
    if catalog.index is not None:
        await catalog.index.optimize()
    return stored, time.perf_counter() - started


def finish(report: ImportReport, stored: int, seconds: float, exit_on_nothing: bool = True) -> None:
    console.print(report.summary())
    console.print(f"stored {stored:,} tracks in {seconds:.1f} s ({stored / max(seconds, 1e-6):,.0f}/s)")
    if stored == 0 and exit_on_nothing:
        console.print("[red]nothing could be imported[/red]")
        raise typer.Exit(1)


@import_cli.command("spotify")
def import_spotify(
    paths: Annotated[list[Path], typer.Argument(help="CSV files or folders of them")],
    no_index: Annotated[bool, typer.Option("--no-index", help="store only; index later")] = False,
) -> None:
    """Spotify audio-feature CSVs (Hit Predictor, the 114k tracks dataset, spotify_songs)."""
    from recsys.importers.spotify_csv import csv_paths, inspect_csv, read_spotify_csvs

    files = [f for p in paths for f in csv_paths(p)]
    if not files:
        raise typer.BadParameter("no CSV files found")
    for file in files:
        try:
            inspect_csv(file)
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"{file}: {exc}") from exc
    report = ImportReport()

    async def main() -> tuple[int, float]:
        async with open_catalog(command_settings(), with_index=not no_index) as catalog:
            return await store_all(catalog, read_spotify_csvs(files, report), "spotify", None)

    finish(report, *asyncio.run(main()))


@import_cli.command("lastfm-tags")
def import_lastfm_tags(
    folder: Annotated[Path, typer.Argument(help="the HetRec 2011 Last.fm folder")],
    no_index: Annotated[bool, typer.Option("--no-index")] = False,
) -> None:
    """Enrich catalog tracks with their artists' top Last.fm tags (genres, descriptors, popularity)."""
    from recsys.importers.lastfm import enrich, match_rate
    from recsys.importers.lastfm_profiles import load_artist_profiles

    if not (folder / "artists.dat").is_file():
        raise typer.BadParameter(f"{folder} has no artists.dat")
    profiles = load_artist_profiles(folder)

    async def main() -> None:
        async with open_catalog(command_settings(), with_index=not no_index) as catalog:
            everything = [t async for page in tracks.iterate(catalog.db) for t in page]
            rate = match_rate(everything, profiles)
            changed = [t for t in everything if enrich(t, profiles)]
            report = ImportReport()
            stored, seconds = await store_all(catalog, iter(changed), "enrich", len(changed))
            console.print(report.summary())
            console.print(
                f"artists matched: {rate.artist_rate:.1%}, tracks matched: {rate.track_rate:.1%}; "
                f"{stored:,} tracks enriched in {seconds:.1f} s"
            )

    asyncio.run(main())


@import_cli.command("audio")
def import_audio(
    folder: Annotated[Path, typer.Argument(help="a folder of mp3, flac, ogg, m4a or wav files")],
    workers: Annotated[int, typer.Option(help="analysis processes (0 = one per core)")] = 0,
    no_index: Annotated[bool, typer.Option("--no-index")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="keep watching: import what is added or changed")]
    = False,
    every: Annotated[float, typer.Option(help="with --watch: seconds between looks", min=1.0)] = 30.0,
) -> None:
    """A local audio folder: tags with mutagen, audio features computed from the sound.
    Importing it again (or watching it) updates changed files' tracks, never duplicates them."""
    from recsys.importers.audio_folder import find_audio_files, read_audio_folder
    from recsys.importers.folder_watch import changes, look

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder")
    total = len(find_audio_files(folder))
    report = ImportReport()

    async def main() -> tuple[int, float]:
        async with open_catalog(command_settings(), with_index=not no_index) as catalog:
            before = look(folder)
            records = read_audio_folder(folder, report, workers=workers or None)
            result = await store_all(catalog, records, "audio files", total, batch_size=25)
            if not watch:
                return result
            finish(report, *result, exit_on_nothing=False)
            console.print(f"watching {folder} (a look every {every:.0f} s; Ctrl-C stops)")
            while True:
                await asyncio.sleep(every)
                after = look(folder)
                found = changes(before, after)
                before = after
                if found.removed:
                    gone = len(found.removed)
                    console.print(f"[yellow]{gone} file(s) gone; their tracks stay in the catalog[/yellow]")
                if found.to_import:
                    again = ImportReport()
                    fresh = read_audio_folder(folder, again, workers=workers or None, only=found.to_import)
                    stored, seconds = await store_all(catalog, fresh, "new or changed files",
                                                      len(found.to_import), batch_size=25)
                    finish(again, stored, seconds, exit_on_nothing=False)

    try:
        finish(report, *asyncio.run(main()))
    except KeyboardInterrupt:
        console.print("stopped watching")


@import_cli.command("demo")
def import_demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="only when the catalog is empty")] = False,
) -> None:
    """The built-in demo catalog: public-domain pieces from music21's corpus, played as MIDI."""
    asyncio.run(load_demo(command_settings(), if_empty))


async def load_demo(settings: Settings, if_empty: bool) -> None:
    from recsys.importers.demo_music21 import demo_records

    async with open_catalog(settings) as catalog:
        if if_empty and await tracks.count(catalog.db) > 0:
            console.print("the catalog is not empty; the demo is not loaded")
            return
        report = ImportReport()
        records = list(demo_records())
        stored, seconds = await store_all(catalog, iter(records), "demo catalog", len(records))
        finish(report, stored, seconds)


@index_cli.command("rebuild")
def index_rebuild() -> None:
    """Drop the index and rebuild it from PostgreSQL (the source of truth)."""

    async def main() -> None:
        async with open_catalog(command_settings()) as catalog:
            assert catalog.index is not None and catalog.encoder is not None
            total = await tracks.count(catalog.db)
            started = time.perf_counter()
            with _progress() as progress:
                task = progress.add_task("index", total=total, rate="")
                done = await rebuild_index(catalog.db, catalog.index, catalog.encoder,
                                           on_progress=lambda n: progress.update(task, advance=n))
            await catalog.index.optimize()
            console.print(f"indexed {done:,} tracks in {time.perf_counter() - started:.1f} s")

    asyncio.run(main())


import_cli.command("listens")(listens_command)

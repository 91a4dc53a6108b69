"""`musicrec import listens PATH`: a listening history into a user's account, or the HetRec
listeners as public data (`--dataset hetrec`). Progress on stderr, the report at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.listens_import import ListensFileError, ListensImportError, ListensReport, import_listens
from app.store import users
from cli.context import command_settings, console, open_catalog
from config import Settings
from recsys.importers.listens.records import FORMATS


def listens_command(
    path: Annotated[Path, typer.Argument(help="an export file, a zip of them, or the HetRec folder")],
    user: Annotated[str | None, typer.Option("--user", help="the account whose history this is")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="public listeners: hetrec")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", help=f"force the format: {', '.join(FORMATS)} (default: detected)")] = None,
) -> None:
    """A listening history: ListenBrainz, Last.fm CSV, Spotify (extended or account data), HetRec."""
    if (user is None) == (dataset is None):
        raise typer.BadParameter("give --user NAME (their own export) or --dataset hetrec (public data)")
    if dataset is not None and dataset != "hetrec":
        raise typer.BadParameter(f"unknown dataset {dataset!r}; known: hetrec")
    if user is not None and (fmt == "hetrec"):
        raise typer.BadParameter("HetRec listeners are public data: use --dataset hetrec, not --user")
    if fmt is not None and fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    try:
        report = asyncio.run(run_import(command_settings(), path, user, dataset, fmt))
    except (ListensFileError, ListensImportError) as exc:
        console.print(f"[red]cannot import {path}:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(report.summary())


async def run_import(settings: Settings, path: Path, user: str | None, dataset: str | None,
                     fmt: str | None) -> ListensReport:
    async with open_catalog(settings, with_index=False) as catalog:
        user_id = None
        if user is not None:
            account = await users.by_username(catalog.db, user)
            if account is None:
                raise ListensImportError(f"no user named {user!r}")
            user_id = account.id
        with Progress(TextColumn("[bold]listens"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("listens", total=None)
            return await import_listens(
                catalog.db, path, user_id=user_id, dataset=dataset, fmt=fmt,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )

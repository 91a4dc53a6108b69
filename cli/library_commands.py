"""`musicrec library ...`: connect, sync, list and remove listeners' own library servers.

The password (or API key) comes from MUSICREC_LIBRARY_PASSWORD / MUSICREC_LIBRARY_API_KEY or
a hidden prompt, never from the command line (shell history, `ps`) and never into a log.

The CLI is the administrator's: it connects any address (the HTTP API's address policy,
``library_allowed_hosts``, is for listeners). After a sync it analyses the sound of the songs
that have no audio features (app/library_analysis.py), with progress, unless --no-analysis.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine
from typing import Annotated, Any, Literal

import typer

from app import library
from app.library_analysis import AnalysisCounts, AudioAnalysis
from app.store import libraries, users
from cli.context import Catalog, command_settings, console, open_catalog
from recsys.importers.net_guard import AddressPolicy
from recsys.importers.subsonic import LibraryError, SubsonicClient

library_cli = typer.Typer(help="Your own music library (a Subsonic-compatible server) as the catalog "
                          "that plays.", no_args_is_help=True)

PASSWORD_ENV = "MUSICREC_LIBRARY_PASSWORD"
API_KEY_ENV = "MUSICREC_LIBRARY_API_KEY"


def _secret(api_key: bool) -> str:
    name = API_KEY_ENV if api_key else PASSWORD_ENV
    value = os.environ.get(name)
    if value:
        return value
    return str(typer.prompt("API key" if api_key else "Password", hide_input=True))


async def _sync(catalog: Catalog, lib: libraries.Library, analyse: bool = True) -> None:
    started = time.perf_counter()

    def progress(done: int) -> None:
        rate = done / max(time.perf_counter() - started, 1e-6)
        console.print(f"  {done:,} songs ({rate:,.0f}/s)", end="\r")

    policy = library.address_policy(catalog.settings)
    result = await library.sync(catalog.db, catalog.index, catalog.encoder, lib, on_progress=progress,
                                policy=policy)
    console.print()
    console.print(result.summary())
    if analyse:
        await _analyse(catalog, policy)
    if catalog.index is not None:
        await catalog.index.optimize()


async def _analyse(catalog: Catalog, policy: AddressPolicy) -> None:
    """Features from the sound of every song that has none (of every reachable library)."""
    waiting = sum(c["pending"] for c in (await libraries.analysis_counts(catalog.db)).values())
    if not waiting:
        return
    console.print(f"Analysing the sound of {waiting:,} songs without audio features "
                  f"(the first {catalog.settings.library_analysis_max_bytes // 1024 // 1024} MiB of each)")
    clients: dict[int, SubsonicClient] = {}

    async def client_for(library_id: int) -> SubsonicClient:
        if library_id not in clients:
            found = await libraries.get(catalog.db, library_id)
            if found is None:
                raise LibraryError("this library is no longer connected", "not_found")
            clients[library_id] = await library.open_client(catalog.db, found, policy)
        return clients[library_id]

    async def offline(library_id: int, error: str) -> None:
        console.print(f"[yellow]library {library_id} cannot be reached ({error}); its songs wait for "
                      "the next sync or the server[/yellow]")

    def progress(counts: AnalysisCounts) -> None:
        console.print(f"  {counts.done + counts.failed:,} of {waiting:,} analysed "
                      f"({counts.failed:,} could not be)", end="\r")

    settings = catalog.settings
    analysis = AudioAnalysis(catalog.db, catalog.index, catalog.encoder, client_for,
                             workers=max(1, settings.library_analysis_workers),
                             queue_size=settings.library_analysis_queue,
                             max_bytes=settings.library_analysis_max_bytes, on_offline=offline)
    analysis.on_progress = progress
    try:
        counts = await analysis.run_until_empty()
    finally:
        for client in clients.values():
            await client.close()
    console.print()
    console.print(f"audio analysis: {counts.done:,} songs analysed, {counts.failed:,} could not be "
                  f"(undecodable or gone), {waiting - counts.done - counts.failed:,} still waiting")


@library_cli.command("add")
def add(
    kind: Annotated[Literal["subsonic"], typer.Argument(help="the server's API (subsonic)")],
    url: Annotated[str, typer.Argument(help="the server's address, e.g. https://music.example.org")],
    user: Annotated[str, typer.Option("--user", help="your username on that server")],
    api_key: Annotated[bool, typer.Option("--api-key", help="authenticate with an OpenSubsonic API key "
                                          f"(from {API_KEY_ENV} or a prompt) instead of a password")] = False,
    owner: Annotated[str | None, typer.Option(help="the musicrec user whose plays and likes go back "
                                              "to this library")] = None,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="connect only; sync later")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="store only; index later")] = False,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="leave the analysis of songs "
                                              "without features to the server")] = False,
) -> None:
    """Connect a Subsonic-compatible server (Navidrome, Jellyfin, Airsonic, Gonic, Supysonic...)."""
    secret = _secret(api_key)

    async def main() -> None:
        async with open_catalog(command_settings(), with_index=not no_index and not no_sync) as catalog:
            owner_id = None
            if owner is not None:
                found = await users.by_username(catalog.db, owner)
                if found is None:
                    raise typer.BadParameter(f"no musicrec user {owner!r}")
                owner_id = found.id
            lib = await library.connect(catalog.db, owner_id, url, user, secret, is_api_key=api_key)
            console.print(f"library {lib.id} connected: {lib.url} (Subsonic API {lib.api_version}, "
                          f"{lib.auth_mode} authentication)")
            if not no_sync:
                await _sync(catalog, lib, analyse=not no_analysis)

    _run(main())


@library_cli.command("sync")
def sync(
    library_id: Annotated[int, typer.Argument(help="the library's id (see `musicrec library list`)")],
    no_index: Annotated[bool, typer.Option("--no-index")] = False,
    no_analysis: Annotated[bool, typer.Option("--no-analysis", help="leave the analysis of songs "
                                              "without features to the server")] = False,
) -> None:
    """Sync a library again: new songs added, changed ones updated, removed ones unplayable."""

    async def main() -> None:
        async with open_catalog(command_settings(), with_index=not no_index) as catalog:
            lib = await libraries.get(catalog.db, library_id)
            if lib is None:
                raise typer.BadParameter(f"no library {library_id}")
            await _sync(catalog, lib, analyse=not no_analysis)

    _run(main())


@library_cli.command("list")
def list_libraries() -> None:
    """Connected libraries, their status and their last sync."""

    async def main() -> None:
        async with open_catalog(command_settings(), with_index=False) as catalog:
            counts = await libraries.song_counts(catalog.db)
            analysis = await libraries.analysis_counts(catalog.db)
            for lib in await libraries.all_libraries(catalog.db):
                status = "online" if lib.online else f"offline ({lib.last_error})"
                synced = lib.last_sync_at.isoformat(timespec="seconds") if lib.last_sync_at else "never"
                songs = counts.get(lib.id, 0)
                done = analysis.get(lib.id, {})
                console.print(f"{lib.id:>4}  {lib.url}  user {lib.username}  {songs:,} songs  "
                              f"{status}  last sync {synced} ({lib.sync_state})  analysed "
                              f"{done.get('done', 0):,}, waiting {done.get('pending', 0):,}, "
                              f"failed {done.get('failed', 0):,}")

    _run(main())


@library_cli.command("remove")
def remove(library_id: Annotated[int, typer.Argument()]) -> None:
    """Disconnect a library: its credentials are deleted, its tracks lose their sound."""

    async def main() -> None:
        async with open_catalog(command_settings()) as catalog:
            lib = await libraries.get(catalog.db, library_id)
            if lib is None:
                raise typer.BadParameter(f"no library {library_id}")
            changed = await library.remove_from_catalog(catalog.db, catalog.index, catalog.encoder, lib)
            console.print(f"library {library_id} removed; {changed:,} tracks no longer play from it")

    _run(main())


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run(main)
    except LibraryError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None

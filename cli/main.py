"""The `musicrec` command: serve, migrate, services, import, index, library, train, eval."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from typing import Annotated

import typer

from app.store.db import Database
from app.store.migrate import migrate as run_migrations
from cli.boot import configure_logging, exit_now, run, with_embedded
from cli.catalog_commands import import_cli, index_cli
from cli.context import command_settings
from cli.library_commands import library_cli
from cli.single_instance import CannotServe, claim, port_taken_message
from cli.train_command import train_command
from config import SettingsError
from services import EmbeddedServices, ServiceError

cli = typer.Typer(help="musicrec: a real-time AI music recommender", no_args_is_help=True,
                  pretty_exceptions_enable=False)
services_cli = typer.Typer(help="Start, stop or inspect the embedded PostgreSQL and Redis.",
                           no_args_is_help=True)
cli.add_typer(services_cli, name="services")


@cli.command()
def serve(
    port: Annotated[int | None, typer.Option(help="port (default MUSICREC_PORT or 8080)")] = None,
) -> None:
    """Start the embedded parts that have no URL, then serve the app.

    Refused in one line when another serve holds the data directory or the port. Ctrl-C (or
    SIGTERM) stops the server, then the embedded parts it started; if this process is killed
    instead, a guardian process stops them (services/guardian.py).
    """
    settings = command_settings()
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    try:
        held = claim(settings)
    except CannotServe as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    configure_logging(settings.log_level)
    services: EmbeddedServices | None = None
    code = 0
    try:
        resolved, services = with_embedded(settings, guard=True)
        run(resolved)
    except ServiceError as exc:
        typer.echo(f"could not start the embedded services: {exc}", err=True)
        code = 1
    except KeyboardInterrupt:  # a Ctrl-C before the server's own handler was installed
        pass
    except Exception as exc:  # reported here, so that the bounded exit below still happens
        code = 1
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:  # taken since claim()
            typer.echo(port_taken_message(settings.port), err=True)
        else:
            logging.getLogger("musicrec.server").exception("musicrec serve stopped on an error")
    finally:
        # A second Ctrl-C must not cut the embedded servers' shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if services is not None:
            services.stop(only_started=True)
        held.release()
    exit_now(code)
    if code:
        raise typer.Exit(code)


@cli.command()
def migrate() -> None:
    """Apply the database migrations that are missing."""
    settings = command_settings()

    async def main() -> list[str]:
        # Embedded servers that run are reused; those that do not are started (and left running).
        resolved, _services = with_embedded(settings)
        assert resolved.database_url is not None
        db = Database(resolved.database_url, resolved.db_schema)
        await db.connect()
        try:
            return await run_migrations(db)
        finally:
            await db.close()

    applied = asyncio.run(main())
    typer.echo(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")


def _embedded() -> EmbeddedServices:
    settings = command_settings()
    return EmbeddedServices(settings.data_dir, pg_port=settings.embedded_pg_port,
                            redis_port=settings.embedded_redis_port)


@services_cli.command("start")
def services_start() -> None:
    """Start the embedded PostgreSQL and Redis in the background (they keep running)."""
    try:
        urls = _embedded().start()
    except ServiceError as exc:
        typer.echo(f"could not start: {exc}", err=True)
        raise typer.Exit(1) from None
    for name, url in urls.items():
        typer.echo(f"{name}: {url}")


@services_cli.command("stop")
def services_stop() -> None:
    """Stop the embedded servers."""
    _embedded().stop()
    typer.echo("stopped")


@services_cli.command("status")
def services_status() -> None:
    """Say which embedded servers run."""
    statuses = _embedded().status()
    for status in statuses:
        state = f"running (pid {status.pid})" if status.running else "stopped"
        typer.echo(f"{status.name}: {state} {status.url}")
    if not all(s.running for s in statuses):
        raise typer.Exit(3)


cli.add_typer(import_cli, name="import")
cli.add_typer(index_cli, name="index")
cli.add_typer(library_cli, name="library")
cli.command("train")(train_command)


@cli.command(
    "eval",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def evaluate(ctx: typer.Context) -> None:
    """Offline evaluation on real listening data (`musicrec eval --help` lists the options)."""
    # The evaluation keeps its own argparse parser so that it runs without the server's settings.
    from recsys.evaluation.cli import main as eval_main

    raise typer.Exit(eval_main(list(ctx.args)))


def main() -> None:
    try:
        cli()
    except SettingsError as exc:  # raised lazily by a settings source
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

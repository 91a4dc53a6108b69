"""Runs the app under Hypercorn, with the embedded parts started around it when needed."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from config import Settings

log = logging.getLogger("musicrec.server")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # Hypercorn's own access log would duplicate our structured request line.
    logging.getLogger("hypercorn.access").disabled = True


def with_embedded(settings: Settings) -> tuple[Settings, object | None]:
    """Start the embedded parts the settings leave without a URL; returns resolved settings."""
    embedded = [p for p in settings.embedded_parts if p in ("postgres", "redis")]
    if not embedded:
        return settings, None
    from services import EmbeddedServices

    services = EmbeddedServices(
        settings.data_dir,
        postgres="postgres" in embedded,
        redis="redis" in embedded,
        pg_port=settings.embedded_pg_port,
        redis_port=settings.embedded_redis_port,
    )
    urls = services.start()
    services.watch(lambda line: log.error(line))
    return settings.model_copy(update=urls), services


async def run_server(settings: Settings) -> None:
    from app.factory import create_app

    app = create_app(settings)
    config = HypercornConfig()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.graceful_timeout = 5
    config.websocket_ping_interval = None  # the protocol has its own ping/pong
    config.accesslog = None
    stop = asyncio.Event()
    draining: set[asyncio.Task[None]] = set()

    async def drain_then_stop() -> None:
        # Close the WebSockets ourselves (1001, so clients reconnect elsewhere at once) before
        # Hypercorn stops: it would otherwise cancel their tasks mid-read.
        drain = app.extensions.get("musicrec_drain")
        try:
            if drain is not None:
                await asyncio.wait_for(drain(), timeout=config.graceful_timeout)
        except Exception as exc:  # a failed drain must not block the shutdown
            log.warning("draining before shutdown failed: %s", exc)
        finally:
            stop.set()

    def on_signal() -> None:
        if stop.is_set() or draining:
            stop.set()  # a second Ctrl-C: stop now
            return
        task = asyncio.ensure_future(drain_then_stop())
        draining.add(task)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    log.info("serving on http://%s:%s", settings.host, settings.port)
    await serve(app, config, shutdown_trigger=stop.wait)

"""One app instance under Hypercorn, for the realtime tests (settings from MUSICREC_*).

Like cli.boot.run_server, plus what the realtime layer needs at shutdown: the stop signal
first runs the app's "musicrec_draining" hooks (every WebSocket closes with 1001), then
Hypercorn stops. ``serve_app`` also runs an app inside a test's own event loop.
Run as ``python -m tests.realtime.server_main``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from app.factory import create_app
from config import Settings, load_settings


async def serve_app(app: Quart, settings: Settings, stop: asyncio.Event) -> None:
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.graceful_timeout = 2
    config.websocket_ping_interval = None
    config.accesslog = None

    async def shutdown_trigger() -> None:
        await stop.wait()
        state = app.extensions["musicrec"]
        for hook in app.extensions.get("musicrec_draining", []):
            await hook(state)

    await serve(app, config, shutdown_trigger=shutdown_trigger)


async def main() -> None:
    settings = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_app(create_app(settings), settings, stop)


if __name__ == "__main__":
    logging.basicConfig(level="WARNING", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())

"""One app instance for the reliability tests: like tests.realtime.server_main, with the log level
(MUSICREC_TEST_LOG_LEVEL) and Hypercorn's access log (MUSICREC_TEST_ACCESS_LOG=1) selectable, so that
a test can read everything the server writes. Run as ``python -m tests.reliability.server_main``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config

from app.factory import create_app
from config import load_settings


async def main() -> None:
    settings = load_settings()
    app = create_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    config = Config()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.graceful_timeout = 2
    config.websocket_ping_interval = None
    config.accesslog = "-" if os.environ.get("MUSICREC_TEST_ACCESS_LOG") == "1" else None
    config.errorlog = "-"

    async def shutdown_trigger() -> None:
        await stop.wait()
        state = app.extensions["musicrec"]
        for hook in app.extensions.get("musicrec_draining", []):
            await hook(state)

    await serve(app, config, shutdown_trigger=shutdown_trigger)


if __name__ == "__main__":
    logging.basicConfig(
        level=os.environ.get("MUSICREC_TEST_LOG_LEVEL", "WARNING"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    asyncio.run(main())

"""The boot of a serving process: the app under Hypercorn, with the embedded parts started
around it when needed (``with_embedded``; the CLI's tools use it too).

Stopping: SIGINT or SIGTERM drains the WebSockets, stops Hypercorn and runs the app's shutdown;
then `musicrec serve` stops the embedded parts it started. Nothing may hold the exit up: work
that cannot be cancelled (a thread inside ``asyncio.to_thread``, a model run in an executor) is
waited for only briefly (``run`` and ``exit_now``), since it dies with the process anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.utils import LifespanTimeoutError

from config import Settings
from services import EmbeddedServices

log = logging.getLogger("musicrec.server")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # Hypercorn's own access log would duplicate our structured request line.
    logging.getLogger("hypercorn.access").disabled = True


# Bounds on the exit, after the server itself has stopped.
SHUTDOWN_TIMEOUT_S = 8.0  # the app's after_serving hooks
TASKS_GRACE_S = 3.0  # tasks still pending when Hypercorn returns, once cancelled
THREADS_GRACE_S = 2.0  # non-daemon threads (executors' workers), before exit_now() leaves them


def with_embedded(settings: Settings, guard: bool = False) -> tuple[Settings, EmbeddedServices | None]:
    """Start the embedded parts the settings leave without a URL; returns resolved settings.

    With ``guard``, a guardian process first (services/guardian.py): if this process dies
    without stopping what it started here, the guardian stops it.
    """
    embedded = [p for p in settings.embedded_parts if p in ("postgres", "redis")]
    if not embedded:
        return settings, None
    services = EmbeddedServices(
        settings.data_dir,
        postgres="postgres" in embedded,
        redis="redis" in embedded,
        pg_port=settings.embedded_pg_port,
        redis_port=settings.embedded_redis_port,
    )
    if guard:
        services.guard()
    urls = services.start()
    services.watch(lambda line: log.error(line))
    return settings.model_copy(update=urls), services


async def run_server(settings: Settings) -> None:
    from threadpoolctl import threadpool_limits

    from app.factory import create_app  # here, not above: a second of imports the tools never need

    # One BLAS thread for the whole server. Its matrix work is small (a queue's 20 tracks
    # against a session's likes, a fold-in's 64 x 64 solve), where a second BLAS thread only
    # costs a wake-up, and on two cores shared with PostgreSQL, Redis and the event loop it
    # waited for a core: milliseconds for microseconds of work. Training limits itself too.
    threadpool_limits(1, "blas")
    app = create_app(settings)
    config = HypercornConfig()
    config.bind = [f"{settings.host}:{settings.port}"]
    config.graceful_timeout = 5
    # The app's own shutdown (closing the index, the pools) is quick; one that hangs must not
    # keep a Ctrl-C waiting for Hypercorn's default minute.
    config.shutdown_timeout = SHUTDOWN_TIMEOUT_S
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
    try:
        await serve(app, config, shutdown_trigger=stop.wait)
    except LifespanTimeoutError as exc:
        if not stop.is_set():
            raise  # the start-up timed out: a failure, reported as one
        log.warning("the app's shutdown took over %.0f s; stopping anyway (%s)", SHUTDOWN_TIMEOUT_S, exc)


def run(settings: Settings) -> None:
    """``asyncio.run(run_server(settings))``, except that the clean-up after the server stopped
    is bounded: asyncio.run joins every default-executor thread (``asyncio.to_thread``), however
    long its work runs; here they are left to ``exit_now``."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(thread_name_prefix="asyncio-default")
    loop.set_default_executor(executor)
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run_server(settings))
    finally:
        try:
            _cancel_pending(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not pending:
        return
    for task in pending:
        task.cancel()
    done, still = loop.run_until_complete(asyncio.wait(pending, timeout=TASKS_GRACE_S))
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("task %s failed during shutdown: %r", task.get_name(), task.exception())
    if still:
        log.warning("left %d task(s) behind at shutdown: %s", len(still),
                    ", ".join(sorted(t.get_name() for t in still)))


def exit_now(code: int = 0) -> None:
    """The last step of serve: exit with ``code`` without waiting on stuck threads.

    Python joins every non-daemon thread (executor workers included) before it exits; one stuck
    in uncancellable work (parsing scores in a to_thread, a model run) would hold a stopped
    server's process open. Those get ``THREADS_GRACE_S``, then the process exits anyway.
    """
    deadline = time.monotonic() + THREADS_GRACE_S
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate()
             if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if not stuck:
        return
    log.warning("exiting without waiting for: %s", ", ".join(sorted(stuck)))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)

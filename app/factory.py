"""The app factory: settings in, a Quart app with every part wired out."""

from __future__ import annotations

import gc
import logging

from quart import Quart
from quart_auth import QuartAuth
from quart_schema import QuartSchema

from app import collab_training, errors, library_status, request_log, security
from app.auth.login_sessions import LoginSessions
from app.auth.ratelimit import LoginLimiter
from app.auth.user import SessionUser
from app.demo_loader import load_demo_if_empty, stop_demo_loader
from app.engine_setup import start_engine, stop_engine
from app.redis_pool import connect_redis
from app.state import AppState
from app.store.db import Database
from app.store.migrate import migrate
from config import Settings, load_settings

log = logging.getLogger("musicrec.app")


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or load_settings()
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("database_url and redis_url must be resolved before create_app")

    app = Quart(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        QUART_AUTH_COOKIE_SECURE=settings.cookie_secure,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_COOKIE_NAME="musicrec_session",
        QUART_AUTH_DURATION=settings.session_ttl_s,
        QUART_AUTH_MODE="cookie",
        JSON_SORT_KEYS=False,
    )
    QuartAuth(app, user_class=SessionUser)
    QuartSchema(
        app,
        openapi_path="/api/openapi.json",
        swagger_ui_path="/api/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": "musicrec", "version": "0.1.0"},
    )

    redis = connect_redis(settings)
    db = Database(settings.database_url, settings.db_schema, settings.db_pool_min, settings.db_pool_max)
    state = AppState(
        settings=settings,
        db=db,
        redis=redis,
        sessions=LoginSessions(redis, settings.redis_prefix, settings.session_ttl_s),
        limiter=LoginLimiter(redis, settings.redis_prefix, settings.login_max_failures,
                             settings.login_window_s),
    )
    app.extensions["musicrec"] = state

    errors.register_error_handlers(app)
    request_log.install(app)
    security.install(app)
    _register_blueprints(app)

    @app.before_serving
    async def _startup() -> None:
        await db.connect()
        applied = await migrate(db)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        await start_engine(state)
        await load_demo_if_empty(state)
        for hook in app.extensions.get("musicrec_startup", []):
            await hook(state)
        _settle_garbage_collector()

    async def drain() -> None:
        """Called by the server when a shutdown signal arrives, before it stops serving."""
        for hook in app.extensions.get("musicrec_draining", []):
            await hook(state)

    app.extensions["musicrec_drain"] = drain

    @app.after_serving
    async def _shutdown() -> None:
        for hook in reversed(app.extensions.get("musicrec_shutdown", [])):
            await hook(state)
        await stop_demo_loader(state)
        await stop_engine(state)
        await db.close()
        await redis.aclose(close_connection_pool=True)

    return app


def _settle_garbage_collector() -> None:
    """Move everything alive after start-up (the model, the catalog caches, the modules) out of
    the collector's sight, and collect the youngest generation less often.

    A full collection walks every tracked object; with the text model and the caches loaded that
    is hundreds of thousands, and the pause lands on whichever WebSocket frame is in flight: the
    tail of the feedback-to-queue latency. Frozen objects are never walked again; what a
    request allocates is still collected, in bigger, rarer batches of the young generation.
    """
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 10_000), gen1, gen2)


def _register_blueprints(app: Quart) -> None:
    from app.routes import auth, catalog, groups, health, libraries, listening, listens, me, recommend, spa

    for module in (auth, health, me, catalog, recommend, listening, libraries, groups):
        app.register_blueprint(module.bp)
    library_status.install(app)
    collab_training.install(app)
    listens.install(app)
    from realtime.ws import register as register_ws

    register_ws(app)
    spa.install(app)

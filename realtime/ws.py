"""The `/ws` route: refuse bad handshakes before the upgrade, then run the receive loop.

The handshake is refused with a plain HTTP answer (the contract's JSON error) when the
Origin is not allowed (403) or there is no valid session (401): the browser never gets an
open socket to a cross-site page or an anonymous client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from quart import Blueprint, Quart, websocket
from quart_auth import current_user
from redis.exceptions import RedisError

from app.auth.user import SessionUser
from app.errors import ApiError, ServiceUnavailable
from app.fanout import NoFanout
from app.security import origin_allowed
from app.state import AppState, get_state
from realtime import compression, protocol
from realtime.connection import CLOSE_INTERNAL, CLOSE_POLICY, CLOSE_TOO_BIG, Connection
from realtime.fanout import RealtimeFanout
from realtime.ratelimit import frame_bucket
from realtime.runtime import EXTRAS_KEY, Realtime, get_realtime

bp = Blueprint("realtime", __name__)
log = logging.getLogger("musicrec.realtime")

# How long a socket the server closed keeps reading for the client's answering close frame.
CLOSE_LINGER_S = 2.0

_BACKEND_ERRORS = (RedisError, OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                   asyncpg.InternalClientError)  # the last: a connection that died mid-operation


@bp.websocket("/ws")
async def ws_endpoint() -> None:
    state = get_state()
    settings = state.settings
    if not origin_allowed(websocket.headers.get("Origin"), websocket.headers.get("Host"), settings):
        raise ApiError(403, "bad_origin", "this WebSocket's Origin is not allowed")
    user: SessionUser = current_user  # type: ignore[assignment]
    user_id = await user.user_id()
    if user_id is None:
        raise ApiError(401, "not_authenticated", "log in first")
    realtime = get_realtime(state)
    if realtime is None or realtime.hub.closing:
        raise ServiceUnavailable("the live session service")

    conn = Connection(websocket._get_current_object(), user_id, settings.ws_send_buffer)  # type: ignore[attr-defined]
    admitted = await realtime.hub.admit(conn, settings.ws_max_connections_per_user)
    await websocket.accept()
    if not admitted:
        await websocket.close(CLOSE_POLICY, "too many connections for this user")
        return
    try:
        await _serve(realtime, conn, state)
    finally:
        conn.closed = True
        if conn.stream != conn.user_id:  # it followed a group: no longer present there
            realtime.hub.spawn(realtime.groups.dropped(conn))
        realtime.hub.release(conn)
    # _serve returns only once the server closed the socket (a client's close cancels it).
    await _await_client_close()


async def _await_client_close() -> None:
    """Read and drop frames until the client answers our close frame (or a short wait ends).

    Returning at once would let the server close the TCP socket while the client's frames are
    still arriving (a flood, say); with unread data the kernel resets the connection, and a reset
    can discard our close frame before the client reads it, so the client never learns why.
    The client's answering close ends the handler (Quart cancels it), which is the normal way out.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_LINGER_S):
            while True:
                await websocket.receive()


async def _serve(realtime: Realtime, conn: Connection, state: AppState) -> None:
    """Take frames until the server closes the socket: a limit broken here, or another part
    (shutdown, a send buffer overrun, the idle sweep). A client's close cancels it instead."""
    settings = state.settings
    bucket = frame_bucket(settings.ws_max_frames_per_s)
    stream, dispatch = realtime.stream, realtime.dispatch
    while not conn.closed:
        data: bytes | str | None = await websocket.receive()
        conn.last_seen = time.monotonic()
        if data is None:  # Quart hands an empty binary frame over as None
            data = b""
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "replace"))
        if size > settings.ws_max_frame_bytes:
            await conn.close(CLOSE_TOO_BIG, f"frames are limited to {settings.ws_max_frame_bytes} bytes")
            return
        if not bucket.take():
            await conn.close(CLOSE_POLICY, "too many frames")
            return
        text = isinstance(data, str)
        try:
            frame = protocol.decode(data)
        except protocol.ProtocolError as exc:
            await stream.send_error(conn, exc.code, exc.message, exc.ref, text)
            continue
        try:
            await dispatch.handle(conn, frame, text)
        except _BACKEND_ERRORS as exc:
            log.warning("frame of user %s failed: %r", conn.user_id, exc)
            try:
                # With the frame's ref, so that the client knows which frame to send again.
                await stream.send_error(conn, "unavailable", "try again shortly",
                                        getattr(frame, "ref", None), text)
            except _BACKEND_ERRORS:
                # Not even a seq can be had: let the client reconnect and resume.
                await conn.close(CLOSE_INTERNAL, "service unavailable, reconnect")
                return


def register(app: Quart) -> None:
    """Add `/ws` and start/stop the realtime layer with the app."""
    compression.install()
    app.register_blueprint(bp)

    async def start(state: AppState) -> None:
        realtime = Realtime(state)
        state.extras[EXTRAS_KEY] = realtime
        await realtime.start()
        state.fanout = RealtimeFanout(realtime.queues, realtime.hub, realtime.groups)

    async def drain(state: AppState) -> None:
        # Runs when the shutdown signal arrives, before the server stops: new handshakes get
        # 503 and every open socket closes with 1001, so clients reconnect elsewhere at once.
        realtime = get_realtime(state)
        if realtime is not None:
            await realtime.hub.close_all()

    async def stop(state: AppState) -> None:
        state.fanout = NoFanout()
        realtime = get_realtime(state)
        if realtime is not None:
            await realtime.stop()  # every socket closes with 1001
            state.extras.pop(EXTRAS_KEY, None)

    app.extensions.setdefault("musicrec_startup", []).append(start)
    app.extensions.setdefault("musicrec_draining", []).append(drain)
    app.extensions.setdefault("musicrec_shutdown", []).append(stop)

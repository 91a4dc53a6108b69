"""The Redis pub/sub bus: one subscriber connection per server instance.

Each instance subscribes to ``{redis_prefix}user:<id>`` while it holds at least one connection
of that user, and hands every message to one callback (the hub fans it out locally). One
pub/sub connection, not one per WebSocket: 10,000 idle sockets must not mean 10,000 Redis
connections.

Publishing happens elsewhere (inside the session store's publish script, atomically with the
seq and the resume log), so this module only listens.

When Redis goes away the reader reconnects with capped exponential backoff and jitter,
subscribes again to every channel still wanted, and reports each user as it is confirmed, so
that user's connections replay what they missed from the resume log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("musicrec.realtime.bus")

PING_EVERY_S = 10.0  # a silent pub/sub connection is pinged this often...
SILENT_LIMIT_S = 25.0  # ...and declared dead when nothing (not even the pong) came back
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 2.0  # with the jitter (x0.5..1.5) a returning Redis is retried within 3 s
SUBSCRIBE_CHUNK = 500  # channels per SUBSCRIBE command when resubscribing after a reconnect
CONFIRM_TIMEOUT_S = 5.0


class _Channel:
    """One subscribed user: how many local connections want it, and whether Redis confirmed."""

    __slots__ = ("confirmed", "refs", "resync")

    def __init__(self) -> None:
        self.refs = 0
        self.confirmed = asyncio.Event()
        self.resync = False  # report this user when the confirmation arrives (after a reconnect)


class Bus:
    """Reference-counted subscriptions on one pub/sub connection, with reconnects."""

    def __init__(
        self,
        redis_url: str,
        prefix: str,
        on_message: Callable[[int, bytes], None],
        on_resync: Callable[[int], None],
    ) -> None:
        # Its own client: retries are off so that a dropped connection surfaces here, where
        # the resubscribe and the resync happen, instead of being silently redone by redis-py.
        # Named, so that CLIENT LIST shows which connection is an instance's bus.
        self._redis = Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_keepalive=True, retry=Retry(NoBackoff(), 0),
            client_name=f"{prefix}bus".replace(" ", "_"),
        )
        self._channel_prefix = f"{prefix}user:".encode()
        self._on_message = on_message
        self._on_resync = on_resync
        self._channels: dict[int, _Channel] = {}
        # SUBSCRIBE commands not yet confirmed, per user, in the order sent: Redis confirms in
        # that order, so each confirmation belongs to the oldest one (an unsubscribe and a
        # resubscribe can be in flight at the same time).
        self._inflight: dict[int, deque[_Channel]] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._ever_connected = False
        self.reconnects = 0

    @property
    def users(self) -> int:
        return len(self._channels)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def channel(self, user_id: int) -> bytes:
        return self._channel_prefix + str(user_id).encode()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="realtime-bus")
        # Start-up waits for the first connection, briefly: a Redis that is down now is
        # reported by the health check, and the reader keeps trying in the background.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 5.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop_pubsub()
        await self._redis.aclose()

    async def acquire(self, user_id: int) -> None:
        """Subscribe to the user's channel (first local connection) and wait until Redis
        confirms, so that nothing published after this returns can be missed."""
        channel = self._channels.get(user_id)
        if channel is None:
            channel = self._channels[user_id] = _Channel()
            channel.refs += 1  # counted before the await, so a release meanwhile balances it
            await self._subscribe([user_id])
        else:
            channel.refs += 1
        try:
            await asyncio.wait_for(channel.confirmed.wait(), CONFIRM_TIMEOUT_S)
        except TimeoutError:
            # Redis is away; the reader subscribes again when it is back and reports a resync.
            channel.resync = True

    async def release(self, user_id: int) -> None:
        channel = self._channels.get(user_id)
        if channel is None:
            return
        channel.refs -= 1
        if channel.refs > 0:
            return
        del self._channels[user_id]
        if self._pubsub is not None and self.connected:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.unsubscribe(self.channel(user_id))

    async def _subscribe(self, user_ids: list[int]) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self.connected:
            return  # the reader subscribes every wanted channel once it (re)connects
        for user_id in user_ids:
            self._inflight.setdefault(user_id, deque()).append(self._channels[user_id])
        try:
            await pubsub.subscribe(*(self.channel(u) for u in user_ids))
        except (RedisError, OSError):
            log.warning("pub/sub subscribe failed; the reader will resubscribe")

    async def _run(self) -> None:
        delay = BACKOFF_MIN_S
        while True:
            try:
                await self._connect()
                delay = BACKOFF_MIN_S
                await self._read()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, TimeoutError) as exc:
                if self.connected:
                    log.warning("pub/sub connection lost (%s); reconnecting", exc)
            except Exception:
                log.exception("pub/sub reader failed; reconnecting")
            self._connected.clear()
            await self._drop_pubsub()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(BACKOFF_MAX_S, delay * 2)

    async def _connect(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.connect()
        self._pubsub = pubsub
        self._inflight.clear()
        self._connected.set()
        wanted = list(self._channels)
        if self._ever_connected:
            # Messages published while disconnected are lost to pub/sub: every user still
            # wanted is reported once subscribed again, and replays from the resume log.
            self.reconnects += 1
            for user_id in wanted:
                self._channels[user_id].resync = True
        self._ever_connected = True
        for start in range(0, len(wanted), SUBSCRIBE_CHUNK):
            await self._subscribe(wanted[start : start + SUBSCRIBE_CHUNK])
        if wanted:
            log.info("pub/sub connected; resubscribed %d users", len(wanted))

    async def _read(self) -> None:
        pubsub = self._pubsub
        assert pubsub is not None
        last_rx = last_ping = time.monotonic()
        while True:
            if not pubsub.subscribed and not self._inflight:
                # redis-py cannot read from a pub/sub with no subscription: wait for one.
                await asyncio.sleep(0.05)
                message = None
            else:
                message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_rx = now
                self._handle(message)
            elif now - last_rx > SILENT_LIMIT_S and pubsub.subscribed:
                raise TimeoutError("pub/sub connection silent")
            if now - max(last_rx, last_ping) > PING_EVERY_S and pubsub.subscribed:
                last_ping = now
                await pubsub.ping()
            elif not pubsub.subscribed:
                last_rx = now

    def _handle(self, message: dict[str, object]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        if not isinstance(channel, bytes) or not channel.startswith(self._channel_prefix):
            return
        try:
            user_id = int(channel[len(self._channel_prefix) :])
        except ValueError:
            return
        if kind == "message":
            data = message.get("data")
            if isinstance(data, bytes) and user_id in self._channels:
                try:
                    self._on_message(user_id, data)
                except Exception:
                    log.exception("pub/sub message for user %s could not be delivered", user_id)
        elif kind == "subscribe":
            pending = self._inflight.get(user_id)
            if not pending:
                return
            channel_state = pending.popleft()
            if not pending:
                del self._inflight[user_id]
            channel_state.confirmed.set()
            if channel_state.resync and self._channels.get(user_id) is channel_state:
                channel_state.resync = False
                self._on_resync(user_id)

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        for channel in self._channels.values():
            channel.confirmed.clear()
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

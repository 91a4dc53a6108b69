"""Everything a request needs, built once per process at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quart import current_app
from redis.asyncio import Redis

from app.auth.login_sessions import LoginSessions
from app.auth.ratelimit import LoginLimiter
from app.fanout import LiveFanout, NoFanout
from app.store.db import Database
from config import Settings

if TYPE_CHECKING:
    from recsys.encoder import AsyncEncoder
    from recsys.engine import Engine
    from recsys.index.base import TrackIndex


@dataclass
class AppState:
    settings: Settings
    db: Database
    redis: Redis
    sessions: LoginSessions
    limiter: LoginLimiter
    index: TrackIndex | None = None
    encoder: AsyncEncoder | None = None
    engine: Engine | None = None
    fanout: LiveFanout = field(default_factory=NoFanout)  # replaced by the realtime layer at start
    extras: dict[str, Any] = field(default_factory=dict)

    def key(self, *parts: object) -> str:
        """A Redis key under this deployment's prefix."""
        return self.settings.redis_prefix + ":".join(str(p) for p in parts)


def get_state() -> AppState:
    state: AppState = current_app.extensions["musicrec"]
    return state

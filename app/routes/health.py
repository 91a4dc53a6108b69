"""`/api/health`: each part checked with a short timeout; 503 naming what is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.state import get_state

bp = Blueprint("health", __name__, url_prefix="/api")


async def _check(probe: Awaitable[bool], limit_s: float = 2.0) -> str:
    try:
        async with asyncio.timeout(limit_s):
            return "ok" if await probe else "down"
    except Exception:  # any failure of a probe means that part is down, whatever the cause
        return "down"


async def _redis_ok() -> bool:
    return bool(await get_state().redis.ping())


async def _qdrant_ok() -> bool:
    index = get_state().index
    return index is not None and await index.health()


@bp.get("/health")
async def health() -> ResponseReturnValue:
    state = get_state()
    pg, rd, qd = await asyncio.gather(_check(state.db.ping()), _check(_redis_ok()), _check(_qdrant_ok()))
    body = {"postgres": pg, "redis": rd, "qdrant": qd}
    down = [name for name, value in body.items() if value != "ok"]
    if down:
        return {**body, "error": {"code": "service_unavailable",
                                  "message": f"down: {', '.join(down)}"}}, 503
    return body, 200

"""Health and readiness.

- `/api/health`: each part checked with a short timeout; 503 naming what is down. It also
  carries the catalog's status, which never makes it fail: a loading catalog is not a fault.
- `/api/catalog/status`: whether the catalog is loading (with progress), ready, empty or
  unavailable, and how many of its tracks can play here (app.catalog_status).
- `/api/ready`: 200 once the parts are up and the catalog is not loading, else 503: what a
  load balancer or a script waits for before it expects recommendations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.catalog_status import catalog_status
from app.errors import ApiError
from app.state import AppState, get_state

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


async def _catalog(state: AppState) -> dict[str, Any] | None:
    try:
        async with asyncio.timeout(2.0):
            return await catalog_status(state)
    except Exception:  # PostgreSQL is down: the postgres check already says so
        return None


async def _parts(state: AppState) -> tuple[dict[str, str], dict[str, Any] | None]:
    pg, rd, qd, catalog = await asyncio.gather(
        _check(state.db.ping()), _check(_redis_ok()), _check(_qdrant_ok()), _catalog(state)
    )
    return {"postgres": pg, "redis": rd, "qdrant": qd}, catalog


@bp.get("/health")
async def health() -> ResponseReturnValue:
    parts, catalog = await _parts(get_state())
    body: dict[str, Any] = {**parts, "catalog": catalog}
    down = [name for name, value in parts.items() if value != "ok"]
    if down:
        return {**body, "error": {"code": "service_unavailable",
                                  "message": f"down: {', '.join(down)}"}}, 503
    return body, 200


@bp.get("/catalog/status")
async def status() -> ResponseReturnValue:
    catalog = await _catalog(get_state())
    if catalog is None:
        raise ApiError(503, "service_unavailable", "the catalog cannot be read right now")
    return catalog, 200


@bp.get("/ready")
async def ready() -> ResponseReturnValue:
    parts, catalog = await _parts(get_state())
    down = [name for name, value in parts.items() if value != "ok"]
    body: dict[str, Any] = {**parts, "catalog": catalog}
    if down:
        return {**body, "ready": False, "error": {"code": "service_unavailable",
                                                  "message": f"down: {', '.join(down)}"}}, 503
    if catalog is None or catalog["state"] == "loading":
        message = "the catalog is still loading"
        if catalog is not None:
            message += f" ({catalog['loaded']} of {catalog['total']} tracks)"
        return {**body, "ready": False, "error": {"code": "catalog_loading", "message": message}}, 503
    return {**body, "ready": True}, 200

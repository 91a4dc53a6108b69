"""Quick Mix answers cached in Redis under (user, mood, seeds, filters, catalog, profile) with a TTL.

The user's profile version is bumped by feedback that changes their taste, so a like or a
skip makes the next Quick Mix fresh instead of stale.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.state import AppState


def profile_key(state: AppState, user_id: int) -> str:
    return state.key("profile-version", user_id)


async def bump_profile(state: AppState, user_id: int) -> None:
    await state.redis.incr(profile_key(state, user_id))


async def cache_key(state: AppState, user_id: int, request: dict[str, Any], catalog_version: str) -> str:
    profile = await state.redis.get(profile_key(state, user_id))
    material = json.dumps(
        {"req": request, "catalog": catalog_version, "profile": int(profile or 0)}, sort_keys=True
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:32]
    return state.key("quickmix", user_id, digest)


async def get(state: AppState, key: str) -> dict[str, Any] | None:
    raw = await state.redis.get(key)
    return json.loads(raw) if raw is not None else None


async def put(state: AppState, key: str, body: dict[str, Any]) -> None:
    await state.redis.set(key, json.dumps(body), ex=state.settings.quickmix_ttl_s)

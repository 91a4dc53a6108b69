"""Quick Mix answers cached in Redis per (user, request), valid for one catalog version and one
profile version, with a TTL.

The user's profile version is bumped by feedback that changes their taste, so a like or a
skip makes the next Quick Mix fresh instead of stale; an import bumps the catalog version.
A hit costs one Redis round trip (the entry and the profile version together) alongside one
PostgreSQL read, and the stored JSON is sent as it is, without being parsed again.
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


def cache_key(state: AppState, user_id: int, request: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:32]
    return state.key("quickmix", user_id, digest)


async def fetch(state: AppState, user_id: int, key: str) -> tuple[str, bytes | None]:
    """The user's profile version and the raw cache entry, in one round trip."""
    profile, raw = await state.redis.mget([profile_key(state, user_id), key])
    if isinstance(raw, str):  # a client made with decode_responses
        raw = raw.encode()
    return (profile.decode() if isinstance(profile, bytes) else str(profile or 0)), raw


def version(catalog_version: str, profile_version: str) -> bytes:
    return f"{catalog_version}:{profile_version}".encode()


def body_if_current(raw: bytes | None, current: bytes) -> bytes | None:
    """The cached JSON with `"cached": true` added, when the entry is for these versions."""
    if raw is None:
        return None
    stored, _, body = raw.partition(b"\n")
    if stored != current or not body.endswith(b"}"):
        return None
    return body[:-1] + b', "cached": true}'


async def put(state: AppState, key: str, current: bytes, body: dict[str, Any]) -> None:
    entry = current + b"\n" + json.dumps(body).encode()
    await state.redis.set(key, entry, ex=state.settings.quickmix_ttl_s)

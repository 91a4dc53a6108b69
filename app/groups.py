"""Listening together: the rules of a group (who may do what), durable in PostgreSQL first.

A group is one shared queue that several logged-in people hear and steer. Its membership,
host, settings and mood live in PostgreSQL (app/store/groups.py); what is live (who is present,
the shared playback position, skip votes, the queue) lives in the realtime layer and reaches
this module only through ``state.fanout`` (app/fanout.py), so HTTP, the CLI and tests without
WebSockets use the same rules.

Rules kept here, in one place:
- any logged-in user may start a group (becoming its host) or join a live one by its code;
  joining one group leaves any other; a group holds at most ``group_member_limit`` members;
- wrong codes are counted per user and per address and refused after too many (guessing);
- the host may end the group, remove a member, hand over host and change the settings; mood,
  playback and queue order are the host's, and every member's when ``guest_controls`` is on;
- when the host leaves, the live member present longest becomes host (else the longest
  standing member); the last member leaving ends the group.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.auth.ratelimit import LoginLimiter
from app.errors import ApiError
from app.fanout import GroupLive
from app.state import AppState
from app.store import groups, users
from app.store.groups import GroupRow, Member
from app.store.moods import StoredMood
from app.views import mood_json
from recsys.moods import MoodSpec

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
CODE_LENGTH = 6
JOIN_FAILURES = 10  # wrong codes per user (x4 per address) before joins are refused a while
JOIN_WINDOW_S = 300
NAME_MAX = 60


def group_mood(group: GroupRow) -> StoredMood | None:
    return StoredMood.from_record(group.mood) if group.mood else None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a person types: any case, spaces or dashes, O for 0 and I for 1."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    return cleaned.replace("0", "O").replace("1", "I")


def group_json(group: GroupRow, members: list[Member], live: GroupLive) -> dict[str, Any]:
    """The contract's Group object (the one renderer; HTTP and `group` frames alike)."""
    host_name = next((m.username for m in members if m.user_id == group.host_id), None)
    return {
        "id": group.id,
        "code": group.code,
        "link": f"/join/{group.code}",
        "name": group.name,
        "host": {"id": group.host_id, "username": host_name},
        "members": [
            {
                "user": {"id": m.user_id, "username": m.username},
                "role": "host" if m.user_id == group.host_id else "guest",
                "present": m.user_id in live.present,
                "joined_at": m.joined_at.isoformat(),
            }
            for m in members
        ],
        "guest_controls": group.guest_controls,
        "mood": mood_json(group_mood(group)),
        "limit": group.member_limit,
        "created_at": group.created_at.isoformat(),
        "ended": not group.live,
        "skip_votes": live.skip_votes,
        "playback": live.playback,
    }


async def view(state: AppState, group: GroupRow) -> dict[str, Any]:
    members = await groups.members(state.db, group.id) if group.live else []
    live = await state.fanout.group_live(group.id) if group.live else GroupLive()
    return group_json(group, members, live)


async def view_by_id(state: AppState, group_id: int) -> dict[str, Any] | None:
    group = await groups.by_id(state.db, group_id)
    return None if group is None else await view(state, group)


def may_steer(group: GroupRow, user_id: int) -> bool:
    """Mood, playback and queue order: the host's, or everyone's with guest controls."""
    return group.guest_controls or group.host_id == user_id


async def member_group(state: AppState, group_id: int, user_id: int) -> GroupRow:
    """The live group, if the user is one of its members: 404 unknown, 403 not a member."""
    group, is_member = await groups.with_membership(state.db, group_id, user_id)
    if group is None or not group.live:
        raise ApiError(404, "unknown_group", "no such group, or it has ended")
    if not is_member:
        raise ApiError(403, "not_in_group", "you are not a member of this group")
    return group


async def _hosted_group(state: AppState, group_id: int, user_id: int) -> GroupRow:
    group = await member_group(state, group_id, user_id)
    if group.host_id != user_id:
        raise ApiError(403, "forbidden", "only the host can do this")
    return group


async def _left_previous(state: AppState, previous: int | None, user_id: int) -> None:
    if previous is not None:
        await _after_leave(state, previous, user_id, "left")


async def create(
    state: AppState, user_id: int, name: str | None, mood: MoodSpec | None, guest_controls: bool
) -> GroupRow:
    user = await users.by_id(state.db, user_id)
    title = (name or "").strip()[:NAME_MAX] or f"{user.username if user else 'A'}'s group"
    record = StoredMood(mood, datetime.now(UTC)).to_record() if mood is not None else None
    for _ in range(8):  # a clash among live codes is rare; another draw settles it
        try:
            group, previous = await groups.create(state.db, user_id, new_code(), title, guest_controls,
                                                  record, state.settings.group_member_limit)
        except asyncpg.UniqueViolationError as exc:
            if "code" not in (exc.constraint_name or ""):
                raise
            continue
        await _left_previous(state, previous, user_id)
        await state.fanout.group_changed(group.id)
        return group
    raise ApiError(503, "service_unavailable", "no free group code, try again")


def _limiter(state: AppState) -> LoginLimiter:
    limiter = state.extras.get("group_join_limiter")
    if not isinstance(limiter, LoginLimiter):
        limiter = LoginLimiter(state.redis, f"{state.settings.redis_prefix}group-join:", JOIN_FAILURES,
                               JOIN_WINDOW_S)
        state.extras["group_join_limiter"] = limiter
    return limiter


async def join_by_code(state: AppState, user_id: int, code: str, address: str) -> GroupRow:
    limiter = _limiter(state)
    who = f"user-{user_id}"
    wait = await limiter.retry_after(who, address)
    if wait is not None:
        raise ApiError(429, "rate_limited", "too many wrong codes; try again later",
                       {"Retry-After": str(wait)})
    group = await groups.live_by_code(state.db, normalise_code(code))
    if group is None:
        await limiter.failed(who, address)
        raise ApiError(404, "unknown_group", "no live group has this code")
    outcome, previous = await groups.join(state.db, group.id, user_id)
    if outcome == "full":
        raise ApiError(409, "group_full", f"this group already has {group.member_limit} members")
    if outcome == "ended":
        raise ApiError(404, "unknown_group", "this group has ended")
    await _left_previous(state, previous, user_id)
    if outcome == "joined":
        await state.fanout.group_changed(group.id)
    return group


async def leave(state: AppState, group_id: int, user_id: int, reason: str = "left") -> None:
    group = await member_group(state, group_id, user_id)
    await groups.leave(state.db, group.id, user_id, reason)
    await _after_leave(state, group.id, user_id, reason)


async def _after_leave(state: AppState, group_id: int, user_id: int, reason: str) -> None:
    """A member is gone: hand host over if it was the host, end an empty group, tell everyone."""
    group = await groups.by_id(state.db, group_id)
    if group is None or not group.live:
        return
    await state.fanout.group_exit(group_id, [user_id], reason)
    remaining = await groups.members(state.db, group_id)
    if not remaining:
        await end(state, group_id, "idle")
        return
    if group.host_id == user_id:
        await groups.set_host(state.db, group_id, await _successor(state, group_id, remaining))
    await state.fanout.group_changed(group_id)


async def _successor(state: AppState, group_id: int, remaining: list[Member]) -> int:
    """The member present longest, else the longest-standing member."""
    live = await state.fanout.group_live(group_id)
    since = live.present_since or {}
    present = [m for m in remaining if m.user_id in live.present]
    if present:
        return min(present, key=lambda m: (since.get(m.user_id, float("inf")), m.joined_at)).user_id
    return remaining[0].user_id


async def remove_member(state: AppState, group_id: int, host_id: int, user_id: int) -> None:
    await _hosted_group(state, group_id, host_id)
    if user_id == host_id:
        raise ApiError(409, "conflict", "the host leaves with POST /api/groups/<id>/leave")
    if not await groups.leave(state.db, group_id, user_id, "removed"):
        raise ApiError(404, "not_found", "this user is not a member of the group")
    await _after_leave(state, group_id, user_id, "removed")


async def hand_over(state: AppState, group_id: int, host_id: int, user_id: int) -> GroupRow:
    await _hosted_group(state, group_id, host_id)
    if not await groups.is_member(state.db, group_id, user_id):
        raise ApiError(404, "not_found", "this user is not a member of the group")
    await groups.set_host(state.db, group_id, user_id)
    await state.fanout.group_changed(group_id)
    return await _fresh(state, group_id)


async def update(state: AppState, group_id: int, host_id: int, name: str | None,
                 guest_controls: bool | None) -> GroupRow:
    await _hosted_group(state, group_id, host_id)
    title = None if name is None else (name.strip()[:NAME_MAX] or None)
    await groups.update(state.db, group_id, title, guest_controls)
    await state.fanout.group_changed(group_id)
    return await _fresh(state, group_id)


async def change_mood(state: AppState, group_id: int, user_id: int, spec: MoodSpec) -> GroupRow:
    group = await member_group(state, group_id, user_id)
    if not may_steer(group, user_id):
        raise ApiError(403, "forbidden", "only the host changes the mood (guest controls are off)")
    mood = StoredMood(spec, datetime.now(UTC))
    await groups.set_mood(state.db, group_id, mood.to_record())
    await state.fanout.group_mood(group_id, mood)
    await state.fanout.group_changed(group_id)
    return await _fresh(state, group_id)


async def end(state: AppState, group_id: int, reason: str) -> None:
    former = await groups.end(state.db, group_id, reason)
    if former:
        await state.fanout.group_exit(group_id, former, "ended")


async def end_by_host(state: AppState, group_id: int, user_id: int) -> None:
    await _hosted_group(state, group_id, user_id)
    await end(state, group_id, "host")


async def add_to_queue(state: AppState, group_id: int, user_id: int, track_id: int) -> None:
    """A member puts a track next (attributed). Anyone may add; order is the host's to change."""
    await member_group(state, group_id, user_id)
    try:
        await groups.add_to_queue(state.db, group_id, user_id, track_id)
    except asyncpg.ForeignKeyViolationError:
        raise ApiError(404, "track_not_found", f"no track with id {track_id}") from None


async def _fresh(state: AppState, group_id: int) -> GroupRow:
    group = await groups.by_id(state.db, group_id)
    assert group is not None
    return group

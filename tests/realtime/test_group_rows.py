"""This instance's copy of a group's rows (realtime/group_rows.py), on the real PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest

from app.errors import ApiError
from app.fanout import GroupLive
from app.groups import group_json
from app.state import AppState
from app.store import groups, users
from realtime.group_rows import GroupRowCache
from tests.conftest import unique_name


async def _user(state: AppState) -> int:
    user = await users.create(state.db, unique_name(), "x" * 60)
    return user.id


async def _group(state: AppState) -> tuple[int, int]:
    host = await _user(state)
    group, _ = await groups.create(state.db, host, unique_name("code")[:12], "Rows", False, None, 32)
    return group.id, host


@pytest.fixture
def state(app: Any) -> AppState:
    found: AppState = app.app.extensions["musicrec"]
    return found


async def test_a_members_frames_read_the_group_once(state: AppState) -> None:
    gid, host = await _group(state)
    rows = GroupRowCache(state.db)
    for _ in range(5):
        kept = await rows.member_group(gid, host)
        assert kept.group.host_id == host and [m.user_id for m in kept.members] == [host]
    assert rows.reads == 1


async def test_a_change_is_seen_once_the_group_is_forgotten(state: AppState) -> None:
    gid, host = await _group(state)
    guest = await _user(state)
    rows = GroupRowCache(state.db)
    await rows.get(gid)
    assert (await groups.join(state.db, gid, guest))[0] == "joined"
    await groups.set_host(state.db, gid, guest)
    assert (await rows.get(gid)).group.host_id == host  # type: ignore[union-attr]  # kept until told
    rows.forget(gid)
    assert (await rows.get(gid)).group.host_id == guest  # type: ignore[union-attr]


async def test_a_member_who_just_joined_is_looked_up_again_not_refused(state: AppState) -> None:
    gid, _ = await _group(state)
    guest, stranger = await _user(state), await _user(state)
    rows = GroupRowCache(state.db)
    await rows.get(gid)
    await groups.join(state.db, gid, guest)
    assert (await rows.member_group(gid, guest)).member(guest) is not None
    with pytest.raises(ApiError) as refused:
        await rows.member_group(gid, stranger)
    assert refused.value.code == "not_in_group"
    await groups.end(state.db, gid, "host")
    rows.forget(gid)
    with pytest.raises(ApiError) as ended:
        await rows.member_group(gid, guest)
    assert ended.value.code == "unknown_group"


async def test_a_read_that_began_before_a_change_is_not_kept(state: AppState) -> None:
    gid, _ = await _group(state)
    guest = await _user(state)
    await groups.join(state.db, gid, guest)
    rows = GroupRowCache(state.db)
    early = asyncio.ensure_future(rows.get(gid))
    await asyncio.sleep(0)  # the read has begun
    await groups.set_host(state.db, gid, guest)
    rows.forget(gid)  # what the group frame of that change does
    await early
    assert (await rows.get(gid)).group.host_id == guest  # type: ignore[union-attr]
    assert rows.reads == 2


async def test_rows_are_read_again_after_their_time(state: AppState) -> None:
    gid, _ = await _group(state)
    rows = GroupRowCache(state.db, ttl_s=0.0)
    await rows.get(gid)
    await rows.get(gid)
    assert rows.reads == 2
    assert await rows.get(10**12) is None


async def _frame_view(state: AppState, gid: int, present: set[int], votes: dict[str, Any] | None) -> Any:
    """The Group of a group frame, as an instance hears it: rendered, packed and unpacked."""
    group = await groups.by_id(state.db, gid)
    assert group is not None
    live = GroupLive(frozenset(present), {}, None, votes)
    return msgpack.unpackb(msgpack.packb(group_json(group, await groups.members(state.db, gid), live)),
                           raw=False)


async def test_a_frame_of_votes_or_presence_keeps_the_rows_a_change_drops_them(state: AppState) -> None:
    gid, host = await _group(state)
    guest = await _user(state)
    await groups.join(state.db, gid, guest)
    rows = GroupRowCache(state.db)
    await rows.get(gid)
    rows.heard(gid, await _frame_view(state, gid, {host, guest}, None))  # both came present
    rows.heard(gid, await _frame_view(state, gid, {host}, {"track_id": 7, "votes": 1, "needed": 1}))
    await rows.member_group(gid, guest)
    assert rows.reads == 1
    await groups.set_host(state.db, gid, guest)
    rows.heard(gid, await _frame_view(state, gid, {host, guest}, None))
    assert (await rows.get(gid)).group.host_id == guest  # type: ignore[union-attr]
    assert rows.reads == 2


async def test_a_frame_that_is_not_a_group_view_drops_the_rows(state: AppState) -> None:
    gid, _ = await _group(state)
    rows = GroupRowCache(state.db)
    await rows.get(gid)
    rows.heard(gid, None)
    await rows.get(gid)
    assert rows.reads == 2


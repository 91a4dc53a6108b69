"""`/api/groups`: listening together (the contract's "Listening together" section, plus the
host's controls documented in docs/api.md). The rules live in app/groups.py."""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue
from quart_schema import validate_request

from app import groups as group_rules
from app.auth.user import require_user_id
from app.moods_input import checked_mood_spec
from app.routes.auth import client_address
from app.schemas import GroupCreateBody, GroupHostBody, GroupJoinBody, GroupPatchBody, MoodBody
from app.state import get_state
from app.store import groups

bp = Blueprint("groups", __name__, url_prefix="/api")


@bp.post("/groups")
@validate_request(GroupCreateBody)
async def create(data: GroupCreateBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    spec = None
    pad = data.energy is not None and data.valence is not None
    if data.mood is not None or data.text is not None or pad:
        spec = await checked_mood_spec(state.db, data.mood, data.text, data.energy, data.valence)
    group = await group_rules.create(state, user_id, data.name, spec, data.guest_controls)
    return {"group": await group_rules.view(state, group)}, 201


@bp.post("/groups/join")
@validate_request(GroupJoinBody)
async def join(data: GroupJoinBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    group = await group_rules.join_by_code(state, user_id, data.code, client_address())
    return {"group": await group_rules.view(state, group)}


@bp.get("/me/group")
async def my_group() -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    group_id = await groups.live_group_of(state.db, user_id)
    return {"group": None if group_id is None else await group_rules.view_by_id(state, group_id)}


@bp.get("/groups/<int(max=9223372036854775807):group_id>")
async def read(group_id: int) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    group = await group_rules.member_group(state, group_id, user_id)
    return {"group": await group_rules.view(state, group)}


@bp.patch("/groups/<int(max=9223372036854775807):group_id>")
@validate_request(GroupPatchBody)
async def update(group_id: int, data: GroupPatchBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    group = await group_rules.update(state, group_id, user_id, data.name, data.guest_controls)
    return {"group": await group_rules.view(state, group)}


@bp.put("/groups/<int(max=9223372036854775807):group_id>/mood")
@validate_request(MoodBody)
async def put_mood(group_id: int, data: MoodBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    await group_rules.member_group(state, group_id, user_id)  # 403/404 before the mood is checked
    spec = await checked_mood_spec(state.db, data.mood, data.text, data.energy, data.valence)
    group = await group_rules.change_mood(state, group_id, user_id, spec)
    return {"group": await group_rules.view(state, group)}


@bp.put("/groups/<int(max=9223372036854775807):group_id>/host")
@validate_request(GroupHostBody)
async def hand_over(group_id: int, data: GroupHostBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    group = await group_rules.hand_over(state, group_id, user_id, data.user_id)
    return {"group": await group_rules.view(state, group)}


@bp.delete("/groups/<int(max=9223372036854775807):group_id>/members/<int(max=9223372036854775807):member_id>")
async def remove_member(group_id: int, member_id: int) -> ResponseReturnValue:
    user_id = await require_user_id()
    await group_rules.remove_member(get_state(), group_id, user_id, member_id)
    return "", 204


@bp.post("/groups/<int(max=9223372036854775807):group_id>/leave")
async def leave(group_id: int) -> ResponseReturnValue:
    user_id = await require_user_id()
    await group_rules.leave(get_state(), group_id, user_id)
    return "", 204


@bp.delete("/groups/<int(max=9223372036854775807):group_id>")
async def end(group_id: int) -> ResponseReturnValue:
    user_id = await require_user_id()
    await group_rules.end_by_host(get_state(), group_id, user_id)
    return "", 204

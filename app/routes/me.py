"""`/api/me`: who is logged in and their current mood."""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.auth.user import require_user_id
from app.errors import ApiError
from app.state import get_state
from app.store import moods, users
from app.views import mood_json

bp = Blueprint("me", __name__, url_prefix="/api")


@bp.get("/me")
async def me() -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    user = await users.by_id(state.db, user_id)
    if user is None:  # the account was deleted while the session lived
        raise ApiError(401, "not_authenticated", "this account no longer exists")
    mood = await moods.get_mood(state.db, user_id)
    return {"user": {"id": user.id, "username": user.username}, "mood": mood_json(mood)}

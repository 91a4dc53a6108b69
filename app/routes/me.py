"""`/api/me`: who is logged in, their current mood, and their settings."""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue
from quart_schema import validate_request

from app.auth.user import require_user_id
from app.errors import ApiError
from app.listening import change_settings
from app.schemas import SettingsBody
from app.state import get_state
from app.store import moods, users
from app.store.settings import UserSettings, get_settings
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


def _settings_json(settings: UserSettings) -> dict[str, object]:
    return {"settings": {"include_unplayable": settings.include_unplayable}}


@bp.get("/me/settings")
async def read_settings() -> ResponseReturnValue:
    user_id = await require_user_id()
    return _settings_json(await get_settings(get_state().db, user_id))


@bp.put("/me/settings")
@validate_request(SettingsBody)
async def write_settings(data: SettingsBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    settings = UserSettings(include_unplayable=data.include_unplayable)
    return _settings_json(await change_settings(get_state(), user_id, settings))

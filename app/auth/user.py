"""quart-auth's user, backed by the Redis session store."""

from __future__ import annotations

from quart import current_app
from quart_auth import AuthUser, current_user

from app.errors import ApiError


class SessionUser(AuthUser):
    """auth_id is the opaque session id; the user id comes from Redis, once per request."""

    def __init__(self, auth_id: str | None, action: object = None) -> None:
        if action is None:
            super().__init__(auth_id)
        else:
            super().__init__(auth_id, action)  # type: ignore[arg-type]
        self._resolved = False
        self._user_id: int | None = None

    async def user_id(self) -> int | None:
        if not self._resolved:
            self._resolved = True
            if self.auth_id is not None:
                sessions = current_app.extensions["musicrec"].sessions
                self._user_id = await sessions.user_id(self.auth_id)
        return self._user_id

    @property
    async def is_authenticated(self) -> bool:
        # quart-auth declares this an async property: `await user.is_authenticated`.
        return await self.user_id() is not None


async def require_user_id() -> int:
    """The logged-in user's id, or the contract's 401."""
    user: SessionUser = current_user  # type: ignore[assignment]
    user_id = await user.user_id()
    if user_id is None:
        raise ApiError(401, "not_authenticated", "log in first")
    return user_id

"""Origin checks: CSRF on cookie-authenticated writes and cross-site WebSocket hijacking."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Quart, request

from app.errors import ApiError
from app.state import get_state
from config import Settings

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def origin_allowed(origin: str | None, host: str | None, settings: Settings) -> bool:
    """Same host as the request, the configured public URL, or an explicitly allowed origin."""
    if not origin or origin == "null":
        return False
    origin = origin.rstrip("/")
    if origin in settings.allowed_origins:
        return True
    if settings.public_url and origin == settings.public_url.rstrip("/"):
        return True
    parts = urlsplit(origin)
    return bool(host) and parts.netloc.lower() == (host or "").lower()


def install(app: Quart) -> None:
    @app.before_request
    async def _csrf() -> None:
        if request.method not in _UNSAFE:
            return
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        # Scripts and CLI clients send no Origin and are not exposed to CSRF; browsers always send
        # one on cross-site writes, so a present-but-foreign Origin is refused.
        if origin is None and fetch_site not in ("cross-site", "same-site"):
            return
        if not origin_allowed(origin, request.headers.get("Host"), get_state().settings):
            raise ApiError(403, "bad_origin", "this request's Origin is not allowed")

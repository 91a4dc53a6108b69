"""Origin checks (CSRF on cookie-authenticated writes, cross-site WebSocket hijacking) and the
browser security headers on every response.

The headers are the ones production's nginx adds (nginx/templates/default.conf.template), so that
the player `musicrec serve` hands out itself (`make run`) is as locked down as the one behind the
edge. They differ in one place only: ``connect-src`` also allows the same-origin ``ws://`` URL,
because the embedded default serves plain http. Behind nginx the edge drops the backend's copies
(``proxy_hide_header``) and sends its own, so a browser never sees two policies;
tests/embedded/test_security_headers.py checks that both carry the same directives.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from quart import Quart, Response, request

from app.errors import ApiError
from app.state import get_state
from config import Settings

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# The player's policy: bundled scripts only (no inline script); blob: for Tone.js (its clock
# Worker and AudioWorklet modules are blob URLs); React's inline style attributes; media from
# /api and blob: URLs; the WebSocket to this same host only (added per request: see csp()).
CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' blob:"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self' data:"),
    ("media-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("worker-src", "'self' blob:"),
    ("manifest-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)

# Every response, errors included (HSTS is nginx's alone: this server speaks plain http).
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                          "microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# A Host header that is only a host name or address and a port: anything else (a ';', spaces)
# would let a request write directives into its own response's policy.
_PLAIN_HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def csp(host: str | None) -> str:
    """The Content-Security-Policy for a response to a request with this Host header."""
    sockets = f" ws://{host} wss://{host}" if host and _PLAIN_HOST.match(host) else ""
    return "; ".join(
        f"{name} {value}{sockets if name == 'connect-src' else ''}" for name, value in CSP_DIRECTIVES
    )


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
    @app.after_request
    async def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", csp(request.headers.get("Host")))
        return response

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

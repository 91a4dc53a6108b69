"""Serves the built player (frontend/dist) with an SPA fallback, in the embedded default.

It is a 404 handler rather than a catch-all route, so that a wrong method on an API path is
still a 405. In production NGINX serves the same build itself and this sees no traffic.
"""

from __future__ import annotations

from pathlib import Path

from quart import Quart, Response, jsonify, request, send_file
from quart.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from app.errors import error_body
from app.state import get_state

_NOT_BUILT = (
    "<!doctype html><title>musicrec</title><p>The player is not built yet: run <code>make run</code> "
    "(it builds frontend/) or use the API under <code>/api</code>.</p>"
)


async def _serve(path: str) -> ResponseReturnValue:
    root: Path = get_state().settings.static_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        return Response(_NOT_BUILT, status=200, content_type="text/html; charset=utf-8")
    candidate = (root / path).resolve()
    if path and candidate.is_file() and candidate.is_relative_to(root):
        response: Response = await send_file(candidate, conditional=True)
        if path.startswith("assets/"):  # Vite's hashed file names never change content
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
    response = await send_file(index)
    response.headers["Cache-Control"] = "no-cache"
    return response


def install(app: Quart) -> None:
    @app.errorhandler(NotFound)
    async def _fallback(_exc: NotFound) -> ResponseReturnValue:
        path = request.path.lstrip("/")
        if request.method in ("GET", "HEAD") and not path.startswith(("api/", "ws")) and path != "api":
            return await _serve(path)
        return jsonify(error_body("not_found", "no such resource")), 404

"""One structured log line per request; a request id on every response."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from quart import Quart, Response, g, request

log = logging.getLogger("musicrec.http")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def install(app: Quart) -> None:
    @app.before_request
    async def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    async def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        started = getattr(g, "started", None)
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        # The path only: query strings can carry search words, never bodies or cookies.
        log.info(
            json.dumps(
                {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "latency_ms": latency_ms,
                    "request_id": request_id,
                }
            )
        )
        return response

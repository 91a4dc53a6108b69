"""The sound of a library track: a proxy of the library server's `stream` call.

Invariants: the browser talks to musicrec only (the library's URL and credentials never reach
it); Range is forwarded and the upstream status (200/206), length and range come back as
they are; the body is streamed chunk by chunk (never held whole); a library that cannot be
reached answers 503 ``library_offline`` and is marked offline at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from quart import Response, request

from app import library
from app.errors import ApiError
from app.library_status import record_status
from app.state import AppState
from recsys.catalog import CatalogTrack, parse_library_ref
from recsys.importers.subsonic import LibraryError

_PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
                   "Last-Modified")


def is_library_track(track: CatalogTrack) -> bool:
    return parse_library_ref(track.media_ref) is not None


async def proxy_media(state: AppState, track: CatalogTrack) -> Response:
    ref = parse_library_ref(track.media_ref)
    assert ref is not None
    try:
        upstream = await library.open_stream(state, track, request.headers.get("Range"))
    except LibraryError as exc:
        if exc.kind == "offline":
            await record_status(state, ref[0], False, exc.message)
            raise ApiError(503, "library_offline", "the library server of this track is unreachable",
                           {"Retry-After": "30"}) from None
        if exc.kind == "not_found":
            raise ApiError(404, "media_missing", "the library no longer has this track") from None
        raise ApiError(502, "library_error", exc.message) from None

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()

    headers = {name: upstream.headers[name] for name in _PASSED_HEADERS if name in upstream.headers}
    headers.setdefault("Accept-Ranges", "bytes")
    response = Response(body(), status=upstream.status_code, headers=headers)
    response.timeout = None  # a long track streams for longer than Quart's default 60 s
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response

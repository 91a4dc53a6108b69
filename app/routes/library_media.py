"""The sound and the cover art of a library track: proxies of the library server's `stream`
and `getCoverArt` calls.

Invariants: the browser talks to musicrec only (the library's URL and credentials never reach
it); Range is forwarded and the upstream status (200/206), length and range come back as
they are; the body is streamed chunk by chunk (never held whole); a library that cannot be
reached answers 503 ``library_offline`` and is marked offline at once.
Cover art is different: small, so read whole under a byte limit (``MAX_COVER_BYTES``), and
passed on only when it is a raster image type (``COVER_TYPES``: never HTML or SVG, which a
browser would run), with an ETag and a day of private caching.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from quart import Response, request

from app import library
from app.errors import ApiError
from app.library_status import record_status
from app.state import AppState
from app.store import libraries
from recsys.catalog import CatalogTrack, parse_library_ref
from recsys.importers.subsonic import LibraryError

_PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "ETag",
                   "Last-Modified")


def is_library_track(track: CatalogTrack) -> bool:
    return parse_library_ref(track.media_ref) is not None


async def _refusal(state: AppState, library_id: int, exc: LibraryError, missing_code: str,
                   missing_message: str) -> ApiError:
    """The answer to a failed library call: an unreachable server is marked offline at once."""
    if exc.kind == "offline":
        await record_status(state, library_id, False, exc.message)
        return ApiError(503, "library_offline", "the library server of this track is unreachable",
                        {"Retry-After": "30"})
    if exc.kind == "not_found":
        return ApiError(404, missing_code, missing_message)
    return ApiError(502, "library_error", exc.message)


async def proxy_media(state: AppState, track: CatalogTrack) -> Response:
    ref = parse_library_ref(track.media_ref)
    assert ref is not None
    try:
        upstream = await library.open_stream(state, track, request.headers.get("Range"))
    except LibraryError as exc:
        raise await _refusal(state, ref[0], exc, "media_missing",
                             "the library no longer has this track") from None

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


async def proxy_cover(state: AppState, track: CatalogTrack, size: int | None) -> Response:
    ref = parse_library_ref(track.media_ref)
    assert ref is not None
    cover_id = await libraries.cover_of(state.db, ref[0], ref[1])
    if cover_id is None:
        raise ApiError(404, "no_cover", "the library has no cover art for this track")
    try:
        client = await library.client_for(state, ref[0])
        data, content_type = await client.cover_art(cover_id, size)
    except LibraryError as exc:
        raise await _refusal(state, ref[0], exc, "no_cover",
                             "the library has no cover art for this track") from None
    response = Response(data, status=200, content_type=content_type)
    response.set_etag(hashlib.sha1(data, usedforsecurity=False).hexdigest())
    response.headers["Cache-Control"] = "private, max-age=86400"
    await response.make_conditional(request)
    return response

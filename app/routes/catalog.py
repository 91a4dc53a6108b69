"""Tracks: one track, similar tracks, search, and the playable media (with HTTP Range)."""

from __future__ import annotations

import asyncio
import zlib
from io import BytesIO
from pathlib import Path

from quart import Blueprint, Response, request, send_file
from quart.typing import ResponseReturnValue
from quart_schema import validate_querystring

from app.errors import ApiError
from app.hydrate import hydrate
from app.moods_input import words_mean_something
from app.routes.library_media import is_library_track, proxy_cover, proxy_media
from app.schemas import CoverQuery, LimitQuery, SearchQuery, TrackPageQuery
from app.state import AppState, get_state
from app.store import tracks
from app.views import track_json
from recsys.engine import Engine, Scored, UnknownTrack
from recsys.index.base import TrackFilter

bp = Blueprint("catalog", __name__, url_prefix="/api/tracks")

_AUDIO_TYPES = {".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
                ".m4a": "audio/mp4", ".mp4": "audio/mp4", ".wav": "audio/wav"}


def engine_or_503(state: AppState) -> Engine:
    if state.engine is None:
        raise ApiError(503, "index_unavailable", "the recommendation index is unavailable",
                       {"Retry-After": "5"})
    return state.engine


@bp.get("")
@validate_querystring(TrackPageQuery)
async def list_tracks(query_args: TrackPageQuery) -> ResponseReturnValue:
    """The catalog in id order, a page at a time (``next_after`` is null on the last page)."""
    q = query_args
    found = await tracks.page(get_state().db, q.after, q.limit, q.playable)
    return {"tracks": [track_json(t) for t in found],
            "next_after": found[-1].id if len(found) == q.limit else None}


@bp.get("/<int:track_id>")
async def get_track(track_id: int) -> ResponseReturnValue:
    track = await tracks.get(get_state().db, track_id)
    if track is None:
        raise ApiError(404, "track_not_found", f"no track with id {track_id}")
    return track_json(track)


@bp.get("/<int:track_id>/similar")
@validate_querystring(LimitQuery)
async def similar(track_id: int, query_args: LimitQuery) -> ResponseReturnValue:
    state = get_state()
    if await tracks.get(state.db, track_id) is None:
        raise ApiError(404, "track_not_found", f"no track with id {track_id}")
    try:
        found = await engine_or_503(state).similar(track_id, query_args.limit, TrackFilter())
    except UnknownTrack:  # in the catalog but not (yet) in the index: an import with --no-index
        return {"tracks": [], "message": "this track is not indexed yet, so nothing is known to be like it"}
    return {"tracks": await hydrate(state.db, found)}


@bp.get("/search")
@validate_querystring(SearchQuery)
async def search(query_args: SearchQuery) -> ResponseReturnValue:
    """Exact title/artist matches first, then what the words mean (the text vector); words
    that mean nothing and name nothing get no results and a message, not random tracks."""
    state = get_state()
    by_name = await tracks.search_title_artist(state.db, query_args.q, query_args.limit)
    results = [track_json(t, reason="title or artist match") for t in by_name]
    seen = {t.id for t in by_name}
    if not results and not await words_mean_something(state.db, query_args.q):
        return {"tracks": [], "message": f"Nothing matches \u201c{query_args.q[:60]}\u201d"}
    if len(results) < query_args.limit and state.engine is not None:
        semantic: list[Scored] = await state.engine.search_text(
            query_args.q, query_args.limit, TrackFilter(exclude_ids=seen))
        results += (await hydrate(state.db, semantic))[: query_args.limit - len(results)]
    message = None if results else f"Nothing matches \u201c{query_args.q[:60]}\u201d"
    return {"tracks": results, "message": message}


@bp.get("/<int:track_id>/cover")
@validate_querystring(CoverQuery)
async def cover(track_id: int, query_args: CoverQuery) -> ResponseReturnValue:
    """The cover art of a library track, proxied from its library server (Track ``cover``)."""
    state = get_state()
    track = await tracks.get(state.db, track_id)
    if track is None:
        raise ApiError(404, "track_not_found", f"no track with id {track_id}")
    if not is_library_track(track):
        raise ApiError(404, "no_cover", "this track has no cover art")
    return await proxy_cover(state, track, query_args.size)


@bp.get("/<int:track_id>/media")
async def media(track_id: int) -> ResponseReturnValue:
    state = get_state()
    track = await tracks.get(state.db, track_id)
    if track is None:
        raise ApiError(404, "track_not_found", f"no track with id {track_id}")
    if track.media_kind == "none" or not track.media_ref:
        raise ApiError(404, "no_media", "this track has no playable media")
    if is_library_track(track):  # the sound is on a listener's library server: proxied
        return await proxy_media(state, track)
    if track.media_kind == "midi":
        data = await _midi_bytes(track.media_ref)
        response: Response = await send_file(BytesIO(data), mimetype="audio/midi")
        # The bytes are the archive's, so their checksum is a stable validator for 304s.
        response.set_etag(f"midi-{zlib.crc32(data):08x}-{len(data)}")
        await response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    else:
        path = Path(track.media_ref)
        mimetype = _AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream")
        if not await asyncio.to_thread(path.is_file):
            raise ApiError(404, "media_missing", "the media file of this track is gone")
        # conditional=True answers Range requests with 206 and If-None-Match with 304.
        response = await send_file(path, mimetype=mimetype, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


async def _midi_bytes(media_ref: str) -> bytes:
    """A demo piece's MIDI from the shipped archive (opened once, read in a worker thread).

    Nothing is converted here: a piece the archive lacks is missing, however long ago its
    score was in the corpus (the rebuild step renders; see recsys.importers.demo_media).
    """
    from recsys.importers.demo_media import shipped_archive

    data = await asyncio.to_thread(lambda: shipped_archive().read(media_ref))
    if data is None:
        raise ApiError(404, "media_missing", "this piece has no rendered MIDI")
    return data

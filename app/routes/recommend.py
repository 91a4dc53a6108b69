"""Moods, recommendations and Quick Mix."""

from __future__ import annotations

import asyncio
import secrets

from quart import Blueprint, Response
from quart.typing import ResponseReturnValue
from quart_schema import validate_querystring, validate_request

from app import quickmix_cache
from app.auth.user import require_user_id
from app.errors import ApiError
from app.hydrate import hydrate
from app.listening import listening_filter
from app.moods_input import checked_mood_spec, stored_spec
from app.routes.catalog import engine_or_503
from app.schemas import QuickMixBody, RecommendationQuery
from app.state import get_state
from app.store import events, mixes, moods, tracks
from app.views import track_json
from recsys.index.base import TrackFilter
from recsys.moods import PRESETS, MoodSpec

bp = Blueprint("recommend", __name__, url_prefix="/api")

RECENT_WINDOW_S = 2 * 3600  # a Quick Mix never repeats what was heard in the last two hours
PROFILE_SEEDS = 5  # recent likes that steer a Quick Mix beside explicit seeds


def _filter(genre: str | None, explicit: bool | None, year_min: int | None,
            year_max: int | None) -> TrackFilter:
    return TrackFilter(genres=[genre] if genre else None, explicit=explicit,
                       year_min=year_min, year_max=year_max)


@bp.get("/moods")
async def list_moods() -> ResponseReturnValue:
    return {"moods": [{"id": p.id, "label": p.label, "description": p.description,
                       "energy": p.energy, "valence": p.valence} for p in PRESETS]}


@bp.get("/recommendations")
@validate_querystring(RecommendationQuery)
async def recommendations(query_args: RecommendationQuery) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    engine = engine_or_503(state)
    q = query_args
    spec: MoodSpec | None
    if q.mood is not None or q.text is not None:
        spec = await checked_mood_spec(state.db, q.mood, q.text, q.energy, q.valence)
    else:
        spec = stored_spec(await moods.get_mood(state.db, user_id))
    flt = _filter(q.genre, q.explicit, q.year_min, q.year_max)
    found, explanation = await engine.recommend(spec, flt, q.limit)
    return {"tracks": await hydrate(state.db, found), "explanation": explanation}


@bp.post("/quickmix")
@validate_request(QuickMixBody)
async def quickmix(data: QuickMixBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    engine = engine_or_503(state)
    spec: MoodSpec | None
    if data.mood is not None or data.text is not None:
        spec = await checked_mood_spec(state.db, data.mood, data.text, data.energy, data.valence)
    else:
        spec = stored_spec(await moods.get_mood(state.db, user_id))
    request_key = data.model_dump() | {"resolved_mood": spec and [spec.preset, spec.text, spec.energy,
                                                                    spec.valence]}
    key = quickmix_cache.cache_key(state, user_id, request_key)
    catalog, (profile, raw) = await asyncio.gather(
        tracks.catalog_version(state.db), quickmix_cache.fetch(state, user_id, key))
    current = quickmix_cache.version(catalog, profile)
    cached = quickmix_cache.body_if_current(raw, current)
    if cached is not None:
        return Response(cached, content_type="application/json")

    unknown = set(data.seed_track_ids) - await tracks.existing_ids(state.db, data.seed_track_ids)
    if unknown:
        raise ApiError(422, "unknown_track", f"unknown seed track ids: {sorted(unknown)}")
    recent = await events.recent_track_ids(state.db, user_id, RECENT_WINDOW_S)
    liked = [e.track_id for e in await events.history(state.db, user_id, 50, None) if e.action == "like"]
    seeds = list(dict.fromkeys([*data.seed_track_ids, *liked[:PROFILE_SEEDS]]))
    # A mix is for listening (a settings change bumps the profile version, so a cached mix
    # never outlives the setting it was made under).
    flt = await listening_filter(state, user_id, _filter(data.genre, data.explicit, data.year_min,
                                                          data.year_max))
    found = await engine.quickmix(spec, seeds, data.size, flt, recent)
    mix_id = secrets.token_urlsafe(12)
    body = {"mix_id": mix_id, "tracks": await hydrate(state.db, found)}
    await mixes.save(state.db, mix_id, user_id, request_key, data.seed_track_ids, [s.id for s in found])
    await quickmix_cache.put(state, key, current, body)
    return body | {"cached": False}


@bp.get("/quickmix/<mix_id>")
async def get_quickmix(mix_id: str) -> ResponseReturnValue:
    """A mix given earlier, in its order; someone else's mix is answered like a missing one."""
    user_id = await require_user_id()
    state = get_state()
    track_ids = await mixes.get(state.db, mix_id[:64], user_id)
    if track_ids is None:
        raise ApiError(404, "mix_not_found", "no such Quick Mix")
    found = await tracks.get_many(state.db, track_ids)
    return {"mix_id": mix_id, "tracks": [track_json(found[i]) for i in track_ids if i in found]}

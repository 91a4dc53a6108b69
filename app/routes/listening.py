"""Mood changes, feedback and history over HTTP: the same path as the WebSocket takes."""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue
from quart_schema import validate_querystring, validate_request

from app.auth.user import require_user_id
from app.listening import change_mood, record_feedback
from app.moods_input import checked_mood_spec
from app.schemas import FeedbackBody, HistoryQuery, MoodBody
from app.state import get_state
from app.store import events, tracks
from app.views import mood_json, track_json

bp = Blueprint("listening", __name__, url_prefix="/api")


@bp.put("/me/mood")
@validate_request(MoodBody)
async def put_mood(data: MoodBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    spec = await checked_mood_spec(state.db, data.mood, data.text, data.energy, data.valence)
    mood = await change_mood(state, user_id, spec)
    return {"mood": mood_json(mood)}


@bp.post("/feedback")
@validate_request(FeedbackBody)
async def feedback(data: FeedbackBody) -> ResponseReturnValue:
    user_id = await require_user_id()
    event, _created = await record_feedback(get_state(), user_id, data.track_id, data.action,
                                            data.position_ms, data.ref)
    # "changed": false for a like of a liked track (or an unlike of one not liked).
    return {"accepted": True, "event_id": event.id if event else None,
            "changed": event is not None}, 202


@bp.get("/history")
@validate_querystring(HistoryQuery)
async def history(query_args: HistoryQuery) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    page = await events.outcomes(state.db, user_id, query_args.limit, query_args.before)
    found = await tracks.get_many(state.db, [e.track_id for e in page])
    return {
        "events": [
            {"id": e.id, "track": track_json(found[e.track_id]), "action": e.action,
             "at": e.at.isoformat(), "position_ms": e.position_ms}
            for e in page if e.track_id in found
        ],
        "next_before": page[-1].id if len(page) == query_args.limit else None,
    }

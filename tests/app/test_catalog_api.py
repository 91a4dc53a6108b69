"""The engine behind the HTTP API: recommendations, search, similar, Quick Mix, feedback, history,
media. One app with a small generated catalog (real PostgreSQL, Redis, Qdrant Edge, MiniLM)."""

from __future__ import annotations

import dataclasses
import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.catalog import import_records
from app.factory import create_app
from recsys.catalog import TrackRecord
from tests.conftest import make_settings, unique_name
from tests.realtime.conftest import write_tone
from tests.recsys.conftest import make_catalog

PASSWORD = "correct horse battery"


def _records(tmp: Path) -> list[TrackRecord]:
    names = [f.name for f in dataclasses.fields(TrackRecord)]
    records = [TrackRecord(**{n: getattr(t, n) for n in names}) for t in make_catalog()]
    audio_path = write_tone(tmp / "tone.wav")
    # A third of the catalog can play here (the same tone); the rest is known only by features.
    for record in records[::3]:
        record.media_kind = "audio"
        record.media_ref = str(audio_path)
    return records


@pytest.fixture(scope="module")
async def catalog_app(tmp_path_factory: pytest.TempPathFactory, run_schema: str) -> AsyncIterator[Any]:
    tmp = tmp_path_factory.mktemp("catalog-app")
    settings = make_settings(tmp, db_schema=run_schema + "_cat")
    app = create_app(settings)
    async with app.test_app() as running:
        state = app.extensions["musicrec"]
        await state.db.execute("TRUNCATE tracks CASCADE")
        stored = await import_records(state.db, state.index, state.encoder, _records(tmp), batch_size=100)
        assert stored == 300
        yield running
    import asyncpg

    from tests.conftest import DATABASE_URL

    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{run_schema}_cat" CASCADE')
    await conn.close()


async def _logged_in(app: Any) -> Any:
    client = app.test_client()
    response = await client.post("/api/auth/register", json={"username": unique_name(), "password": PASSWORD})
    assert response.status_code == 201
    return client


async def test_health_is_all_ok_with_the_index_open(catalog_app: Any) -> None:
    response = await catalog_app.test_client().get("/api/health")
    assert response.status_code == 200
    body = await response.get_json()
    assert [body[k] for k in ("postgres", "redis", "qdrant")] == ["ok", "ok", "ok"]
    assert body["catalog"]["state"] == "ready"
    assert body["catalog"]["tracks"] == body["catalog"]["loaded"] == body["catalog"]["total"] > 0


async def test_moods_list_has_at_least_twelve_presets(catalog_app: Any) -> None:
    moods = (await (await catalog_app.test_client().get("/api/moods")).get_json())["moods"]
    assert len(moods) >= 12
    assert {"focus", "chill", "workout", "sleep"} <= {m["id"] for m in moods}


async def test_recommendations_follow_the_mood_and_explain_themselves(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    calm = await (await client.get("/api/recommendations?mood=sleep&limit=10")).get_json()
    loud = await (await client.get("/api/recommendations?mood=workout&limit=10")).get_json()
    assert len(calm["tracks"]) == 10 and calm["explanation"]
    energy = lambda body: np.mean([t["audio"]["energy"] for t in body["tracks"]])  # noqa: E731
    assert energy(calm) < 0.4 < energy(loud)
    for track in calm["tracks"]:
        assert {"id", "title", "artists", "album", "genre", "year", "duration_ms", "explicit",
                "media", "score", "reason"} <= set(track)
        assert track["reason"]


async def test_recommendation_filters_hold(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    body = await (await client.get(
        "/api/recommendations?text=dance&genre=edm&explicit=false&year_min=2000&limit=20")).get_json()
    assert body["tracks"]
    for track in body["tracks"]:
        assert "edm" in track["genre"] and not track["explicit"] and track["year"] >= 2000


async def test_recommendations_need_a_login_and_valid_query(catalog_app: Any) -> None:
    assert (await catalog_app.test_client().get("/api/recommendations")).status_code == 401
    client = await _logged_in(catalog_app)
    assert (await client.get("/api/recommendations?limit=0")).status_code == 422
    assert (await client.get("/api/recommendations?limit=abc")).status_code == 422
    bad_mood = await client.get("/api/recommendations?mood=nonexistent")
    assert bad_mood.status_code == 422
    assert (await bad_mood.get_json())["error"]["code"] == "unknown_mood"


async def test_search_finds_titles_and_meanings(catalog_app: Any) -> None:
    client = catalog_app.test_client()
    state = catalog_app.app.extensions["musicrec"]
    title = await state.db.fetchval("SELECT title FROM tracks ORDER BY id LIMIT 1")
    found = await (await client.get(f"/api/tracks/search?q={title}&limit=5")).get_json()
    assert found["tracks"][0]["title"] == title
    meaning = await (await client.get("/api/tracks/search?q=quiet+lullaby+for+sleeping&limit=5")).get_json()
    assert meaning["tracks"]


async def test_track_similar_and_404(catalog_app: Any) -> None:
    client = catalog_app.test_client()
    state = catalog_app.app.extensions["musicrec"]
    track_id = await state.db.fetchval("SELECT id FROM tracks ORDER BY id LIMIT 1")
    track = await (await client.get(f"/api/tracks/{track_id}")).get_json()
    assert track["id"] == track_id
    similar = await (await client.get(f"/api/tracks/{track_id}/similar?limit=5")).get_json()
    assert len(similar["tracks"]) == 5 and track_id not in [t["id"] for t in similar["tracks"]]
    missing = await client.get("/api/tracks/999999999")
    assert missing.status_code == 404
    assert (await missing.get_json())["error"]["code"] == "track_not_found"
    assert (await client.get("/api/tracks/999999999/similar")).status_code == 404


async def test_audio_media_is_served_with_ranges(catalog_app: Any) -> None:
    client = catalog_app.test_client()
    state = catalog_app.app.extensions["musicrec"]
    track_id = await state.db.fetchval("SELECT id FROM tracks WHERE media_kind = 'audio'")
    whole = await client.get(f"/api/tracks/{track_id}/media")
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/wav"
    data = await whole.get_data()
    wave.open(io.BytesIO(data)).close()
    part = await client.get(f"/api/tracks/{track_id}/media", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert await part.get_data() == data[10:110]
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(data)}"
    no_media = await state.db.fetchval("SELECT id FROM tracks WHERE media_kind = 'none' LIMIT 1")
    response = await client.get(f"/api/tracks/{no_media}/media")
    assert response.status_code == 404
    assert (await response.get_json())["error"]["code"] == "no_media"


async def test_quickmix_is_cached_and_feedback_invalidates_it(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    first = await (await client.post("/api/quickmix", json={"mood": "chill", "size": 20})).get_json()
    assert first["cached"] is False and len(first["tracks"]) == 20
    assert all(t["media"]["playable"] for t in first["tracks"]), "a mix holds only playable tracks"
    second = await (await client.post("/api/quickmix", json={"mood": "chill", "size": 20})).get_json()
    assert second["cached"] is True and second["mix_id"] == first["mix_id"]
    artists = [t["artists"][0] for t in first["tracks"]]
    for i, artist in enumerate(artists):
        assert artist not in artists[max(0, i - 3):i], "an artist came back within 4 tracks"
    liked = first["tracks"][0]["id"]
    assert (await client.post("/api/feedback", json={"track_id": liked, "action": "like"})).status_code == 202
    third = await (await client.post("/api/quickmix", json={"mood": "chill", "size": 20})).get_json()
    assert third["cached"] is False


async def test_quickmix_never_repeats_recent_plays(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    mix = await (await client.post("/api/quickmix", json={"mood": "focus", "size": 10})).get_json()
    played = [t["id"] for t in mix["tracks"][:5]]
    for track_id in played:
        await client.post("/api/feedback", json={"track_id": track_id, "action": "complete"})
    again = await (await client.post("/api/quickmix", json={"mood": "focus", "size": 10})).get_json()
    assert not set(played) & {t["id"] for t in again["tracks"]}


async def test_feedback_is_durable_idempotent_and_in_history(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    state = catalog_app.app.extensions["musicrec"]
    ids = [r["id"] for r in await state.db.fetch("SELECT id FROM tracks ORDER BY id LIMIT 3")]
    for track_id, action in zip(ids, ["play", "skip", "like"], strict=True):
        response = await client.post("/api/feedback", json={"track_id": track_id, "action": action,
                                                             "position_ms": 1000, "ref": f"r-{track_id}"})
        assert response.status_code == 202
        assert (await response.get_json())["accepted"] is True
    repeat = {"track_id": ids[0], "action": "play", "ref": f"r-{ids[0]}"}
    again = await client.post("/api/feedback", json=repeat)
    assert again.status_code == 202
    history = await (await client.get("/api/history?limit=2")).get_json()
    assert [e["action"] for e in history["events"]] == ["like", "skip"]
    older = await (await client.get(f"/api/history?limit=2&before={history['next_before']}")).get_json()
    assert [e["action"] for e in older["events"]] == ["play"]
    assert older["events"][0]["track"]["id"] == ids[0]


async def test_feedback_bad_input(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    unknown = await client.post("/api/feedback", json={"track_id": 999999999, "action": "like"})
    assert unknown.status_code == 404
    for body in ({"track_id": 1, "action": "love"}, {"track_id": "1", "action": "like"}, {"action": "like"},
                 {"track_id": 1, "action": "like", "position_ms": -5}):
        assert (await client.post("/api/feedback", json=body)).status_code == 422


async def test_history_is_private(catalog_app: Any) -> None:
    alice = await _logged_in(catalog_app)
    bob = await _logged_in(catalog_app)
    state = catalog_app.app.extensions["musicrec"]
    track_id = await state.db.fetchval("SELECT id FROM tracks ORDER BY id LIMIT 1")
    await alice.post("/api/feedback", json={"track_id": track_id, "action": "like"})
    assert (await (await bob.get("/api/history")).get_json())["events"] == []


async def test_mood_put_and_me(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    response = await client.put("/api/me/mood", json={"text": "rainy sunday morning", "energy": 0.3})
    assert response.status_code == 200
    mood = (await response.get_json())["mood"]
    assert mood["text"] == "rainy sunday morning" and mood["energy"] == pytest.approx(0.3)
    me = await (await client.get("/api/me")).get_json()
    assert me["mood"]["text"] == "rainy sunday morning"
    pad = await client.put("/api/me/mood", json={"energy": 0.8, "valence": 0.9})
    assert pad.status_code == 200
    for bad in ({"mood": "chill", "text": "both"}, {}, {"mood": "nope"}, {"text": "x", "energy": 2}):
        assert (await client.put("/api/me/mood", json=bad)).status_code == 422


async def test_a_quickmix_can_be_fetched_again_only_by_its_owner(catalog_app: Any) -> None:
    owner = await _logged_in(catalog_app)
    mix = await (await owner.post("/api/quickmix", json={"mood": "party", "size": 12})).get_json()
    again = await owner.get(f"/api/quickmix/{mix['mix_id']}")
    assert again.status_code == 200
    assert [t["id"] for t in (await again.get_json())["tracks"]] == [t["id"] for t in mix["tracks"]]

    stranger = await _logged_in(catalog_app)
    refused = await stranger.get(f"/api/quickmix/{mix['mix_id']}")
    assert refused.status_code == 404
    assert (await refused.get_json())["error"]["code"] == "mix_not_found"
    assert (await catalog_app.test_client().get(f"/api/quickmix/{mix['mix_id']}")).status_code == 401


async def test_feedback_on_an_unknown_track_is_refused_and_stores_nothing(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    state = catalog_app.app.extensions["musicrec"]
    before = await state.db.fetchval("SELECT count(*) FROM listening_events")
    response = await client.post("/api/feedback", json={"track_id": 999999999, "action": "like"})
    assert response.status_code == 404
    assert (await response.get_json())["error"]["code"] == "track_not_found"
    assert await state.db.fetchval("SELECT count(*) FROM listening_events") == before


async def test_quickmix_includes_unplayable_tracks_only_when_the_listener_asks(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    assert (await (await client.get("/api/me/settings")).get_json()) == {
        "settings": {"include_unplayable": False}}
    mix = await (await client.post("/api/quickmix", json={"mood": "workout", "size": 30})).get_json()
    assert len(mix["tracks"]) == 30 and all(t["media"]["playable"] for t in mix["tracks"])

    changed = await client.put("/api/me/settings", json={"include_unplayable": True})
    assert (await changed.get_json()) == {"settings": {"include_unplayable": True}}
    everything = await (await client.post("/api/quickmix", json={"mood": "workout", "size": 30})).get_json()
    assert everything["cached"] is False, "a settings change makes the next mix fresh"
    assert not all(t["media"]["playable"] for t in everything["tracks"])
    assert (await (await client.get("/api/me/settings")).get_json())["settings"]["include_unplayable"]

    bad = await client.put("/api/me/settings", json={"include_unplayable": "yes"})
    assert bad.status_code == 422


async def test_recommendations_show_unplayable_tracks_with_a_way_to_hear_them(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    body = await (await client.get("/api/recommendations?mood=party&limit=30")).get_json()
    unplayable = [t for t in body["tracks"] if not t["media"]["playable"]]
    assert unplayable, "discovery still shows tracks that cannot play here"
    for track in unplayable:
        assert track["media"] == {"kind": "none", "url": None, "playable": False}
        if track["source"] == "spotify":
            assert track["links"]["spotify"].startswith("spotify:track:")


async def test_catalog_status_counts_what_can_play(catalog_app: Any) -> None:
    status = await (await catalog_app.test_client().get("/api/catalog/status")).get_json()
    assert status["state"] == "ready"
    assert status["tracks"] == 300 and status["playable"] == 100
    ready = await catalog_app.test_client().get("/api/ready")
    assert ready.status_code == 200 and (await ready.get_json())["ready"] is True


async def test_nonsense_words_are_refused_not_answered_with_random_tracks(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    search = await (await client.get("/api/tracks/search?q=zzzzqqq")).get_json()
    assert search["tracks"] == [] and "zzzzqqq" in search["message"]
    mood = await client.put("/api/me/mood", json={"text": "zzzzqqq"})
    assert mood.status_code == 422
    assert (await mood.get_json())["error"]["code"] == "unknown_mood_words"
    sensible = await client.put("/api/me/mood", json={"text": "rainy sunday morning"})
    assert sensible.status_code == 200
    found = await (await client.get("/api/tracks/search?q=calm")).get_json()
    assert found["tracks"] and found["message"] is None


async def test_like_toggles_and_history_has_one_row_per_outcome(catalog_app: Any) -> None:
    client = await _logged_in(catalog_app)
    state = catalog_app.app.extensions["musicrec"]
    first, second = [r["id"] for r in await state.db.fetch("SELECT id FROM tracks ORDER BY id LIMIT 2")]

    async def send(track_id: int, action: str, position_ms: int | None = None) -> dict[str, Any]:
        response = await client.post("/api/feedback", json={"track_id": track_id, "action": action,
                                                             "position_ms": position_ms})
        assert response.status_code == 202
        result: dict[str, Any] = await response.get_json()
        return result

    await send(first, "play", 0)
    assert (await send(first, "like"))["changed"] is True
    assert (await send(first, "like"))["changed"] is False, "a second like changes nothing"
    await send(first, "complete", 200_000)
    await send(second, "play", 0)
    await send(second, "skip", 42_000)
    assert (await send(second, "unlike"))["changed"] is False, "nothing to take back"
    assert (await send(first, "unlike"))["changed"] is True
    history = await (await client.get("/api/history?limit=10")).get_json()
    rows = [(e["track"]["id"], e["action"], e["position_ms"]) for e in history["events"]]
    assert rows == [(first, "unlike", None), (second, "skip", 42_000), (first, "complete", 200_000),
                    (first, "like", None)]


async def test_the_catalog_pages_in_id_order_and_can_list_only_what_plays(catalog_app: Any) -> None:
    client = catalog_app.test_client()
    first = await (await client.get("/api/tracks?limit=120")).get_json()
    second = await (await client.get(f"/api/tracks?limit=200&after={first['next_after']}")).get_json()
    ids = [t["id"] for t in first["tracks"] + second["tracks"]]
    assert len(ids) == 300 and ids == sorted(ids) and second["next_after"] is None
    playable = await (await client.get("/api/tracks?playable=true&limit=500")).get_json()
    assert len(playable["tracks"]) == 100 and all(t["media"]["playable"] for t in playable["tracks"])
    assert (await client.get("/api/tracks?limit=0")).status_code == 422

"""A listener's own Subsonic library, end to end against a real Supysonic server: connect, sync,
match with the public data, stream through the proxy, scrobble and star, re-sync, outages.

The tests share one app and one Supysonic and run in file order (each builds on the last).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from app.catalog import import_records
from app.factory import create_app
from recsys.catalog import TrackRecord
from tests.conftest import DATABASE_URL, make_settings, unique_name
from tests.library.conftest import PASSWORD, USER, ListenBrainzStub, Supysonic, wait_for, write_song

LOGIN = "correct horse battery"


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, run_schema: str,
              supysonic: Supysonic) -> AsyncIterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("library-app")
    schema = run_schema + "_lib"
    # The test server is on loopback, which the address policy refuses unless it is listed.
    app = create_app(make_settings(tmp, db_schema=schema, library_check_interval_s=3600,
                                   library_allowed_hosts=["127.0.0.1"]))
    async with app.test_app() as running:
        state = app.extensions["musicrec"]
        local = write_song(tmp / "local" / "Harbour Lights.flac", "Harbour Lights", "Solo Person",
                           "Own Files")
        await import_records(state.db, state.index, state.encoder, [
            # Known from a public features table: no sound of its own, but features and tags.
            TrackRecord(source="spotify", external_id="4uLU6hMCjMI75M1A2tKUQC", title="Paper Planes",
                        artists=["Loud Band"], duration_ms=4200, genres=["indie rock"],
                        audio={"energy": 0.9, "valence": 0.7, "tempo": 140.0}, popularity=70.0),
            # A local file that plays whatever happens to the library server.
            TrackRecord(source="audio", external_id="Harbour Lights.flac", title="Harbour Lights",
                        artists=["Solo Person"], duration_ms=2000, media_kind="audio", media_ref=str(local)),
        ])
        client = running.test_client()
        response = await client.post("/api/auth/register",
                                     json={"username": unique_name(), "password": LOGIN})
        assert response.status_code == 201
        yield {"app": running, "state": state, "client": client, "supysonic": supysonic, "tmp": tmp}
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def _library(client: Any) -> dict[str, Any]:
    body = await (await client.get("/api/libraries")).get_json()
    assert len(body["libraries"]) == 1
    return body["libraries"][0]  # type: ignore[no-any-return]


async def _synced(client: Any, after: str | None = None) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        lib = await _library(client)
        finished = not lib["sync"]["running"] and lib["sync"]["state"] in ("done", "failed")
        return lib if finished and lib["sync"]["last_sync_at"] != after else None

    return await wait_for(done)  # type: ignore[no-any-return]


async def _track(client: Any, title: str) -> dict[str, Any]:
    found = await (await client.get("/api/tracks/search", query_string={"q": title, "limit": 5})).get_json()
    matching = [t for t in found["tracks"] if t["title"] == title]
    assert len(matching) == 1, f"{title}: {[t['title'] for t in found['tracks']]}"
    return matching[0]  # type: ignore[no-any-return]


async def test_wrong_credentials_are_refused_with_a_clear_error(env: dict[str, Any]) -> None:
    client, server = env["client"], env["supysonic"]
    response = await client.post("/api/libraries", json={"url": server.url, "username": USER,
                                                         "password": "not-the-password"})
    assert response.status_code == 422
    error = (await response.get_json())["error"]
    assert error["code"] == "library_auth_failed"
    assert "credentials" in error["message"] and "not-the-password" not in error["message"]
    assert (await (await client.get("/api/libraries")).get_json())["libraries"] == []


async def test_an_unreachable_server_is_refused(env: dict[str, Any]) -> None:
    response = await env["client"].post("/api/libraries", json={
        "url": "http://127.0.0.1:9", "username": USER, "password": PASSWORD})
    assert response.status_code == 502
    assert (await response.get_json())["error"]["code"] == "library_unreachable"


async def test_connect_and_sync_imports_every_song_once(env: dict[str, Any]) -> None:
    client, server, state = env["client"], env["supysonic"], env["state"]
    response = await client.post("/api/libraries", json={"url": server.url + "/", "username": USER,
                                                         "password": PASSWORD})
    assert response.status_code == 201, await response.get_data()
    body = await response.get_data(as_text=True)
    assert PASSWORD not in body and PASSWORD.encode().hex() not in body
    created = (await response.get_json())["library"]
    assert created["url"] == server.url and created["auth"] == "password"  # Supysonic speaks API 1.12
    lib = await _synced(client)
    assert lib["sync"]["state"] == "done", lib["sync"]
    assert lib["tracks"] == 3 and lib["status"] == "online"
    assert "name+duration" in lib["sync"]["report"]

    # Connecting the same server and user again is a conflict, not a second library.
    again = await client.post("/api/libraries",
                              json={"url": server.url, "username": USER, "password": PASSWORD})
    assert again.status_code == 409

    drift = await _track(client, "Morning Drift")
    assert drift["media"] == {"kind": "audio", "url": f"/api/tracks/{drift['id']}/media", "playable": True}
    assert drift["album"] == "Quiet Hours" and drift["year"] == 2001 and drift["genre"] == ["Ambient"]
    assert drift["duration_ms"] == 3000 and drift["source"] == "subsonic"
    rows = await state.db.fetch("SELECT track_number, album_id FROM library_songs ORDER BY track_number")
    assert [r["track_number"] for r in rows] == [1, 1, 2] and all(r["album_id"] for r in rows)


async def test_a_library_song_and_a_public_features_row_are_one_track(env: dict[str, Any]) -> None:
    client = env["client"]
    planes = await _track(client, "Paper Planes")
    # The Spotify row keeps its id, features and tags; the library gives it sound and a genre.
    assert planes["source"] == "spotify" and planes["links"]["spotify"].endswith("4uLU6hMCjMI75M1A2tKUQC")
    assert planes["audio"]["energy"] == pytest.approx(0.9)
    assert planes["genre"] == ["indie rock", "Rock"] and planes["year"] == 1999
    assert planes["media"]["playable"] is True
    titles = [t["title"] for t in (await (await client.get(
        "/api/tracks/search", query_string={"q": "Paper Planes", "limit": 10})).get_json())["tracks"]]
    assert "Paper Planes (Remastered 2011)" not in titles


async def test_the_proxy_streams_with_range_and_hides_the_server(env: dict[str, Any]) -> None:
    client, server = env["client"], env["supysonic"]
    drift = await _track(client, "Morning Drift")
    original = (server.music / "Calm Artist" / "01 Morning Drift.flac").read_bytes()
    whole = await client.get(drift["media"]["url"])
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/flac"
    assert await whole.get_data() == original
    part = await client.get(drift["media"]["url"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert await part.get_data() == original[100:1100]
    for name, value in part.headers.items():
        assert server.url not in value and PASSWORD not in value, name


async def test_likes_are_starred_and_plays_scrobbled_on_the_library(
        env: dict[str, Any], listenbrainz: ListenBrainzStub) -> None:
    client, server, state = env["client"], env["supysonic"], env["state"]
    # Only the library's owner sends feedback back: this listener connected it, so they own it.
    drift = await _track(client, "Morning Drift")
    liked = await client.post("/api/feedback", json={"track_id": drift["id"], "action": "like"})
    assert liked.status_code == 202

    async def starred() -> list[str]:
        return [s["title"] for s in server.api("getStarred2").get("starred2", {}).get("song", [])]

    assert await wait_for(starred) == ["Morning Drift"]
    await client.post("/api/feedback", json={"track_id": drift["id"], "action": "complete"})

    async def scrobbled() -> list[dict[str, Any]]:
        return [x for x in listenbrainz.listens if x.get("listen_type") == "single"]

    listen = (await wait_for(scrobbled))[0]["payload"][0]["track_metadata"]
    assert listen["track_name"] == "Morning Drift" and listen["artist_name"] == "Calm Artist"
    await client.post("/api/feedback", json={"track_id": drift["id"], "action": "unlike"})

    async def unstarred() -> bool:
        return await starred() == []

    assert await wait_for(unstarred)
    # Another listener's like stays here: the credentials are the owner's, not theirs.
    other = env["app"].test_client()
    await other.post("/api/auth/register", json={"username": unique_name(), "password": LOGIN})
    await other.post("/api/feedback", json={"track_id": drift["id"], "action": "like"})
    hooks = state.extras.get("feedback_hook_tasks", set())
    for task in list(hooks):
        await task
    assert await starred() == []


async def test_a_resync_adds_new_songs_and_retires_removed_ones(env: dict[str, Any]) -> None:
    client, server, state = env["client"], env["supysonic"], env["state"]
    before = await _library(client)
    tide = await _track(client, "Evening Tide")
    (server.music / "Calm Artist" / "02 Evening Tide.ogg").unlink()
    write_song(server.music / "Calm Artist" / "03 Night Swim.flac", "Night Swim", "Calm Artist",
               "Quiet Hours", track=3, hz=300)
    server.scan()
    assert (await client.post(f"/api/libraries/{before['id']}/sync")).status_code == 202
    lib = await _synced(client, after=before["sync"]["last_sync_at"])
    assert lib["sync"]["state"] == "done" and lib["tracks"] == 3
    assert (await _track(client, "Night Swim"))["media"]["playable"] is True
    gone = await (await client.get(f"/api/tracks/{tide['id']}")).get_json()
    assert gone["media"]["playable"] is False  # history and tags stay; the sound is gone
    assert (await client.get(f"/api/tracks/{tide['id']}/media")).status_code == 404
    count = await state.db.fetchval("SELECT count(*) FROM tracks WHERE title = ANY($1::text[])",
                                    ["Morning Drift", "Night Swim", "Paper Planes"])
    assert count == 3  # nothing duplicated


async def test_a_library_going_away_makes_its_tracks_unplayable_and_nothing_else(env: dict[str, Any]) -> None:
    client, server = env["client"], env["supysonic"]
    drift = await _track(client, "Morning Drift")
    server.stop()
    try:
        media = await client.get(drift["media"]["url"])
        assert media.status_code == 503
        assert (await media.get_json())["error"]["code"] == "library_offline"
        lib = await _library(client)
        assert lib["status"] == "offline" and lib["last_error"]
        assert (await _track(client, "Morning Drift"))["media"]["playable"] is False
        mix = await (await client.post("/api/quickmix", json={"size": 10})).get_json()
        assert [t["title"] for t in mix["tracks"]] == ["Harbour Lights"]  # the one that still plays
        local = await _track(client, "Harbour Lights")
        assert (await client.get(local["media"]["url"])).status_code == 200
    finally:
        server.start()
    checked = await (await client.post("/api/libraries/check")).get_json()
    assert checked["libraries"][0]["status"] == "online"
    assert (await _track(client, "Morning Drift"))["media"]["playable"] is True


async def test_removing_a_library_forgets_its_credentials_and_keeps_history(env: dict[str, Any]) -> None:
    client, state = env["client"], env["state"]
    lib = await _library(client)
    drift = await _track(client, "Morning Drift")
    assert (await client.delete(f"/api/libraries/{lib['id']}")).status_code == 204
    assert await state.db.fetchval("SELECT count(*) FROM libraries") == 0
    after = await (await client.get(f"/api/tracks/{drift['id']}")).get_json()
    assert after["media"]["playable"] is False
    planes = await _track(client, "Paper Planes")
    assert planes["audio"]["energy"] == pytest.approx(0.9)  # the public data stays


def test_supysonic_fixture_is_real(supysonic: Supysonic) -> None:
    assert supysonic.api("ping")["status"] == "ok"
    assert Path(supysonic.root / "supysonic.conf").exists()

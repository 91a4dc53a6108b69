"""What happens to a connected library after the sync, against a real Supysonic behind a real
server (Hypercorn, WebSockets): unmatched songs get audio features from their sound, cover
art is proxied, live queues drop a library that goes away and take it back when it returns,
and a song removed and added again is its old track again.

The tests share one app and one Supysonic and run in file order (each builds on the last).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from PIL import Image

from app.catalog import import_records
from app.factory import create_app
from recsys.catalog import TrackRecord
from tests.conftest import DATABASE_URL, make_settings
from tests.library.conftest import (
    PASSWORD,
    USER,
    Supysonic,
    ensure_supysonic,
    free_port,
    wait_for,
    write_song,
)
from tests.realtime.conftest import open_tab, register
from tests.realtime.server_main import serve_app

LIBRARY_REASON = "A music library went offline or came back"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supysonic]:
    ensure_supysonic()
    supysonic = Supysonic(tmp_path_factory.mktemp("supysonic-bg"))
    write_song(supysonic.music / "Tone Painter" / "01 Low Hum.flac", "Low Hum", "Tone Painter", "Tones",
               seconds=6.0, hz=110)
    write_song(supysonic.music / "Tone Painter" / "02 High Whistle.ogg", "High Whistle", "Tone Painter",
               "Tones", seconds=6.0, track=2, hz=1760)
    # A cover image in the album folder: Supysonic gives its songs a coverArt id.
    Image.new("RGB", (600, 600), (200, 40, 90)).save(supysonic.music / "Tone Painter" / "cover.jpg")
    write_song(supysonic.music / "Other" / "Bare Track.flac", "Bare Track", "Nobody Known", "No Art",
               seconds=6.0, hz=440)
    supysonic.setup()
    supysonic.scan()
    supysonic.start()
    yield supysonic
    supysonic.stop()


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory, run_schema: str,
              server: Supysonic) -> AsyncIterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("library-bg")
    schema = run_schema + "_libbg"
    port = free_port()
    settings = make_settings(tmp, db_schema=schema, port=port, library_allowed_hosts=["127.0.0.1"],
                             library_check_interval_s=0.5)
    app = create_app(settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_app(app, settings, stop))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/api/moods", timeout=1)).status_code < 500:
                    break
            await asyncio.sleep(0.05)
        state = app.extensions["musicrec"]
        local = write_song(tmp / "local" / "Harbour Lights.flac", "Harbour Lights", "Solo Person",
                           "Own Files")
        # A track that plays whatever happens to the library server.
        await import_records(state.db, state.index, state.encoder, [
            TrackRecord(source="audio", external_id="Harbour Lights.flac", title="Harbour Lights",
                        artists=["Solo Person"], duration_ms=2000, audio={"energy": 0.4, "tempo": 100.0},
                        media_kind="audio", media_ref=str(local))])
        user_id, cookie = await register(base)
        http.headers["Cookie"] = cookie
        yield {"http": http, "state": state, "server": server, "base": base, "cookie": cookie,
               "user_id": user_id}
    stop.set()
    await asyncio.wait_for(serving, 30)
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def _library(http: httpx.AsyncClient) -> dict[str, Any]:
    libraries = (await http.get("/api/libraries")).json()["libraries"]
    assert len(libraries) == 1
    return libraries[0]  # type: ignore[no-any-return]


async def _track(http: httpx.AsyncClient, title: str) -> dict[str, Any]:
    found = (await http.get("/api/tracks/search", params={"q": title, "limit": 5})).json()["tracks"]
    matching = [t for t in found if t["title"] == title]
    assert len(matching) == 1, f"{title}: {[t['title'] for t in found]}"
    return matching[0]  # type: ignore[no-any-return]


async def _sync_done(http: httpx.AsyncClient, after: str | None = None) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        lib = await _library(http)
        finished = not lib["sync"]["running"] and lib["sync"]["state"] in ("done", "failed")
        return lib if finished and lib["sync"]["last_sync_at"] != after else None

    return await wait_for(done)  # type: ignore[no-any-return]


async def test_unmatched_songs_get_audio_features_from_their_sound(env: dict[str, Any]) -> None:
    http, server, state = env["http"], env["server"], env["state"]
    created = await http.post("/api/libraries", json={"url": server.url, "username": USER,
                                                      "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["library"]["analysis"] == {"pending": 0, "done": 0, "failed": 0}
    await _sync_done(http)

    async def analysed() -> dict[str, Any] | None:
        lib = await _library(http)
        return lib if lib["analysis"]["pending"] == 0 else None

    lib = await wait_for(analysed, within_s=90)  # the first analysis warms librosa up
    assert lib["analysis"] == {"pending": 0, "done": 3, "failed": 0}
    low, high = await _track(http, "Low Hum"), await _track(http, "High Whistle")
    for track in (low, high):
        assert track["source"] == "subsonic"
        assert {"energy", "tempo", "valence", "danceability", "loudness"} <= set(track["audio"])
    # A 110 Hz hum is darker than a 1,760 Hz whistle, and the descriptors say so.
    assert low["audio"]["acousticness"] > high["audio"]["acousticness"]
    # The index point was rewritten with the new features (what similarity and moods search).
    payloads = await state.index.payloads([low["id"], high["id"]])
    assert payloads[low["id"]]["energy"] == pytest.approx(low["audio"]["energy"])
    assert payloads[high["id"]]["tempo"] == pytest.approx(high["audio"]["tempo"])


async def test_cover_art_is_proxied_bounded_and_cacheable(env: dict[str, Any]) -> None:
    http, server = env["http"], env["server"]
    low = await _track(http, "Low Hum")
    assert low["cover"] == f"/api/tracks/{low['id']}/cover"
    small = await http.get(low["cover"], params={"size": 64})
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(small.content)).size == (64, 64)  # Supysonic resized it
    assert "max-age" in small.headers["cache-control"] and small.headers["etag"]
    again = await http.get(low["cover"], params={"size": 64},
                           headers={"If-None-Match": small.headers["etag"]})
    assert again.status_code == 304
    for header, value in small.headers.items():
        assert server.url not in value and PASSWORD not in value, header
    assert (await http.get(low["cover"], params={"size": 100_000})).status_code == 422  # bounded
    bare = await _track(http, "Bare Track")
    missing = await http.get(bare["cover"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_cover"
    harbour = await _track(http, "Harbour Lights")
    assert harbour["cover"] is None  # not a library track


def _upcoming(frame: dict[str, Any]) -> set[int]:
    return {t["id"] for t in frame["tracks"]}


async def test_live_queues_drop_a_library_that_goes_away_and_take_it_back(env: dict[str, Any]) -> None:
    http, server = env["http"], env["server"]
    library_ids = {(await _track(http, t))["id"] for t in ("Low Hum", "High Whistle", "Bare Track")}
    harbour = (await _track(http, "Harbour Lights"))["id"]
    ws = env["base"].replace("http://", "ws://") + "/ws"
    async with open_tab(ws, env["cookie"]) as tab:
        _, first = await tab.hello()
        assert first is not None and library_ids & _upcoming(first)
        server.stop()
        try:
            # The monitor (every 0.5 s here) notices; the queue already sent follows in seconds.
            offline = await tab.expect("queue", lambda f: f["reason"] == LIBRARY_REASON, within_s=8)
            assert not library_ids & _upcoming(offline)
            playing = offline["now_playing"]["id"] if offline["now_playing"] else None
            assert harbour in _upcoming(offline) | {playing}  # what still plays stays
        finally:
            server.start()
        back = await tab.expect("queue", lambda f: f["reason"] == LIBRARY_REASON
                                and bool(library_ids & _upcoming(f)), within_s=8)
        assert back["tracks"]


async def test_a_song_removed_and_added_again_is_its_old_track_again(env: dict[str, Any]) -> None:
    http, server, state = env["http"], env["server"], env["state"]
    low = await _track(http, "Low Hum")
    song = server.music / "Tone Painter" / "01 Low Hum.flac"
    kept = server.root / "set aside.flac"  # out of the music folder (Supysonic reads any suffix)
    os.replace(song, kept)
    server.scan()
    before = await _library(http)
    assert (await http.post(f"/api/libraries/{before['id']}/sync")).status_code == 202
    lib = await _sync_done(http, after=before["sync"]["last_sync_at"])
    assert lib["tracks"] == 2, lib["sync"]
    assert (await http.get(f"/api/tracks/{low['id']}")).json()["media"]["playable"] is False

    os.replace(kept, song)
    server.scan()
    assert (await http.post(f"/api/libraries/{lib['id']}/sync")).status_code == 202
    lib = await _sync_done(http, after=lib["sync"]["last_sync_at"])
    assert lib["tracks"] == 3
    returned = (await http.get(f"/api/tracks/{low['id']}")).json()
    assert returned["media"]["playable"] is True
    assert returned["audio"] == low["audio"]  # the features analysed before stay with it
    count = await state.db.fetchval("SELECT count(*) FROM tracks WHERE title = 'Low Hum'")
    assert count == 1

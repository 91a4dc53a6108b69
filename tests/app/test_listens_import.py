"""Importing listening histories end to end: the service against real PostgreSQL, the CLI
command, and the HTTP upload. Catalog tracks are inserted under names unique to each test
(the run's schema is shared), so counts are exact."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.listens_import import ListensFileError, ListensImportError, import_listens
from app.store import imported_listens, tracks, users
from app.store.db import Database
from app.store.migrate import migrate
from recsys.catalog import TrackRecord
from tests.conftest import DATABASE_URL, SHARED_DATA, unique_name

PASSWORD = "correct horse battery"


@pytest.fixture
async def db(run_schema: str) -> AsyncIterator[Database]:
    database = Database(DATABASE_URL, run_schema)
    await database.connect()
    await migrate(database)
    try:
        yield database
    finally:
        await database.close()


def spotify_id() -> str:
    return secrets.token_hex(11)  # 22 characters of 0-9a-f: a valid base-62 id


async def insert_tracks(db: Database, *records: TrackRecord) -> list[int]:
    async with db.transaction() as conn:
        return await tracks.upsert_batch(conn, list(records))


async def new_user(db: Database) -> int:
    return (await users.create(db, unique_name(), "not-a-real-hash")).id


def extended(
    ts: str, ms: int, title: str, artist: str, track_id: str | None = None, reason_end: str = "trackdone"
) -> dict[str, Any]:
    return {
        "ts": ts,
        "ms_played": ms,
        "master_metadata_track_name": title,
        "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": "Album",
        "spotify_track_uri": f"spotify:track:{track_id}" if track_id else None,
        "reason_start": "clickrow",
        "reason_end": reason_end,
        "skipped": None,
    }


class Catalog:
    """Three tracks by one artist (unique to the test), one of them a Spotify track."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.artist = f"The Testers {tag}"
        self.other_artist = f"Nobody Known {tag}"
        self.sid = spotify_id()
        self.records = [
            TrackRecord(
                source="spotify", external_id=self.sid, title=f"Uri Song {tag}", artists=[self.artist]
            ),
            TrackRecord(
                source="demo", external_id=f"t-{tag}", title=f"Title Song {tag}", artists=[self.artist]
            ),
        ]
        self.tag = tag


@pytest.fixture
async def catalog(db: Database) -> Catalog:
    cat = Catalog()
    await insert_tracks(db, *cat.records)
    return cat


def history_file(tmp: Path, cat: Catalog) -> Path:
    """One of each match kind, an unmatched listen, a podcast episode and a short play."""
    rows = [
        # By Spotify id, though the title is written differently.
        extended("2021-03-01T10:00:00Z", 200_000, "uri song (remastered)", cat.artist, cat.sid),
        # By artist + title, accents and case aside; a skip.
        extended(
            "2021-03-01T10:05:00Z", 4_000, f"TITLE SONG {cat.tag}", cat.artist.upper(), reason_end="fwdbtn"
        ),
        # The artist is known, the song is not.
        extended("2021-03-01T10:09:00Z", 180_000, "A Song Not In The Catalog", f"testers {cat.tag}, the"),
        extended("2021-03-01T10:12:00Z", 180_000, "Another Unknown", cat.artist),
        # Nothing known.
        extended("2021-03-01T10:15:00Z", 180_000, "Whatever", cat.other_artist),
        {
            "ts": "2021-03-01T10:20:00Z",
            "ms_played": 900_000,
            "master_metadata_track_name": None,
            "episode_name": "Episode 12",
            "spotify_episode_uri": "spotify:episode:abc",
        },
    ]
    path = tmp / "Streaming_History_Audio_2021.json"
    path.write_text(json.dumps(rows))
    return path


async def test_each_match_kind_is_counted_and_stored(db: Database, catalog: Catalog, tmp_path: Path) -> None:
    user_id = await new_user(db)
    report = await import_listens(db, history_file(tmp_path, catalog), user_id=user_id)
    assert report.rows == 6 and report.listens == 5
    assert report.skipped == {"podcast episode": 1}
    # "testers <tag>, the" is not the artist's key, so only one listen matches at artist level.
    assert dict(report.matched) == {"uri": 1, "title": 1, "artist": 1}
    assert sum(report.unmatched.values()) == 2 and report.stored == 3 and report.duplicates == 0
    stored = await imported_listens.for_user(db, user_id, 10)
    assert [(s.match, s.outcome, s.track_id is None) for s in stored] == [
        ("artist", "complete", True),
        ("title", "skip", False),
        ("uri", "complete", False),
    ]
    assert {s.artist for s in stored} == {catalog.artist.lower()}
    assert all(s.user_id == user_id and s.listener is None and s.source == "spotify_extended" for s in stored)


async def test_importing_again_adds_nothing(db: Database, catalog: Catalog, tmp_path: Path) -> None:
    user_id = await new_user(db)
    path = history_file(tmp_path, catalog)
    first = await import_listens(db, path, user_id=user_id)
    again = await import_listens(db, path, user_id=user_id)
    assert first.stored == 3 and again.stored == 0 and again.duplicates == 3
    assert await imported_listens.count_for_user(db, user_id) == 3


async def test_a_broken_file_stores_nothing_and_keeps_what_was_there(
    db: Database, catalog: Catalog, tmp_path: Path
) -> None:
    user_id = await new_user(db)
    await import_listens(db, history_file(tmp_path, catalog), user_id=user_id)
    rows = [
        extended(f"2022-01-01T10:{m:02d}:00Z", 200_000, f"Title Song {catalog.tag}", catalog.artist)
        for m in range(50)
    ]
    broken = tmp_path / "cut.json"
    broken.write_text(json.dumps(rows)[:-300])  # rows 1..49 are fine, the file breaks off
    with pytest.raises(ListensFileError):
        await import_listens(db, broken, user_id=user_id, batch_size=10)
    assert await imported_listens.count_for_user(db, user_id) == 3


async def test_hetrec_listeners_are_public_and_kept_apart(db: Database, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    await insert_tracks(
        db, TrackRecord(source="demo", external_id=f"h-{tag}", title="Any", artists=[f"Malice Mizer {tag}"])
    )
    folder = tmp_path / "hetrec"
    folder.mkdir()
    (folder / "artists.dat").write_text(
        f"id\tname\turl\tpictureURL\n1\tMALICE MIZER {tag}\thttp://a\thttp://b\n"
        f"2\tUnknown {tag}\thttp://a\thttp://b\n"
    )
    users_ids = [90_000_000 + int(tag, 16) % 1_000_000 + i for i in range(2)]
    (folder / "user_artists.dat").write_text(
        "userID\tartistID\tweight\n"
        + "".join(f"{u}\t1\t{100 + i}\n{u}\t2\t5\n" for i, u in enumerate(users_ids))
    )
    with pytest.raises(ListensImportError):
        await import_listens(db, folder, user_id=await new_user(db))
    report = await import_listens(db, folder, dataset="hetrec")
    assert report.matched["artist"] == 2 and report.unmatched == {"artist not in the catalog": 2}
    again = await import_listens(db, folder, dataset="hetrec")
    assert again.stored == 0 and again.duplicates == 2
    rows = await db.fetch(
        "SELECT listener, user_id, weight, listened_at, track_id FROM imported_listens"
        " WHERE listener = ANY($1::text[]) ORDER BY listener",
        [f"hetrec:{u}" for u in users_ids],
    )
    assert [(r["listener"], r["user_id"], r["weight"], r["listened_at"], r["track_id"]) for r in rows] == [
        (f"hetrec:{users_ids[0]}", None, 100.0, None, None),
        (f"hetrec:{users_ids[1]}", None, 101.0, None, None),
    ]


async def test_the_training_job_reads_in_id_order(db: Database, catalog: Catalog, tmp_path: Path) -> None:
    user_id = await new_user(db)
    await import_listens(db, history_file(tmp_path, catalog), user_id=user_id)
    seen: list[int] = []
    after = 0
    while chunk := await imported_listens.iter_chunks(db, after, 2):
        seen += [r["id"] for r in chunk]
        after = chunk[-1]["id"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 3


def test_the_cli_imports_for_a_user_and_refuses_hetrec_as_one(
    tmp_path: Path, run_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from cli.main import cli

    monkeypatch.setenv("MUSICREC_DATABASE_URL", DATABASE_URL)
    monkeypatch.setenv("MUSICREC_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("MUSICREC_DB_SCHEMA", run_schema)
    monkeypatch.setenv("MUSICREC_DATA_DIR", str(tmp_path))
    name = unique_name()
    cat = Catalog()

    async def setup() -> None:
        database = Database(DATABASE_URL, run_schema)
        await database.connect()
        await migrate(database)
        await insert_tracks(database, *cat.records)
        await users.create(database, name, "not-a-real-hash")
        await database.close()

    asyncio.run(setup())
    path = history_file(tmp_path, cat)
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "listens", str(path), "--user", name])
    assert result.exit_code == 0, result.output
    assert "3 stored" in result.output and "1 by uri, 1 by title, 1 by artist" in result.output
    refused = runner.invoke(cli, ["import", "listens", str(path), "--user", name, "--dataset", "hetrec"])
    assert refused.exit_code != 0
    unknown = runner.invoke(cli, ["import", "listens", str(path), "--user", "no-such-" + name])
    assert unknown.exit_code == 1 and "no user named" in unknown.output


# -- HTTP ---------------------------------------------------------------------------------


async def logged_in(app: Any) -> tuple[Any, int]:
    client = app.test_client()
    response = await client.post("/api/auth/register", json={"username": unique_name(), "password": PASSWORD})
    assert response.status_code == 201
    return client, (await response.get_json())["user"]["id"]


async def test_upload_lands_in_the_callers_history_only(app: Any, tmp_path: Path) -> None:
    state = app.app.extensions["musicrec"]
    cat = Catalog()
    await insert_tracks(state.db, *cat.records)
    alice, alice_id = await logged_in(app)
    _bob, bob_id = await logged_in(app)
    body = history_file(tmp_path, cat).read_bytes()
    response = await alice.post("/api/me/listens", data=body)
    assert response.status_code == 201
    report = (await response.get_json())["report"]
    assert report["matched"] == {"uri": 1, "title": 1, "artist": 1} and report["stored"] == 3
    assert report["skipped"]["reasons"] == {"podcast episode": 1}
    assert await imported_listens.count_for_user(state.db, alice_id) == 3
    assert await imported_listens.count_for_user(state.db, bob_id) == 0
    again = await alice.post("/api/me/listens", data=body)
    assert again.status_code == 200 and (await again.get_json())["report"]["duplicates"] == 3
    assert (await app.test_client().post("/api/me/listens", data=body)).status_code == 401


async def test_multipart_upload_and_errors(app: Any, tmp_path: Path) -> None:
    from quart.datastructures import FileStorage

    state = app.app.extensions["musicrec"]
    cat = Catalog()
    await insert_tracks(state.db, *cat.records)
    client, user_id = await logged_in(app)
    rows = [
        {
            "endTime": "2023-01-31 14:05",
            "artistName": cat.artist,
            "trackName": f"Title Song {cat.tag}",
            "msPlayed": 180_000,
        }
    ]
    upload = FileStorage(
        stream=__import__("io").BytesIO(json.dumps(rows).encode()),
        filename="StreamingHistory_music_0.json",
        content_type="application/json",
    )
    response = await client.post("/api/me/listens", files={"file": upload})
    assert response.status_code == 201, await response.get_data()
    assert (await response.get_json())["report"]["matched"]["title"] == 1

    broken = await client.post("/api/me/listens", data=json.dumps(rows * 20)[:-50].encode())
    assert broken.status_code == 422
    assert (await broken.get_json())["error"]["code"] == "unreadable_history"
    unknown = await client.post("/api/me/listens", data=b"just some words\n")
    assert unknown.status_code == 422
    assert (await client.post("/api/me/listens?format=nope", data=b"[]")).status_code == 400
    assert (await client.post("/api/me/listens?format=hetrec", data=b"[]")).status_code == 400
    assert await imported_listens.count_for_user(state.db, user_id) == 1


async def test_upload_over_the_limit_is_413(tmp_path: Path, run_schema: str) -> None:
    from app.factory import create_app
    from tests.conftest import make_settings

    quart_app = create_app(make_settings(tmp_path, listens_upload_max_bytes=4096))
    async with quart_app.test_app() as running:
        client, _ = await logged_in(running)
        response = await client.post("/api/me/listens", data=b"[" + b" " * 8192 + b"]")
        assert response.status_code == 413
        # The JSON API's own limit (1 MiB) does not cap an upload that fits its own limit.
        small = await client.post("/api/me/listens", data=b"[]", query_string={"format": "spotify_account"})
        assert small.status_code == 200


# -- the real HetRec data set ---------------------------------------------------------------

HETREC = SHARED_DATA / "lastfm_hetrec"


@pytest.mark.skipif(not (HETREC / "user_artists.dat").is_file(), reason="shared HetRec data not present")
async def test_the_real_hetrec_listeners(db: Database) -> None:
    # Give the catalog the 300 most listened artists, so that a real share of rows is stored.
    from collections import Counter

    listeners: Counter[str] = Counter()
    for line in (HETREC / "user_artists.dat").read_text().splitlines()[1:]:
        listeners[line.split("\t")[1]] += 1
    names = dict(line.split("\t")[:2] for line in (HETREC / "artists.dat").read_text().splitlines()[1:])
    top = [names[a] for a, _ in listeners.most_common(300)]
    await insert_tracks(
        db,
        *[
            TrackRecord(source="hetrec-test", external_id=f"a{i}", title=f"Song {i}", artists=[name])
            for i, name in enumerate(top)
        ],
    )
    started = time.perf_counter()
    report = await import_listens(db, HETREC, dataset="hetrec")
    seconds = time.perf_counter() - started
    print(
        f"\nHetRec: {report.rows:,} rows, {report.matched['artist']:,} matched, {report.stored:,} stored, "
        f"{report.duplicates:,} already there, in {seconds:.1f} s"
    )
    assert report.rows == 92_834 and report.listens == 92_834
    assert report.matched["artist"] >= sum(listeners[a] for a, _ in listeners.most_common(300)) * 0.99
    assert report.stored + report.duplicates == report.matched["artist"]

"""The administrator's side, run as a user would: `musicrec library add/list/sync/remove` against a
real Supysonic with the password in the environment (never in the output), and a local folder
imported again and again (`musicrec import audio`) without duplicates."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, REDIS_URL, RUN_ID
from tests.library.conftest import PASSWORD, USER, Supysonic, write_song

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = f"t_{RUN_ID}_libcli_{secrets.token_hex(2)}"
    yield name
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


def _env(tmp: Path, schema: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    (tmp / "musicrec.toml").write_text("")
    env.update({
        "MUSICREC_DATABASE_URL": DATABASE_URL, "MUSICREC_REDIS_URL": REDIS_URL,
        "MUSICREC_DB_SCHEMA": schema, "MUSICREC_DATA_DIR": str(tmp),
        "MUSICREC_CONFIG_FILE": str(tmp / "musicrec.toml"), "MUSICREC_DEMO_CATALOG": "false",
        "HF_HUB_OFFLINE": "1", "COLUMNS": "200", **extra,
    })
    return env


def _musicrec(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"musicrec {' '.join(args)}:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done


async def _count(schema: str, sql: str) -> int:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        return int(await conn.fetchval(sql.replace("{s}", f'"{schema}"')))
    finally:
        await conn.close()


async def test_the_library_commands_never_show_the_password(
        supysonic: Supysonic, tmp_path: Path, schema: str) -> None:
    env = _env(tmp_path, schema, MUSICREC_LIBRARY_PASSWORD=PASSWORD)
    outputs = []
    added = _musicrec(env, "library", "add", "subsonic", supysonic.url, "--user", USER, "--no-index")
    outputs.append(added)
    assert "library 1 connected" in added.stderr and "password authentication" in added.stderr
    assert "3 songs" in added.stderr or "3 new or changed" in added.stderr
    # The songs no public data knows get their features from their sound, with progress.
    assert "audio analysis: 3 songs analysed" in added.stderr, added.stderr
    assert await _count(schema, "SELECT count(*) FROM {s}.tracks WHERE audio ? 'energy'") >= 3

    listed = _musicrec(env, "library", "list")
    outputs.append(listed)
    assert f"{supysonic.url}  user {USER}" in listed.stderr and "analysed 3, waiting 0" in listed.stderr
    synced = _musicrec(env, "library", "sync", "1", "--no-index")
    outputs.append(synced)
    assert "0 new or changed" in synced.stderr and "3 unchanged" in synced.stderr
    removed = _musicrec(env, "library", "remove", "1")
    outputs.append(removed)
    assert "library 1 removed" in removed.stderr
    assert await _count(schema, "SELECT count(*) FROM {s}.libraries") == 0

    for done in outputs:
        for text in (done.stdout, done.stderr):
            assert PASSWORD not in text and PASSWORD.encode().hex() not in text


async def test_a_rescanned_folder_never_duplicates(tmp_path: Path, schema: str) -> None:
    (tmp_path / "data").mkdir()
    env = _env(tmp_path / "data", schema)
    folder = tmp_path / "music"
    write_song(folder / "a" / "One.flac", "One", "Folder Artist", "Album", seconds=3.0, hz=220)
    write_song(folder / "a" / "Two.ogg", "Two", "Folder Artist", "Album", seconds=3.0, hz=330)
    _musicrec(env, "import", "audio", str(folder), "--no-index", "--workers", "1")
    first = await _count(schema, "SELECT count(*) FROM {s}.tracks WHERE source = 'audio'")
    _musicrec(env, "import", "audio", str(folder), "--no-index", "--workers", "1")
    assert await _count(schema, "SELECT count(*) FROM {s}.tracks WHERE source = 'audio'") == first == 2
    write_song(folder / "b" / "Three.flac", "Three", "Folder Artist", "Album", seconds=3.0, hz=440)
    _musicrec(env, "import", "audio", str(folder), "--no-index", "--workers", "1")
    titles = await _count(schema, "SELECT count(DISTINCT title) FROM {s}.tracks WHERE source = 'audio'")
    assert await _count(schema, "SELECT count(*) FROM {s}.tracks WHERE source = 'audio'") == titles == 3

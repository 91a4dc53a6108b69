"""Catalog import of broken files, through the real `musicrec import` command (a subprocess on
its own schema of the test PostgreSQL): bad rows, a Latin-1 file, a CSV of another schema,
corrupt and truncated audio. Each run must report per row / per file, exit non-zero when nothing
could be imported, and leave what is already stored exactly as it was. A run SIGKILLed in the
middle leaves only whole batches (one transaction per batch)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import numpy as np
import pytest
import soundfile

from tests.conftest import DATABASE_URL, REDIS_URL, RUN_ID
from tests.realtime.conftest import ROOT

HEADER = (
    "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,"
    "instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,sections,target"
)
FEATURES = "0.5,0.6,5,-7.5,1,0.04,0.2,0.0,0.1,0.7,120.0"
RESULTS: dict[str, object] = {}


def _tid(n: int) -> str:
    return f"{n:022d}"


def _row(title: str, artist: str, n: int, features: str = FEATURES, duration: str = "173533") -> str:
    return f'"{title}","{artist}",spotify:track:{_tid(n)},{features},{duration},4,32.9,9,1'


def _env(tmp: Path, schema: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    (tmp / "musicrec.toml").write_text("")
    env.update(
        {
            "MUSICREC_DATABASE_URL": DATABASE_URL,
            "MUSICREC_REDIS_URL": REDIS_URL,
            "MUSICREC_DB_SCHEMA": schema,
            "MUSICREC_DATA_DIR": str(tmp),
            "MUSICREC_CONFIG_FILE": str(tmp / "musicrec.toml"),
            "MUSICREC_DEMO_CATALOG": "false",
            "MUSICREC_SECRET_KEY": "import-test-secret-key-0123456789abcdef",
            "HF_HUB_OFFLINE": "1",
            "COLUMNS": "200",
        }
    )
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "import", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


async def _snapshot(schema: str) -> list[tuple]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        rows = await conn.fetch(f'SELECT * FROM "{schema}".tracks ORDER BY id')
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A schema of the test's own, dropped afterwards."""
    name = f"t_{RUN_ID}_imp_{secrets.token_hex(2)}"
    yield name
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def test_broken_csvs_are_reported_per_row_and_never_touch_what_is_stored(
    tmp_path: Path, schema: str
) -> None:
    env = _env(tmp_path, schema)
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, *(_row(f"Good {i}", "Artist", i) for i in range(5))]) + "\n")
    r = _cli(env, "spotify", str(good), "--no-index")
    assert r.returncode == 0, r.stderr
    before = await _snapshot(schema)
    assert len(before) == 5

    # 1. Bad rows among good ones, Latin-1 encoded: the good rows land, each bad one is reported.
    mixed = tmp_path / "mixed-latin1.csv"
    lines = [
        HEADER,
        _row("Café del Mar", "Beyoncé", 100),
        _row("Fine", "Artist", 101),
        _row("Too Energetic", "X", 102, features=FEATURES.replace("0.6,5", "1.7,5")),
        _row("", "Nameless", 103),
        _row("Bad Length", "Y", 104, duration="abc"),
        f'"Short","A",spotify:track:{_tid(105)},0.5',
        _row("Bad Id", "Z", 0).replace(_tid(0), "not-an-id"),
    ]
    mixed.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    r = _cli(env, "spotify", str(mixed), "--no-index")
    assert r.returncode == 0, r.stderr
    report = r.stderr
    assert "not valid UTF-8" in report
    for reason in ("energy", "wrong number of fields"):
        assert reason in report, report
    after_mixed = await _snapshot(schema)
    assert after_mixed[:5] == before
    titles = {row[3] for row in after_mixed[5:]}
    assert titles == {"Café del Mar", "Fine"}, titles
    RESULTS["mixed_csv"] = {"rows": 7, "imported": 2, "skipped": 5, "exit": r.returncode}

    # 2. Nothing importable: every row bad -> exit 1, nothing changed.
    bad = tmp_path / "all-bad.csv"
    bad.write_text(
        "\n".join(
            [
                HEADER,
                _row("", "A", 200),
                _row("X", "B", 201, duration="-"),
                f"Short,A,spotify:track:{_tid(202)},0.5",
                "\x00\x01garbage",
            ]
        )
        + "\n"
    )
    r = _cli(env, "spotify", str(bad), "--no-index")
    assert r.returncode != 0 and "nothing could be imported" in r.stderr, (r.returncode, r.stderr)
    assert await _snapshot(schema) == after_mixed
    RESULTS["all_bad_csv"] = {"rows": 4, "exit": r.returncode}

    # 3. A CSV of another schema: refused before anything is written, naming what is expected.
    other = tmp_path / "other.csv"
    other.write_text("song,singer,bpm\nA,B,120\n")
    r = _cli(env, "spotify", str(other), "--no-index")
    assert r.returncode != 0 and "track_genre" in r.stderr, (r.returncode, r.stderr)
    assert await _snapshot(schema) == after_mixed

    # 4. Not a CSV at all (binary garbage, and an empty file).
    junk = tmp_path / "junk.csv"
    junk.write_bytes(secrets.token_bytes(4096))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path in (junk, empty):
        r = _cli(env, "spotify", str(path), "--no-index")
        assert r.returncode != 0 and "Traceback" not in r.stderr, (path.name, r.returncode, r.stderr[-2000:])
    assert await _snapshot(schema) == after_mixed
    print(f"import: {RESULTS}")


async def test_corrupt_and_truncated_audio_is_reported_per_file(tmp_path: Path, schema: str) -> None:
    env = _env(tmp_path, schema)
    good = tmp_path / "seed.csv"
    good.write_text("\n".join([HEADER, *(_row(f"Seed {i}", "Artist", 300 + i) for i in range(3))]) + "\n")
    assert _cli(env, "spotify", str(good), "--no-index").returncode == 0
    before = await _snapshot(schema)

    folder = tmp_path / "music"
    folder.mkdir()
    (folder / "random.mp3").write_bytes(secrets.token_bytes(20_000))
    (folder / "empty.flac").write_bytes(b"")
    wav = folder / "truncated.wav"
    soundfile.write(wav, np.zeros(22_050, dtype=np.float32), 22_050)
    wav.write_bytes(wav.read_bytes()[:60])  # the header promises data that is not there
    (folder / "fake.ogg").write_bytes(b"OggS" + secrets.token_bytes(500))
    r = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "cli", "import", "audio", str(folder), "--no-index", "--workers", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0 and "nothing could be imported" in r.stderr, (r.returncode, r.stderr[-3000:])
    for name in ("random.mp3", "empty.flac", "truncated.wav", "fake.ogg"):
        assert name in r.stderr, (name, r.stderr[-3000:])
    assert "Traceback" not in r.stderr
    assert await _snapshot(schema) == before
    RESULTS["audio"] = {"files": 4, "imported": 0, "exit": r.returncode}


async def test_an_import_killed_midway_leaves_only_whole_batches(tmp_path: Path, schema: str) -> None:
    env = _env(tmp_path, schema)
    big = tmp_path / "big.csv"
    n_rows = 60_000
    big.write_text(
        "\n".join([HEADER, *(_row(f"Bulk {i}", f"Artist {i % 97}", 10_000 + i) for i in range(n_rows))])
        + "\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "import", "spotify", str(big), "--no-index",
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = await asyncpg.connect(DATABASE_URL)
    seen = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.returncode is None:
            try:
                seen = await conn.fetchval(f'SELECT count(*) FROM "{schema}".tracks')
            except asyncpg.UndefinedTableError:
                seen = 0
            if seen >= 1000:
                break
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        stored = await conn.fetchval(f'SELECT count(*) FROM "{schema}".tracks')
        version = await conn.fetchval(f'SELECT count(*) FROM "{schema}".catalog_meta')
    finally:
        await conn.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    RESULTS["killed_import"] = {"rows": n_rows, "stored_when_killed": stored, "batch": 1000}
    print(f"import killed: {RESULTS['killed_import']} (catalog_meta rows {version})")
    assert stored % 1000 == 0 or stored == n_rows, stored
    assert 0 < stored <= n_rows

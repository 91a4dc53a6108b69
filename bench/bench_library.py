"""Library sync throughput and play-to-first-byte, against a real Supysonic.

Generates a library of ``--songs`` tiny tagged FLAC files (a few artists, many albums), has
Supysonic scan it, then measures:
- sync throughput (songs/s): ``app.library.sync`` end to end (search3 pages, validation,
  matching against the catalog, PostgreSQL writes), first sync and an unchanged re-sync;
  the text index is left out (``--index`` puts it in: then MiniLM encoding dominates);
- play → first audio byte through the proxy path (``app.library.open_stream`` and the first
  chunk of the upstream body, with the pooled client the media route uses), p50/p95.

Needs PostgreSQL (MUSICREC_TEST_DATABASE_URL, default the test database) and the Supysonic
virtualenv the tests create (.cache/supysonic-venv; created here when missing).
Prints a table, then `BENCH <name> <value> <unit>` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import library
from app.state import AppState
from app.store import libraries
from app.store.db import Database
from app.store.migrate import migrate
from tests.conftest import DATABASE_URL
from tests.library.conftest import PASSWORD, USER, Supysonic, ensure_supysonic, write_song


def generate(folder: Path, songs: int) -> None:
    template = folder / "_template.flac"
    write_song(template, "t", "t", "t", seconds=0.2)
    data = template.read_bytes()
    template.unlink()
    from mutagen.flac import FLAC

    for i in range(songs):
        path = folder / f"Artist {i % 50}" / f"Album {i // 12}" / f"{i % 12 + 1:02d} Song {i}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        tags = FLAC(path)
        tags["title"], tags["artist"], tags["album"] = f"Song {i}", f"Artist {i % 50}", f"Album {i // 12}"
        tags["genre"], tags["date"], tags["tracknumber"] = ["Rock", "Jazz", "Ambient"][i % 3], "2001", str(
            i % 12 + 1)
        tags.save()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(songs: int, plays: int, with_index: bool) -> list[tuple[str, float, str]]:
    ensure_supysonic()
    root = Path(tempfile.mkdtemp(prefix="bench-library-"))
    server = Supysonic(root)
    started = time.perf_counter()
    generate(server.music, songs)
    generated = time.perf_counter() - started
    server.setup()
    started = time.perf_counter()
    server.scan()
    scanned = time.perf_counter() - started
    server.start()
    schema = f"bench_library_{secrets.token_hex(3)}"
    db = Database(DATABASE_URL, schema)
    await db.connect()
    index = encoder = None
    try:
        await migrate(db)
        if with_index:
            from recsys.encoder import AsyncEncoder
            from recsys.index import open_index

            index = open_index(None, root / "data", "bench", None)
            await index.ensure()
            encoder = AsyncEncoder.for_backend("onnx")
        lib = await library.connect(db, None, server.url, USER, PASSWORD)
        t0 = time.perf_counter()
        first = await library.sync(db, index, encoder, lib)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await library.sync(db, index, encoder, lib)
        again_s = time.perf_counter() - t0

        from config import Settings

        state = AppState(settings=Settings(database_url=DATABASE_URL, redis_url="redis://127.0.0.1:6379/0"),
                         db=db, redis=None, sessions=None, limiter=None)  # type: ignore[arg-type]
        track_ids = await libraries.library_track_ids(db, lib.id)
        from app.store import tracks

        found = list((await tracks.get_many(db, track_ids[:plays])).values())
        latencies: list[float] = []
        for track in found:
            t0 = time.perf_counter()
            upstream = await library.open_stream(state, track, "bytes=0-")
            async for _chunk in upstream.aiter_raw():
                latencies.append((time.perf_counter() - t0) * 1000)
                break
            await upstream.aclose()
        await library.close_clients(state)
    finally:
        server.stop()
        if index is not None:
            await index.close()
        if encoder is not None:
            encoder.close()
        await db.close()
        conn = await asyncpg.connect(DATABASE_URL)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
    return [
        ("library_songs", float(first.songs), "songs"),
        ("library_generate", generated, "s"),
        ("library_supysonic_scan", scanned, "s"),
        ("library_sync_first", first.songs / first_s, "songs/s"),
        ("library_sync_unchanged", first.songs / again_s, "songs/s"),
        ("library_first_byte_p50", statistics.median(latencies), "ms"),
        ("library_first_byte_p95", pct(latencies, 0.95), "ms"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--songs", type=int, default=3000)
    parser.add_argument("--plays", type=int, default=100)
    parser.add_argument("--index", action="store_true", help="index the tracks too (MiniLM encoding)")
    args = parser.parse_args()
    results = asyncio.run(run(args.songs, args.plays, args.index))
    print(f"{'measure':<28}{'value':>14}  unit")
    for name, value, unit in results:
        print(f"{name:<28}{value:>14,.1f}  {unit}")
    for name, value, unit in results:
        print(f"BENCH {name} {value:.2f} {unit}")


if __name__ == "__main__":
    main()

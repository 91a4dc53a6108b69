"""Recommendation engine benchmark on the real Hit Predictor tracks, and on a synthetic 250k scale.

    python bench/bench_recsys.py [--quick] [--scale N] [--data DIR] [--lastfm DIR]

Imports the 41k real tracks end to end (CSV parsing, Last.fm enrichment, PostgreSQL, MiniLM
embeddings, Qdrant Edge), then measures queries through the same code the server runs. The scale
part resamples the real tracks' vectors and payloads with noise, without re-encoding text: it
measures scale, not quality. Needs PostgreSQL and Redis (MUSICREC_TEST_DATABASE_URL /
MUSICREC_TEST_REDIS_URL, default the CI ones); prints a table, then `BENCH name value unit` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.catalog import import_records
from app.factory import create_app
from config import Settings
from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.importers.lastfm import enrich
from recsys.importers.lastfm_profiles import load_artist_profiles
from recsys.importers.report import ImportReport
from recsys.importers.spotify_csv import read_spotify_csvs
from recsys.index import IndexPoint, TrackFilter, TrackIndex, open_index
from recsys.index.base import BlendWeights, CollabVectors
from recsys.moods import PRESETS, MoodSpec

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DB_URL = os.environ.get("MUSICREC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MUSICREC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def timed(fn: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


async def run(args: argparse.Namespace) -> dict[str, tuple[float, str]]:
    figures: dict[str, tuple[float, str]] = {}
    rss = psutil.Process()
    files = sorted(glob.glob(str(Path(args.data) / "*.csv")))
    if not files:
        print(f"no CSV files under {args.data}; nothing to measure")
        return figures
    tmp = Path(tempfile.mkdtemp(prefix="bench-recsys-"))
    schema = f"bench_{secrets.token_hex(4)}"
    settings = Settings(database_url=DB_URL, redis_url=REDIS_URL, db_schema=schema,
                        redis_prefix=f"bench:{schema}:", data_dir=tmp, demo_catalog=False,
                        secret_key="bench-secret-key-0123456789abcdef", static_dir=tmp / "none")
    app = create_app(settings)
    async with app.test_app() as running:
        state = app.extensions["musicrec"]
        assert state.index is not None and state.encoder is not None and state.engine is not None
        engine = state.engine
        await state.encoder.warm_up()

        # 1. Import, end to end.
        started = time.perf_counter()
        report = ImportReport()
        records = list(read_spotify_csvs(files, report))
        if args.quick:
            records = records[: args.quick_rows]
        if args.lastfm_ok:
            profiles = load_artist_profiles(args.lastfm)
            for record in records:
                enrich(record, profiles)
        stored = await import_records(state.db, state.index, state.encoder, records, batch_size=2000)
        import_s = time.perf_counter() - started
        figures["import_total_s"] = (import_s, "s")
        figures["import_rows_per_s"] = (stored / import_s, "rows/s")
        opt_started = time.perf_counter()
        await state.index.optimize()
        figures["optimize_s"] = (time.perf_counter() - opt_started, "s")

        # 2. Recommendation latency at catalog size.
        rng = random.Random(7)
        moods = [MoodSpec(preset=p.id, text=None, energy=None, valence=None) for p in PRESETS]
        n = 60 if args.quick else 200
        unfiltered = await timed(lambda: engine.recommend(rng.choice(moods), TrackFilter(), 20), n)
        genres = ["rock", "pop", "country", "soul", "hip-hop", "dance"]

        filtered = await timed(filtered_query(engine, moods, genres, rng), n)
        figures["recommend_p50_ms"] = (pct(unfiltered, 50), "ms")
        figures["recommend_p99_ms"] = (pct(unfiltered, 99), "ms")
        figures["recommend_filtered_p50_ms"] = (pct(filtered, 50), "ms")
        figures["recommend_filtered_p99_ms"] = (pct(filtered, 99), "ms")

        # 2b. The same with a third vector: a synthetic 64-d collab model swapped in whole.
        figures.update(await with_collab(state, engine, moods, genres, rng, n))

        # 3. Session re-rank after feedback (what the WebSocket does per event).
        profile = await engine.new_session(moods[1], TrackFilter())
        queue = await engine.next_queue(profile, 20, None)
        rerank: list[float] = []
        for i in range(n):
            track = queue[i % len(queue)]
            action = "like" if i % 3 == 0 else "skip"
            start = time.perf_counter()
            await engine.observe(profile, track.id, action)
            queue = await engine.next_queue(profile, 20, track.id)
            rerank.append((time.perf_counter() - start) * 1000)
        figures["rerank_p50_ms"] = (pct(rerank, 50), "ms")
        figures["rerank_p99_ms"] = (pct(rerank, 99), "ms")

        # 4. Quick Mix through the HTTP route: cold (new mood each time) and cached.
        client = running.test_client()
        account = {"username": f"bench_{schema}", "password": "bench password 1"}
        await client.post("/api/auth/register", json=account)
        cold: list[float] = []
        for i in range(20 if args.quick else 40):
            body = {"text": f"bench mood {i} {rng.choice(['calm', 'dance', 'rain', 'party'])}", "size": 30}
            start = time.perf_counter()
            await client.post("/api/quickmix", json=body)
            cold.append((time.perf_counter() - start) * 1000)
        body = {"mood": "chill", "size": 30}
        await client.post("/api/quickmix", json=body)
        cached = await timed(lambda: client.post("/api/quickmix", json=body), n)
        figures["quickmix_cold_p50_ms"] = (pct(cold, 50), "ms")
        figures["quickmix_cached_p50_ms"] = (pct(cached, 50), "ms")
        figures["rss_after_41k_mb"] = (rss.memory_info().rss / 2**20, "MB")

        # 5. Scale: resample the real points with noise to N tracks, filtered queries.
        ids = [r["id"] for r in await state.db.fetch("SELECT id FROM tracks ORDER BY id")]
        base = await state.index.points(ids)
        await state.db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await _drop_keys(settings)
    figures.update(await local_mode_baseline(args, list(base.values()), moods, genres,
                                             figures["recommend_filtered_p50_ms"][0]))
    figures.update(await scale(args, list(base.values()), tmp, moods, genres))
    figures["rss_peak_mb"] = (rss.memory_info().rss / 2**20, "MB")
    return figures


async def with_collab(state: Any, engine: Engine, moods: list[MoodSpec], genres: list[str],
                      rng: random.Random, n: int) -> dict[str, tuple[float, str]]:
    """Swap in a random 64-d collab model (time of the swap), then the filtered query again
    through the engine (three vectors in every point) and at index level with a collab side."""
    ids = np.array([r["id"] for r in await state.db.fetch("SELECT id FROM tracks ORDER BY id")],
                   dtype=np.int64)
    gen = np.random.default_rng(3)
    vectors = gen.normal(size=(len(ids), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model = CollabVectors("bench-1", ids, vectors, gen.uniform(0, 1, len(ids)).astype(np.float32))
    started = time.perf_counter()
    await state.index.replace_collab(model)
    swap_s = time.perf_counter() - started
    three = await timed(filtered_query(engine, moods, genres, rng), n)
    sample = await state.index.points(ids[:200].tolist())
    points = list(sample.values())

    def collab_query() -> Awaitable[Any]:
        p = rng.choice(points)
        flt = TrackFilter(genres=[rng.choice(genres)], explicit=False, year_min=1970, year_max=2010)
        return state.index.search_blend(p.text, p.audio, BlendWeights(0.4, 0.4, 0.2), flt, 60,
                                        collab_vec=p.collab, collab_version="bench-1")

    blended = await timed(collab_query, n)
    return {
        "collab_swap_s": (swap_s, "s"),
        "recommend_filtered_3vec_p50_ms": (pct(three, 50), "ms"),
        "recommend_filtered_3vec_p99_ms": (pct(three, 99), "ms"),
        "search_blend_collab_filtered_p50_ms": (pct(blended, 50), "ms"),
    }


def filtered_query(engine: Engine, moods: list[MoodSpec], genres: list[str],
                   rng: random.Random) -> Callable[[], Awaitable[Any]]:
    """A random mood under a random genre, no explicit tracks, 1970-2010: what the targets name."""

    def query() -> Awaitable[Any]:
        flt = TrackFilter(genres=[rng.choice(genres)], explicit=False, year_min=1970, year_max=2010)
        return engine.recommend(rng.choice(moods), flt, 20)

    return query


async def time_filtered(index: TrackIndex, moods: list[MoodSpec], genres: list[str],
                        rng: random.Random, n: int) -> list[float]:
    """Filtered query latencies on an index of its own (its own engine and encoder), then closes it."""
    encoder = AsyncEncoder.for_backend("onnx")
    query = filtered_query(Engine(index, encoder), moods, genres, rng)
    try:
        await query()  # the mood prompts' encodings, once
        return await timed(query, n)
    finally:
        await index.close()
        encoder.close()


async def local_mode_baseline(args: argparse.Namespace, base: list[IndexPoint], moods: list[MoodSpec],
                              genres: list[str], edge_p50: float) -> dict[str, tuple[float, str]]:
    """The same filtered queries on qdrant-client's local mode (the other in-process option:
    exact search in numpy), side by side with Qdrant Edge."""
    index = open_index(":memory:", Path("."), "baseline")
    await index.ensure()
    for start in range(0, len(base), 5000):
        await index.upsert(base[start:start + 5000])
    samples = await time_filtered(index, moods, genres, random.Random(7), 20 if args.quick else 30)
    p50 = pct(samples, 50)
    return {
        "baseline_local_mode_filtered_p50_ms": (p50, "ms"),
        "edge_speedup_vs_local_mode": (p50 / max(edge_p50, 1e-9), "x"),
    }


async def scale(args: argparse.Namespace, base: list[IndexPoint], tmp: Path, moods: list[MoodSpec],
                genres: list[str]) -> dict[str, tuple[float, str]]:
    size = args.scale if not args.quick else min(args.scale, 60_000)
    rng = np.random.default_rng(11)
    index = open_index(None, tmp / "scale", "tracks")
    await index.ensure()
    started = time.perf_counter()
    for start in range(0, size, 5000):
        batch = []
        for pid in range(start + 1, min(size, start + 5000) + 1):
            src = base[int(rng.integers(len(base)))]
            text = src.text + rng.normal(0, 0.02, src.text.shape).astype(np.float32)
            audio = src.audio + rng.normal(0, 0.05, src.audio.shape).astype(np.float32)
            batch.append(IndexPoint(id=pid, text=text / np.linalg.norm(text), audio=audio,
                                    payload={**src.payload, "id": pid}))
        await index.upsert(batch)
    upsert_s = time.perf_counter() - started
    started = time.perf_counter()
    await index.optimize()
    optimize_s = time.perf_counter() - started
    samples = await time_filtered(index, moods, genres, random.Random(3), 60 if args.quick else 200)
    return {
        "scale_tracks": (float(size), "tracks"),
        "scale_upsert_s": (upsert_s, "s"),
        "scale_optimize_s": (optimize_s, "s"),
        "recommend_scale_filtered_p50_ms": (pct(samples, 50), "ms"),
        "recommend_scale_filtered_p99_ms": (pct(samples, 99), "ms"),
    }


async def _drop_keys(settings: Settings) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    async for key in client.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
        await client.delete(key)
    await client.aclose()


TARGETS = {"import_total_s": 90, "recommend_filtered_p50_ms": 10,
           "recommend_filtered_3vec_p50_ms": 10, "recommend_scale_filtered_p50_ms": 20,
           "rerank_p50_ms": 15, "quickmix_cached_p50_ms": 2, "quickmix_cold_p50_ms": 60}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="samples, for a fast check")
    parser.add_argument("--quick-rows", type=int, default=5000)
    parser.add_argument("--scale", type=int, default=250_000)
    parser.add_argument("--data", default=str(SHARED / "spotify_hit_predictor"))
    parser.add_argument("--lastfm", default=str(SHARED / "lastfm_hetrec"))
    args = parser.parse_args()
    args.lastfm_ok = Path(args.lastfm, "artists.dat").exists()
    figures = asyncio.run(run(args))
    if not figures:
        return 0
    print(f"\n{'figure':34} {'value':>12}  unit     target")
    for name, (value, unit) in figures.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"≤ {target}  " + ("met" if value <= target else "MISSED"))
        print(f"{name:34} {value:12.2f}  {unit:8} {verdict}")
    print("(scale rows resample real vectors with noise: they measure scale, not quality)")
    for name, (value, unit) in figures.items():
        print(f"BENCH {name} {value:.3f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

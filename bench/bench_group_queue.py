"""CPU of one listening group's queue recompute: the serving process's, and its Edge host's.

    python bench/bench_group_queue.py [--tracks N] [--recomputes N] [--runs N]

A group of five on a synthetic catalog in a Qdrant Edge index (through its host, as the server
holds it): a random member likes, skips or plays through what plays, and about one event in
eight moves the group to the next track, as in `bench/ws_load.py --part groups`. After each
event ``recsys.group.group_queue`` recomputes the queue with the group's member pools kept
(recsys.group.MemberPools), as realtime/group_source.py does. Measured: the process's CPU time
per recompute (``time.process_time``: the host's own CPU, in its process, is not counted), the
first 50 left out as warm-up. The figure `make bench-ws --part groups` turns into latency: at
200 groups x 5 the server makes ~100 such recomputes a second on one core. The Edge host's
CPU (its own process, another core: it ranks and picks each list, recsys/pick.py) is read over
the measured recomputes as a whole, and reported per recompute beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.engine import Engine
from recsys.features import AUDIO_DIM
from recsys.group import Feedback, Group, GroupPick, Member, MemberPools, group_queue
from recsys.index.base import TEXT_DIM, IndexPoint
from recsys.index.edge import EdgeIndex

WARM_UP = 50
NEXT_TRACK_SHARE = 0.12
QUEUE_SIZE = 21  # realtime's QUEUE_SIZE + 1, as the group source asks


def catalog(n: int, seed: int) -> list[IndexPoint]:
    rng = np.random.default_rng(seed)
    points = []
    for i in range(1, n + 1):
        text = rng.normal(size=TEXT_DIM).astype(np.float32)
        audio = rng.random(AUDIO_DIM).astype(np.float32)
        points.append(IndexPoint(i, text / np.linalg.norm(text), audio, {
            "title": f"Song {i} (Remastered)", "artist": [f"artist {i % max(1, n // 7)}"],
            "popularity": float(i % 100), "energy": float(audio[0]), "genre": ["pop"]}))
    return points


def _children_cpu_s() -> float:
    """CPU seconds of this process's children so far (the Edge host)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            total += times.user + times.system
    return total


async def one_run(tracks: int, recomputes: int, seed: int) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory(prefix="bench-group-") as work:
        index = EdgeIndex(Path(work) / "tracks")
        await index.ensure()
        try:
            await index.upsert(catalog(tracks, seed))
            await index.optimize()
            engine = Engine(index, None)  # type: ignore[arg-type]  # no mood: no encoder call
            rng = random.Random(seed)
            members = [Member(i, f"member {i}", None) for i in range(1, 6)]
            feedback: list[Feedback] = []
            excluded: set[int] = set()
            playing = 1
            pools = MemberPools()
            queue: list[GroupPick] = []
            cpu_ms = []
            host_from = 0.0
            for n in range(recomputes + WARM_UP):
                if n == WARM_UP:
                    host_from = _children_cpu_s()
                if queue and rng.random() < NEXT_TRACK_SHARE:
                    excluded.add(playing)
                    playing = queue[0].id
                elif queue:
                    feedback.append((playing, rng.choice(("like", "skip", "complete")), rng.randint(1, 5)))
                group = Group(members=members, feedback=list(feedback), excluded=set(excluded),
                              now_playing=playing, pools=pools)
                started = time.process_time()
                queue = await group_queue(engine, group, QUEUE_SIZE)
                cpu_ms.append((time.process_time() - started) * 1000)
            host_ms = (_children_cpu_s() - host_from) * 1000 / recomputes
            return cpu_ms[WARM_UP:], host_ms
        finally:
            await index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=2000, help="synthetic tracks (ws_load's default)")
    parser.add_argument("--recomputes", type=int, default=400, help="measured recomputes per run")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh index")
    args = parser.parse_args()
    with threadpool_limits(1, "blas"):  # as the server runs (cli/boot.py)
        seeds = range(1, args.runs + 1)
        results = [asyncio.run(one_run(args.tracks, args.recomputes, seed)) for seed in seeds]
    runs = [cpu for cpu, _ in results]
    hosts = [host for _, host in results]
    print(f"{'run':<6}{'mean':>9}{'p50':>9}{'p90':>9}{'host':>9}  CPU ms per group recompute")
    print("-" * 70)
    for n, (cpu, host) in enumerate(results, start=1):
        p50, p90 = np.percentile(cpu, 50), np.percentile(cpu, 90)
        print(f"{n:<6}{statistics.fmean(cpu):>9.2f}{p50:>9.2f}{p90:>9.2f}{host:>9.2f}")
    every = [ms for cpu in runs for ms in cpu]
    means = [statistics.fmean(cpu) for cpu in runs]
    print(f"\nspread of the run means: {min(means):.2f}-{max(means):.2f} ms (server); "
          f"{min(hosts):.2f}-{max(hosts):.2f} ms (Edge host)\n")
    print(f"BENCH group_queue_cpu_mean_ms {statistics.fmean(every):.2f} ms")
    print(f"BENCH group_queue_cpu_p50_ms {np.percentile(every, 50):.2f} ms")
    print(f"BENCH group_queue_cpu_p90_ms {np.percentile(every, 90):.2f} ms")
    print(f"BENCH group_queue_host_cpu_mean_ms {statistics.fmean(hosts):.2f} ms")


if __name__ == "__main__":
    main()

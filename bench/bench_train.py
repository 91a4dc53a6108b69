"""Training time and peak memory of the collaborative model (`make bench-train`).

1. HetRec (Last.fm, 1,892 listeners, 92,834 listener x artist play counts), artist level:
   each artist is one "track" here (the matrix is what the job would see if every artist had
   one track); skipped when /work/shared/data/lastfm_hetrec is absent.
2. Synthetic events: N events from U users over T tracks (Zipf-like popularity), generated
   in chunks of 200k rows and fed chunk by chunk, never all in Python objects at once.
   Sizes from BENCH_TRAIN_SIZES (default "1000000,3000000,10000000").

Each case runs in a fresh child process so that its peak RSS is its own. Prints a table, then
``BENCH <name> <value> <unit>`` lines.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HETREC = Path(os.environ.get("MUSICREC_DATA", "/work/shared/data")) / "lastfm_hetrec" / "user_artists.dat"
CHUNK = 200_000


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_hetrec(threads: int) -> dict[str, float]:
    import numpy as np

    from recsys.collab import MatrixBuilder, TrainParams
    from recsys.collab.train import train_item_factors

    started = time.perf_counter()
    lines = HETREC.read_text().splitlines()[1:]
    triples = [tuple(int(x) for x in line.split("\t")) for line in lines if line.strip()]
    artists = sorted({a for _, a, _ in triples})
    builder = MatrixBuilder(artists)
    for start in range(0, len(triples), CHUNK):
        builder.add((f"hetrec:{u}", a, "", "complete", float(w), None)
                    for u, a, w in triples[start : start + CHUNK])
    matrix = builder.build()
    built = time.perf_counter() - started
    t = time.perf_counter()
    factors = train_item_factors(matrix.values, TrainParams(threads=threads))
    als = time.perf_counter() - t
    assert np.isfinite(factors).all()
    return {"rows": len(triples), "users": len(matrix.user_keys), "items": len(artists),
            "build_s": built, "als_s": als, "peak_mb": _peak_mb()}


def _run_synthetic(n: int, threads: int) -> dict[str, float]:
    import numpy as np

    from recsys.collab import MatrixBuilder, TrainParams
    from recsys.collab.train import train_item_factors

    users, tracks = max(n // 100, 1000), 50_000
    rng = np.random.default_rng(0)
    now = datetime.now(UTC)
    builder = MatrixBuilder(range(tracks), now=now)
    started = time.perf_counter()
    outcomes = np.array(["complete", "complete", "complete", "skip", "like", "play"])
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        u = rng.integers(0, users, size)
        t = np.minimum(rng.zipf(1.3, size) - 1, tracks - 1)
        o = outcomes[rng.integers(0, len(outcomes), size)]
        builder.add(zip([f"u:{x}" for x in u.tolist()], t.tolist(), [""] * size, o.tolist(),
                        [1.0] * size, [now] * size, strict=True))
    matrix = builder.build()
    built = time.perf_counter() - started
    t0 = time.perf_counter()
    train_item_factors(matrix.values, TrainParams(threads=threads))
    als = time.perf_counter() - t0
    return {"rows": n, "users": len(matrix.user_keys), "items": tracks, "pairs": matrix.values.nnz,
            "build_s": built, "als_s": als, "peak_mb": _peak_mb()}


def _child(case: str, threads: int) -> dict[str, float] | None:
    proc = subprocess.run([sys.executable, __file__, "--case", case, "--threads", str(threads)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"{case}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if "--case" in sys.argv:
        case = sys.argv[sys.argv.index("--case") + 1]
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
        result = _run_hetrec(threads) if case == "hetrec" else _run_synthetic(int(case), threads)
        print(json.dumps(result))
        return
    threads = int(os.environ.get("BENCH_TRAIN_THREADS", "2"))
    sizes = [int(s) for s in os.environ.get("BENCH_TRAIN_SIZES", "1000000,3000000,10000000").split(",")]
    cases = (["hetrec"] if HETREC.exists() else []) + [str(s) for s in sizes]
    if not HETREC.exists():
        print(f"HetRec not found at {HETREC}: skipped")
    results = {}
    print(f"{'case':>10} {'rows':>10} {'users':>8} {'items':>7} {'build s':>8} {'ALS s':>7} {'peak MB':>8}")
    for case in cases:
        r = _child(case, threads)
        if r is None:
            continue
        results[case] = r
        print(f"{case:>10} {int(r['rows']):>10} {int(r['users']):>8} {int(r['items']):>7} "
              f"{r['build_s']:>8.1f} {r['als_s']:>7.1f} {r['peak_mb']:>8.0f}", flush=True)
    for case, r in results.items():
        name = "hetrec" if case == "hetrec" else f"synthetic_{int(case) // 1_000_000}m"
        print(f"BENCH train_{name}_total {r['build_s'] + r['als_s']:.2f} s")
        print(f"BENCH train_{name}_als {r['als_s']:.2f} s")
        print(f"BENCH train_{name}_peak_rss {r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()

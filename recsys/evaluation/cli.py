"""`musicrec eval`: argument parsing, then the run, the files and the printed results.

The figures are printed last, as ``BENCH <name> <value> <unit>`` lines, after the table;
progress goes to stderr so that stdout holds only results.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from recsys.evaluation.charts import write_charts
from recsys.evaluation.index_cache import default_cache_dir
from recsys.evaluation.overrides import parse as parse_overrides
from recsys.evaluation.report import bench_lines, table, write_json
from recsys.evaluation.runner import PARTS, EvalConfig, run_evaluation

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_data_dir(name: str) -> Path:
    """shared/data/<name> in the working directory, next to the repository, or in /work."""
    for root in (
        Path.cwd() / "shared" / "data",
        REPO_ROOT.parent / "shared" / "data",
        Path("/work/shared/data"),
    ):
        if (root / name).is_dir():
            return root / name
    return REPO_ROOT.parent / "shared" / "data" / name


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"user ids must be integers: {text!r}") from None


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are {', '.join(PARTS)}; got {text!r}")
    return parts


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="musicrec eval",
        description="Offline evaluation on Last.fm HetRec + Spotify Hit Predictor: live re-ranking with "
        "simulated listeners, mood quality, and top-10 recommendation on listening histories.",
    )
    p.add_argument(
        "--lastfm-dir",
        type=Path,
        default=None,
        help="HetRec 2011 folder (default: shared/data/lastfm_hetrec)",
    )
    p.add_argument(
        "--spotify-dir",
        type=Path,
        default=None,
        help="folder of Hit Predictor CSVs (default: shared/data/spotify_hit_predictor)",
    )
    p.add_argument("--out", type=Path, default=Path("docs/eval"), help="where results.json and the charts go")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"built indexes are kept here (default {default_cache_dir()})",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--users", type=int, default=None, help="simulated listeners (default 200; --quick 8)")
    p.add_argument(
        "--history-users", type=int, default=None, help="users in the Last.fm part (default 1000; --quick 60)"
    )
    p.add_argument("--groups", type=int, default=None, help="listening groups of 3-5 (default 40; --quick 2)")
    p.add_argument("--user-ids", type=_ids, default=None, help="exactly these HetRec user ids, e.g. 2,3,4")
    p.add_argument("--length", type=int, default=30, help="tracks per simulated session")
    p.add_argument("--max-tracks", type=int, default=None, help="catalog cap (default none; --quick 300)")
    p.add_argument("--parts", type=_parts, default=PARTS, help="comma list of: " + ", ".join(PARTS))
    p.add_argument("--quick", action="store_true", help="a small sample: minutes become seconds")
    p.add_argument(
        "--no-immediate", action="store_true", help="skip the live session variant without the skip lag"
    )
    p.add_argument(
        "--no-optimize", action="store_true", help="do not build HNSW (exact search; faster first build)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="MODULE.NAME=VALUE",
        help="what-if: run with an engine constant changed, e.g. session.TEXT_FROM_LIKES=0.8 (repeatable)",
    )
    p.add_argument(
        "--no-collab", action="store_true",
        help="the engine without the evaluation's collab model (content vectors only)",
    )
    p.add_argument(
        "--no-fold-in", action="store_true",
        help="collab targets as averaged item vectors instead of the model's fold-in",
    )
    p.add_argument("--no-charts", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose or not args.quick else logging.WARNING,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    lastfm = args.lastfm_dir or default_data_dir("lastfm_hetrec")
    spotify = args.spotify_dir or default_data_dir("spotify_hit_predictor")
    for name, folder in (("--lastfm-dir", lastfm), ("--spotify-dir", spotify)):
        if not folder.is_dir():
            print(f"musicrec eval: {name} {folder} is not a folder", file=sys.stderr)
            return 2
    if args.length < 3 or (args.users is not None and args.users < 1):
        print("musicrec eval: --length must be at least 3 and --users at least 1", file=sys.stderr)
        return 2
    try:
        overrides = parse_overrides(args.set)
    except ValueError as exc:
        print(f"musicrec eval: {exc}", file=sys.stderr)
        return 2
    config = EvalConfig(
        lastfm_dir=lastfm,
        spotify_dir=spotify,
        out=args.out,
        cache_dir=args.cache_dir or default_cache_dir(),
        seed=args.seed,
        quick=args.quick,
        users=args.users,
        history_users=args.history_users,
        groups=args.groups,
        user_ids=args.user_ids,
        length=args.length,
        max_tracks=args.max_tracks,
        parts=args.parts,
        immediate=not args.no_immediate,
        optimize=not args.no_optimize,
        overrides=overrides,
        collab=not args.no_collab,
        fold_in=not args.no_fold_in,
    )
    try:
        results = asyncio.run(run_evaluation(config))
    except (OSError, ValueError) as exc:
        print(f"musicrec eval: {exc}", file=sys.stderr)
        return 1
    results["files"] = [str(write_json(results, args.out / "results.json"))]
    if not args.no_charts:
        results["files"] += [str(p) for p in write_charts(results, args.out)]
    print(table(results))
    print("\nwritten: " + ", ".join(results["files"]))
    print()
    for line in bench_lines(results):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

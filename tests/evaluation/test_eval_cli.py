"""`musicrec eval` end to end on the tiny fixtures, and once on the real data (if present)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from recsys.evaluation.cli import main
from tests.evaluation.conftest import REAL_DATA

REQUIRED = (
    "live_skip_rate",
    "live_skip_rate_static",
    "live_tracks_to_3_likes",
    "mood_p20",
    "mood_p20_random",
    "lastfm_ndcg10",
    "lastfm_ndcg10_popularity",
    "lastfm_ndcg10_als",
)
BENCH = re.compile(r"^BENCH (\S+) (-?\d+(?:\.\d+)?) (\S+)$")


def _bench(stdout: str) -> dict[str, tuple[float, str]]:
    lines = stdout.rstrip().splitlines()
    tail: list[str] = []
    for line in reversed(lines):  # the BENCH lines come last, all of them
        if not line.startswith("BENCH "):
            break
        tail.append(line)
    parsed = {}
    for line in reversed(tail):
        match = BENCH.match(line)
        assert match, line
        parsed[match.group(1)] = (float(match.group(2)), match.group(3))
    assert not [line for line in lines[: len(lines) - len(tail)] if line.startswith("BENCH")]
    return parsed


def _check_ranges(bench: dict[str, tuple[float, str]], length: int) -> None:
    for name in REQUIRED:
        assert name in bench, name
    for name, (value, unit) in bench.items():
        assert math.isfinite(value), name
        if unit == "ratio":
            assert 0.0 <= value <= 1.0, (name, value)
        if unit == "tracks":
            assert 3.0 <= value <= length + 1, (name, value)


@pytest.fixture(scope="module")
def tiny_run(tiny_data: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One run shared by the structure tests; returns (out folder, cache folder)."""
    root = tmp_path_factory.mktemp("eval-run")
    return root / "out", root / "cache"


def _run(tiny: tuple[Path, Path], out: Path, cache: Path, *extra: str) -> int:
    lastfm, spotify = tiny
    argv = [
        "--lastfm-dir",
        str(lastfm),
        "--spotify-dir",
        str(spotify),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
    ]
    argv += ["--users", "8", "--history-users", "30", "--no-optimize", "--seed", "3", *extra]
    return main(argv)


def test_tiny_run_output(
    tiny_data: tuple[Path, Path], tiny_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, cache = tiny_run
    assert _run(tiny_data, out, cache) == 0
    stdout = capsys.readouterr().out
    bench = _bench(stdout)
    _check_ranges(bench, 30)
    assert "1. Live re-ranking" in stdout and "2. Mood quality" in stdout and "3. Last.fm histories" in stdout

    results = json.loads((out / "results.json").read_text())
    assert {"config", "catalog", "live", "moods", "lastfm", "returning", "collab", "seconds", "bench"} <= set(
        results
    )
    assert results["catalog"]["tracks"] == 144 and results["catalog"]["artists"] == 48
    assert results["bench"]["mood_p20"]["value"] == pytest.approx(bench["mood_p20"][0], abs=1e-4)
    live = results["live"]
    assert live["listeners"] == 8
    assert set(live["policies"]) == {"live", "static", "popularity", "random", "live_immediate"}
    assert set(results["returning"]["policies"]) == {"live", "returning"}
    assert results["collab"]["excluded_listeners"] == 8
    for stats in live["policies"].values():
        assert len(stats["skip_by_position"]) == 30
        low, high = stats["skip_rate_ci95"]
        assert -0.5 <= low <= high <= 1.5  # a normal-approximation interval may leave [0, 1]
        assert all(v is None or 0.0 <= v <= 1.0 for v in stats["skip_by_position"])
    assert (
        live["policies"]["static"]["vs_live"]["ci95"][0] <= live["policies"]["static"]["vs_live"]["ci95"][1]
    )
    moods = results["moods"]
    assert {r["mood"] for r in moods["moods"]} >= {"preset:sad", "text:sad", "preset:party", "text:chill"}
    for row in moods["moods"]:
        for part in (row, row.get("strict", row)):
            for method in ("engine", "random", "popularity"):
                assert 0.0 <= part[method]["p20"] <= 1.0 and 0.0 <= part[method]["ndcg20"] <= 1.0
    assert moods["mean"]["strict"]["moods"] > 0
    assert results["lastfm"]["users"] == 30
    for method in ("engine", "popularity", "als"):
        assert 0.0 <= results["lastfm"][method]["r10"] <= 1.0
    for chart in ("skip_by_position.png", "live_summary.png", "mood_p20.png", "lastfm_ndcg10.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_easy_case_live_beats_random(tiny_run: tuple[Path, Path]) -> None:
    """Listeners who each love one of four clearly separated clusters: a session that learns
    from their skips must be skipped far less than random tracks, and tagged moods must be
    found far above the base rate although the mood words were stripped from the text."""
    results = json.loads((tiny_run[0] / "results.json").read_text())
    policies = results["live"]["policies"]
    assert policies["live"]["skip_rate"] < policies["random"]["skip_rate"] - 0.2
    assert policies["live"]["tracks_to_3_likes"] < policies["random"]["tracks_to_3_likes"]
    assert results["moods"]["mean"]["engine"]["p20"] > results["moods"]["mean"]["random"]["p20"] + 0.2
    assert results["lastfm"]["engine"]["ndcg10"] > results["lastfm"]["popularity"]["ndcg10"]


def test_rerun_reuses_the_cached_index(
    tiny_data: tuple[Path, Path], tiny_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, cache = tiny_run
    again = out.parent / "again"
    args = ("--parts", "moods,lastfm", "--no-charts", "--set", "session.TEXT_FROM_LIKES=0.45")
    assert _run(tiny_data, again, cache, *args) == 0
    bench = _bench(capsys.readouterr().out)
    first = json.loads((out / "results.json").read_text())
    second = json.loads((again / "results.json").read_text())
    assert second["catalog"]["index_cached"] is True and second["catalog"]["mood_index_cached"] is True
    assert second["config"]["overrides"] == {"session.TEXT_FROM_LIKES": 0.45}
    assert "live" not in second and "live_skip_rate" not in bench
    # Same seed, same data: the same figures.
    assert second["moods"]["mean"] == first["moods"]["mean"]
    assert second["lastfm"]["engine"] == first["lastfm"]["engine"]


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lastfm-dir", str(tmp_path / "missing"), "--spotify-dir", str(tmp_path)]) == 2
    assert "--lastfm-dir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--parts", "nonsense"])


@pytest.mark.skipif(
    not (REAL_DATA / "lastfm_hetrec" / "user_artists.dat").is_file()
    or not any((REAL_DATA / "spotify_hit_predictor").glob("*.csv")),
    reason="the real data sets (shared/data) are not available",
)
def test_real_data_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "--lastfm-dir", str(REAL_DATA / "lastfm_hetrec"),
        "--spotify-dir", str(REAL_DATA / "spotify_hit_predictor"),
        "--out", str(tmp_path / "out"),
        "--cache-dir", str(tmp_path / "cache"),
        "--quick", "--users", "4", "--history-users", "40",
        "--no-optimize", "--no-immediate", "--no-charts",
    ]  # fmt: skip
    assert main(argv) == 0
    bench = _bench(capsys.readouterr().out)
    _check_ranges(bench, 30)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["catalog"]["tracks"] == 300
    assert results["catalog"]["csv_rows"] == 41_106
    assert results["moods"]["moods"], "some moods have enough tagged artists even in the quick catalog"

"""`musicrec eval --parts groups` end to end on the tiny fixtures: groups of simulated listeners
share one queue, under three policies, and every figure is printed as a BENCH line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.evaluation.cli import main
from recsys.evaluation.groups import form_groups
from recsys.evaluation.listeners import Listener
from tests.evaluation.test_eval_cli import _bench


def test_groups_are_three_to_five_listeners_never_shared() -> None:
    people = [Listener(u, frozenset(), frozenset(), {}, 1.0, "chill", 1) for u in range(40)]
    groups = form_groups(people, 8, seed=2)
    assert len(groups) == 8 and all(3 <= len(g) <= 5 for g in groups)
    members = [m.user for g in groups for m in g]
    assert len(members) == len(set(members))
    assert form_groups(people, 8, seed=2) == groups  # seeded
    assert len(form_groups(people[:7], 8, seed=2)) <= 2  # never more than the listeners allow


def test_tiny_groups_run(
    tiny_data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lastfm, spotify = tiny_data
    out = tmp_path / "out"
    argv = ["--lastfm-dir", str(lastfm), "--spotify-dir", str(spotify), "--out", str(out),
            "--cache-dir", str(tmp_path / "cache"), "--parts", "groups", "--users", "16", "--groups", "3",
            "--length", "12", "--no-optimize", "--seed", "3"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    bench = _bench(stdout)
    assert "5. Listening together" in stdout
    for name in ("groups_keep_rate", "groups_least_keep_rate", "groups_keep_rate_host",
                 "groups_least_keep_rate_host", "groups_keep_rate_average", "groups_least_keep_rate_average"):
        assert 0.0 <= bench[name][0] <= 1.0 and bench[name][1] == "ratio", name
    assert bench["groups_groups"] == (3.0, "groups")

    part = json.loads((out / "results.json").read_text())["groups"]
    assert part["groups"] == 3 and 9 <= part["listeners"] <= 15 and part["length"] == 12
    for stats in part["policies"].values():
        assert stats["least_keep_rate"] <= stats["keep_rate"]
    assert part["policies"]["host"]["fairness_picks"] == 0 == part["policies"]["average"]["fairness_picks"]
    assert (out / "groups_keep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

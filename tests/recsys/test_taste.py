"""The long-term taste: a pure function of (vectors, outcome, age) rows, and how it steers."""

from __future__ import annotations

import numpy as np

from recsys.features import AUDIO_DIM
from recsys.session import ACTION_WEIGHTS, SessionProfile
from recsys.taste import OUTCOME_WEIGHTS, TasteRow, build_taste
from recsys.tuning import Tuning


def unit(i: int, dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[i] = 1.0
    return v


def row(outcome: str, i: int, age: float = 0.0, artist: str = "A", **extra: np.ndarray) -> TasteRow:
    return TasteRow(outcome, age, {"text": unit(i, 384), "audio": unit(i, AUDIO_DIM), **extra}, (artist,))


def test_outcome_weights_are_the_sessions() -> None:
    assert {k: ACTION_WEIGHTS[k] for k in OUTCOME_WEIGHTS} == OUTCOME_WEIGHTS


def test_no_history_no_taste() -> None:
    assert build_taste([]) is None
    assert build_taste([TasteRow("play", 0.0, {"text": unit(0)})]) is None


def test_likes_pull_skips_push_and_recent_weighs_more() -> None:
    tuning = Tuning(taste_half_life_days=10.0)
    taste = build_taste([row("like", 0, age=0.0), row("like", 1, age=20.0), row("skip", 2)], tuning)
    assert taste is not None
    # 1.0 now versus 1.0 * 0.5 ** 2 twenty days ago: the recent like dominates the pull.
    assert taste.pull["text"][0] == np.float32(0.8)
    assert abs(float(taste.pull["text"][1]) - 0.2) < 1e-6
    assert taste.push["text"][2] == 1.0 and "collab" not in taste.pull
    assert 0 < taste.pull_strength < 1 and 0 < taste.push_strength < 1


def test_every_named_vector_present_is_averaged() -> None:
    taste = build_taste([row("complete", 0, collab=unit(3, 4)), row("complete", 1)])
    assert taste is not None
    assert set(taste.pull) == {"text", "audio", "collab"}
    assert taste.pull["collab"][3] == 1.0  # averaged over the rows that carry it


def test_frequent_artists_count_plays_and_ignore_negatives() -> None:
    rows = [row("complete", 0, artist="Taking Back Sunday") for _ in range(3)]
    rows += [row("skip", 1, artist="Noise") for _ in range(5)]
    rows.append(TasteRow("complete", 400.0, {}, ("Big Import",), weight=50.0))  # artist-level import
    taste = build_taste(rows)
    assert taste is not None
    assert taste.artists[0][1] == "Big Import" and taste.artists[0][2] == 50
    assert taste.frequent_artist(["taking back sunday"], 3) == "Taking Back Sunday"
    assert taste.frequent_artist(["noise"], 1) is None
    assert taste.frequent_artist(["taking back sunday"], 4) is None


def test_an_aggregated_row_does_not_drown_the_rest() -> None:
    taste = build_taste([
        TasteRow("complete", 0.0, {"text": unit(0, 384), "audio": unit(0, AUDIO_DIM)}, weight=1000.0),
        row("complete", 1),
    ])
    assert taste is not None
    assert taste.pull["text"][1] > 0.1  # 1 + ln(1000) ~ 7.9 plays' worth, not 1000


def test_taste_is_a_weaker_pull_than_the_sessions_own_likes() -> None:
    tuning = Tuning()
    taste = build_taste([row("like", 0) for _ in range(50)], tuning)
    profile = SessionProfile(tuning=tuning, taste=taste)
    start = profile.targets()
    assert start.audio[0] > 0  # the taste alone moves a new session toward it
    # One like of something else now outweighs the whole history.
    profile.observe(99, "like", (unit(1, 384), unit(1, AUDIO_DIM)), {"title": "x", "artist": ["b"]})
    after = profile.targets()
    assert after.audio[1] > after.audio[0]
    assert SessionProfile(tuning=tuning).targets().audio[0] == 0  # a new listener: no pull

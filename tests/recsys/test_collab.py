"""The collaborative model: confidences, artist spreading, exclusions, ALS, the cold fallback."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recsys.collab import Confidences, MatrixBuilder, NotEnoughData, TrainParams, fit_model
from recsys.collab.model import COLD_CONFIDENCE

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _value(builder: MatrixBuilder, user: str, track: int) -> float:
    m = builder.build()
    row = m.user_keys.index(user)
    col = int(np.nonzero(m.track_ids == track)[0][0])
    return float(m.values[row, col])


def _log(s: float) -> float:
    return math.copysign(math.log2(1 + abs(s)), s)


def test_outcomes_give_signed_log_scaled_confidences() -> None:
    b = MatrixBuilder([1, 2, 3, 4, 5], now=NOW)
    b.add([
        ("u:1", 1, "a", "complete", 1.0, NOW),
        ("u:1", 1, "a", "complete", 1.0, NOW),
        ("u:1", 2, "a", "skip", 1.0, NOW),
        ("u:1", 3, "a", "play", 1.0, NOW),  # a play alone says nothing
        ("u:1", 4, "a", "dislike", 1.0, NOW),
        ("u:1", 5, "a", "like", 1.0, NOW),
    ])
    m = b.build()
    row = m.values[m.user_keys.index("u:1")].toarray().ravel()
    assert row[0] == pytest.approx(_log(2.0))
    assert row[1] == pytest.approx(_log(-0.5)) and row[1] < 0
    assert row[2] == 0.0
    assert row[3] == pytest.approx(_log(-3.0))
    assert row[4] == pytest.approx(_log(4.0))
    assert m.stats["ignored"] == 1


def test_unlike_cancels_an_earlier_like_and_a_later_like_counts_again() -> None:
    b = MatrixBuilder([1, 2], now=NOW)
    b.add([("u:1", 1, "a", "like", 1.0, NOW), ("u:1", 2, "a", "like", 1.0, NOW)])
    b.add([("u:1", 1, "a", "unlike", 1.0, NOW)])  # chunks keep their order
    m = b.build()
    assert m.values[0, 0] == 0.0 and m.values[0, 1] == pytest.approx(_log(4.0))
    b = MatrixBuilder([1], now=NOW)
    b.add([("u:1", 1, "a", verdict, 1, NOW) for verdict in ("like", "unlike", "like")])
    assert _value(b, "u:1", 1) == pytest.approx(_log(4.0))


def test_imported_play_counts_are_log_scaled_and_old_events_weigh_less() -> None:
    b = MatrixBuilder([1, 2, 3], now=NOW)
    b.add([
        ("hetrec:2", 1, "a", "complete", 1000.0, None),
        ("hetrec:2", 2, "a", "complete", 10.0, None),
        ("u:1", 3, "a", "complete", 1.0, NOW - timedelta(days=180)),
        ("u:9", 3, "a", "complete", 1.0, NOW),
    ])
    m = b.build()
    het = m.values[m.user_keys.index("hetrec:2")].toarray().ravel()
    undated = Confidences().undated
    assert het[0] == pytest.approx(_log(1000 * undated)) and het[1] == pytest.approx(_log(10 * undated))
    assert het[0] / het[1] < 4  # 100x the plays, not 100x the confidence
    old = m.values[m.user_keys.index("u:1"), 2]
    new = m.values[m.user_keys.index("u:9"), 2]
    assert old == pytest.approx(_log(0.5)) and new == pytest.approx(_log(1.0))


def test_artist_rows_spread_over_the_artists_tracks_by_popularity() -> None:
    artist_tracks = {"mogwai": [(10, 90.0), (11, 9.0), (12, 0.0)], "other": [(13, 50.0)]}
    b = MatrixBuilder([10, 11, 12, 13], artist_tracks, now=NOW)
    b.add([("hetrec:7", None, artist, "complete", 1.0, NOW) for artist in ("mogwai", "nobody")])
    m = b.build()
    row = m.values[0].toarray().ravel()
    shares = np.array([91.0, 10.0, 1.0]) / 102.0
    expected = [_log(0.5 * s) for s in shares]
    assert row[:3] == pytest.approx(expected, rel=1e-4)
    assert row[3] == 0.0  # another artist's track
    assert m.stats["artist_rows"] == 1 and m.stats["unknown_track"] == 1


def test_excluded_users_and_held_out_parts_never_reach_the_matrix() -> None:
    cut = NOW - timedelta(days=1)
    b = MatrixBuilder([1, 2], exclude_user_keys={"u:2"}, cutoffs={"u:1": cut}, now=NOW)
    b.add([
        ("u:1", 1, "a", "complete", 1.0, cut - timedelta(hours=1)),  # before the cut-off: trains
        ("u:1", 2, "a", "complete", 1.0, cut),  # at/after: held out
        ("u:1", 2, "a", "like", 1.0, cut + timedelta(hours=1)),
        ("u:1", 2, "a", "complete", 5.0, None),  # undated, cannot be split: held out
        ("u:2", 1, "a", "complete", 1.0, NOW - timedelta(days=30)),
        ("u:3", 2, "a", "complete", 1.0, NOW),
    ])
    m = b.build()
    assert "u:2" not in m.user_keys
    row = m.values[m.user_keys.index("u:1")].toarray().ravel()
    assert row[0] > 0 and row[1] == 0.0
    assert m.stats["excluded"] == 4


def test_unknown_tracks_are_dropped_and_counted() -> None:
    b = MatrixBuilder([1], now=NOW)
    b.add([("u:1", 999, "a", "complete", 1.0, NOW), ("u:1", 1, "a", "complete", 1.0, NOW)])
    m = b.build()
    assert m.stats["unknown_track"] == 1 and m.values.nnz == 1


def test_chunks_compact_to_the_same_matrix() -> None:
    rows = [(f"u:{i % 7}", i % 11, "a", "complete" if i % 3 else "skip", 1.0, NOW) for i in range(300)]
    one = MatrixBuilder(range(11), now=NOW)
    one.add(rows)
    many = MatrixBuilder(range(11), now=NOW, compact_every=5)
    for start in range(0, 300, 17):
        many.add(rows[start : start + 17])
    a, b = one.build(), many.build()
    assert a.user_keys == b.user_keys
    assert np.allclose(a.values.toarray(), b.values.toarray(), atol=1e-5)


def _groups_dataset(n_groups: int = 3, per_group: int = 15, users_per_group: int = 30, seed: int = 3):
    """Users who each listen inside one group of tracks; content vectors that also cluster."""
    rng = np.random.default_rng(seed)
    track_ids = list(range(1, n_groups * per_group + 1))
    group_of = {t: (t - 1) // per_group for t in track_ids}
    rows = []
    for g in range(n_groups):
        members = [t for t in track_ids if group_of[t] == g]
        for u in range(users_per_group):
            for t in rng.choice(members, size=8, replace=False):
                rows.append((f"u:{g}-{u}", int(t), "x", "complete", 1.0, NOW))
    centres = rng.normal(size=(n_groups, 384)).astype(np.float32)
    content = {}
    for t in [*track_ids, 999]:
        g = group_of.get(t, 1)  # track 999: new, content like group 1
        text = centres[g] + 0.1 * rng.normal(size=384).astype(np.float32)
        content[t] = (text / np.linalg.norm(text), rng.normal(size=5).astype(np.float32) * 0.1)
    return track_ids, group_of, rows, content


def test_co_listened_tracks_end_up_near_each_other() -> None:
    track_ids, group_of, rows, content = _groups_dataset()
    b = MatrixBuilder(track_ids, now=NOW)
    b.add(rows)
    model = fit_model(b.build(), content, TrainParams(factors=16, iterations=15))
    assert model.dim == 16
    assert np.allclose(np.linalg.norm(model.vectors, axis=1), 1.0, atol=1e-4)
    sims = model.vectors @ model.vectors.T
    ids = model.track_ids.tolist()
    correct = 0
    for i, t in enumerate(ids):
        order = [ids[j] for j in np.argsort(-sims[i]) if j != i][:5]
        correct += sum(group_of[o] == group_of[t] for o in order)
    assert correct / (5 * len(ids)) > 0.9
    assert (model.confidence > 0.5).all()  # 30 users x 8 of 15 tracks: plenty of evidence


def test_a_cold_track_gets_a_content_predicted_vector_with_low_confidence() -> None:
    track_ids, group_of, rows, content = _groups_dataset()
    b = MatrixBuilder([*track_ids, 999], now=NOW)  # 999: in the catalog, nobody listened yet
    b.add(rows)
    model = fit_model(b.build(), content, TrainParams(factors=16))
    assert 999 in model.track_ids.tolist()
    row = model.track_ids.tolist().index(999)
    assert model.confidence[row] == pytest.approx(COLD_CONFIDENCE)
    vec = model.vectors[row]
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-4)
    means = {g: np.mean([model.vector(t) for t in track_ids if group_of[t] == g], axis=0) for g in range(3)}
    closest = max(means, key=lambda g: float(vec @ means[g]))
    assert closest == 1  # its content is like group 1's


def test_too_little_data_is_refused() -> None:
    b = MatrixBuilder([1, 2], now=NOW)
    b.add([("u:1", 1, "a", "complete", 1.0, NOW)])
    with pytest.raises(NotEnoughData):
        fit_model(b.build(), {})

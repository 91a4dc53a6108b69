"""The Edge host's mirror of its rows: what was written last is what is gathered, within its
capacity."""

from __future__ import annotations

import numpy as np

from recsys.features import AUDIO_DIM
from recsys.index.base import TEXT_DIM
from recsys.index.edge_mirror import FIRST_CAPACITY, Mirror


def _row(value: float) -> tuple[np.ndarray, np.ndarray]:
    return np.full(TEXT_DIM, value, dtype=np.float32), np.full(AUDIO_DIM, value, dtype=np.float32)


def test_gather_returns_the_rows_last_written_in_the_asked_order() -> None:
    mirror = Mirror(capacity=10)
    for point in (1, 2, 3):
        mirror.put(point, {"title": f"t{point}"}, *_row(point), None)
    mirror.put(2, {"title": "rewritten"}, *_row(20.0), np.ones(4, dtype=np.float32))
    held, payloads, texts, audios, collabs = mirror.gather([3, 9, 2])
    assert held == [3, 2]  # 9 was never written
    assert payloads == [{"title": "t3"}, {"title": "rewritten"}]
    assert texts[:, 0].tolist() == [3.0, 20.0] and audios[:, -1].tolist() == [3.0, 20.0]
    assert collabs[0] is None and collabs[1] is not None and collabs[1].shape == (4,)


def test_a_dropped_point_is_gone_and_its_slot_serves_the_next() -> None:
    mirror = Mirror(capacity=10)
    mirror.put(1, {}, *_row(1.0), None)
    mirror.put(2, {}, *_row(2.0), None)
    mirror.drop(1)
    mirror.drop(7)  # never there: nothing happens
    assert 1 not in mirror and len(mirror) == 1
    mirror.put(3, {}, *_row(3.0), None)
    held, _, texts, _, _ = mirror.gather([1, 2, 3])
    assert held == [2, 3] and texts[:, 0].tolist() == [2.0, 3.0]


def test_past_its_capacity_the_oldest_written_point_makes_room() -> None:
    capacity = FIRST_CAPACITY + 5  # grows once, then reuses
    mirror = Mirror(capacity=capacity)
    for point in range(capacity + 3):
        mirror.put(point, {"n": point}, *_row(float(point)), None)
    assert len(mirror) == capacity
    assert all(p not in mirror for p in (0, 1, 2)) and all(p in mirror for p in (3, capacity + 2))
    held, payloads, texts, _, _ = mirror.gather([capacity + 2, 3])
    assert held == [capacity + 2, 3]
    assert payloads == [{"n": capacity + 2}, {"n": 3}] and texts[:, 0].tolist() == [capacity + 2.0, 3.0]
    # A rewrite counts as the newest write: 3 survives the next eviction, 4 does not.
    mirror.put(3, {"n": 3}, *_row(3.0), None)
    mirror.put(capacity + 3, {}, *_row(0.0), None)
    assert 3 in mirror and 4 not in mirror

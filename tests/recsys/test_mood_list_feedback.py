"""A one-shot mood list without a taste is re-ranked by its own best tracks (pseudo-relevance
feedback, Tuning.mood_list_feedback_weight / mood_list_feedback_tracks).

The pool: two tracks of one style that the mood's words rank first, a track of another style
just behind them, and a weaker fit of the first style. With feedback, the centroid of the top
two is that first style, so the weaker fit of it overtakes the other style; without it (weight
0, or a list a taste steers) the words' order stands. The pool is ranked again, not asked for
again: one index query either way.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.features import AUDIO_DIM
from recsys.index.base import BlendWeights, Hit, TrackFilter, TrackIndex
from recsys.moods import MoodSpec
from recsys.taste import TasteRow, build_taste
from recsys.tuning import Tuning

TEXT_DIM = 384
FIRST_A, FIRST_B, OTHER_STYLE, WEAKER_SAME_STYLE = 1, 2, 3, 4


def _unit(i: int) -> np.ndarray:
    v = np.zeros(TEXT_DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def _hit(track_id: int, score: float, style: int) -> Hit:
    payload = {"title": f"t{track_id}", "artist": [f"a{track_id}"], "popularity": 0.0}
    return Hit(track_id, score, payload, _unit(style), np.zeros(AUDIO_DIM, dtype=np.float32))


class _Pool:
    """Answers every query with the same four candidates and counts the queries."""

    def __init__(self) -> None:
        self.queries = 0

    async def search_blend(
        self, text: np.ndarray | None, audio: np.ndarray, weights: BlendWeights,
        flt: TrackFilter | None, limit: int, **_: Any,
    ) -> list[Hit]:
        self.queries += 1
        return [
            _hit(FIRST_A, 0.70, 0), _hit(FIRST_B, 0.69, 0), _hit(OTHER_STYLE, 0.62, 5),
            _hit(WEAKER_SAME_STYLE, 0.60, 0),
        ]


class _Encoder:
    """Every mood text reads as one fixed direction (the fake index ignores it anyway)."""

    async def encode_query(self, text: str) -> np.ndarray:
        return _unit(9)


async def _list(tuning: Tuning, with_taste: bool = False) -> tuple[list[int], int]:
    index = _Pool()
    engine = Engine(cast(TrackIndex, index), cast(AsyncEncoder, _Encoder()), tuning=tuning)
    taste = None
    if with_taste:
        rows = [TasteRow("like", 1.0, {"text": _unit(10), "audio": np.zeros(AUDIO_DIM, dtype=np.float32)})]
        taste = build_taste(rows, tuning)
    found, _ = await engine.recommend(MoodSpec(text="rainy"), limit=3, taste=taste)
    return [s.id for s in found], index.queries


async def test_feedback_brings_the_leading_style_forward_without_a_second_query() -> None:
    ids, queries = await _list(Tuning(mood_list_feedback_weight=2.0, mood_list_feedback_tracks=2))
    assert ids[0] == FIRST_A and set(ids) == {FIRST_A, FIRST_B, WEAKER_SAME_STYLE}
    assert queries == 1


async def test_no_feedback_at_weight_zero_or_with_a_taste() -> None:
    ids, _ = await _list(Tuning(mood_list_feedback_weight=0.0))
    assert set(ids) == {FIRST_A, FIRST_B, OTHER_STYLE}
    tuning = Tuning(mood_list_feedback_weight=2.0, mood_list_feedback_tracks=2, popularity_weight=0.0,
                    extra_vector_weight=0.0)
    ids, _ = await _list(tuning, with_taste=True)
    assert set(ids) == {FIRST_A, FIRST_B, OTHER_STYLE}

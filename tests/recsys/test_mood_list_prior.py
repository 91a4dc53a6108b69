"""A one-shot mood list without a taste has a popularity prior of its own.

Two candidates: a closer fit nobody knows, and a slightly weaker fit everybody knows. Which one
leads says which prior ranked the list: Tuning.mood_list_popularity_weight for a list from the
mood alone, Tuning.popularity_weight once a listener's taste steers it (as in live sessions).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.features import AUDIO_DIM
from recsys.index.base import BlendWeights, Hit, TrackFilter, TrackIndex
from recsys.taste import TasteRow, build_taste
from recsys.tuning import Tuning

TEXT_DIM = 384
UNKNOWN_FIT, KNOWN_FIT = 1, 2


def _unit(i: int) -> np.ndarray:
    v = np.zeros(TEXT_DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def _hit(track_id: int, score: float, popularity: float) -> Hit:
    payload = {"title": f"t{track_id}", "artist": [f"a{track_id}"], "popularity": popularity}
    return Hit(track_id, score, payload, _unit(track_id), np.zeros(AUDIO_DIM, dtype=np.float32))


class _TwoHits:
    """An index that answers every query with the same two candidates: 0.60 unknown, 0.55
    known (a prior of 0.1 is enough to put the known one first)."""

    async def search_blend(
        self, text: np.ndarray | None, audio: np.ndarray, weights: BlendWeights,
        flt: TrackFilter | None, limit: int, **_: Any,
    ) -> list[Hit]:
        return [_hit(UNKNOWN_FIT, 0.60, 0.0), _hit(KNOWN_FIT, 0.55, 100.0)]


def _engine(tuning: Tuning) -> Engine:
    # No mood is asked, so the encoder is never called.
    return Engine(cast(TrackIndex, _TwoHits()), cast(AsyncEncoder, None), tuning=tuning)


async def _first(tuning: Tuning, with_taste: bool) -> int:
    taste = None
    if with_taste:
        rows = [TasteRow("like", 1.0, {"text": _unit(10), "audio": np.zeros(AUDIO_DIM, dtype=np.float32)})]
        taste = build_taste(rows, tuning)
        assert taste is not None
    found, _ = await _engine(tuning).recommend(None, limit=1, taste=taste)
    return found[0].id


async def test_a_mood_list_without_taste_uses_its_own_prior() -> None:
    assert await _first(Tuning(popularity_weight=1.0, mood_list_popularity_weight=0.0), False) == UNKNOWN_FIT
    assert await _first(Tuning(popularity_weight=0.0, mood_list_popularity_weight=0.1), False) == KNOWN_FIT


async def test_a_mood_list_with_taste_keeps_the_shared_prior() -> None:
    assert await _first(Tuning(popularity_weight=1.0, mood_list_popularity_weight=0.0), True) == KNOWN_FIT
    assert await _first(Tuning(popularity_weight=0.0, mood_list_popularity_weight=1.0), True) == UNKNOWN_FIT

"""The engine queries all three vectors once a session has a collab target.

The collab model here pairs clusters that share nothing in content: listeners of the
"sleep" artists also play the "edm" ones (and vice versa). A session that liked sleep
tracks must then be offered edm tracks it would never reach by sound or words, while a
track the model has never seen (no collab vector) is still recommended on its content.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from recsys.encoder import AsyncEncoder
from recsys.engine import Engine
from recsys.features import AUDIO_DIM
from recsys.index.base import CollabVectors, IndexPoint, TrackIndex
from recsys.index.edge import EdgeIndex
from recsys.moods import MoodSpec
from recsys.session import SessionProfile
from recsys.taste import TasteRow, build_taste
from recsys.tuning import Tuning

from .conftest import CLUSTERS, cluster_of

DIM = 8
# Co-listened groups: what listeners do together, unrelated to what the tracks sound like.
GROUPS = {"sleep": 0, "edm": 0, "folk": 1, "pop": 2, "rock": 3}
VERSION = "m1"


def _group_vector(cluster: str, rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[GROUPS[cluster]] = 1.0
    v += 0.05 * rng.normal(size=DIM).astype(np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _cold_ids(points: list[IndexPoint]) -> set[int]:
    """The last track of every sleep artist: never listened to, so not in the model."""
    per_artist = len(points) // (len(CLUSTERS) * 10)
    return {p.id for p in points if cluster_of(p.id) == "sleep" and p.id % per_artist == 0}


@pytest.fixture(scope="module")
async def collab_index(
    tmp_path_factory: pytest.TempPathFactory, points: list[IndexPoint]
) -> AsyncIterator[TrackIndex]:
    index = EdgeIndex(Path(tmp_path_factory.mktemp("collab-engine")) / "qdrant-edge" / "tracks")
    await index.ensure()
    await index.upsert(points)
    rng = np.random.default_rng(3)
    cold = _cold_ids(points)
    warm = [p for p in points if p.id not in cold]
    await index.replace_collab(CollabVectors(
        VERSION,
        np.array([p.id for p in warm], dtype=np.int64),
        np.stack([_group_vector(cluster_of(p.id), rng) for p in warm]),
        np.full(len(warm), 0.9, dtype=np.float32),
    ))
    yield index
    await index.close()


def _edm_share(ids: list[int]) -> float:
    return sum(cluster_of(t) == "edm" for t in ids) / max(len(ids), 1)


async def _liked_sleep_session(engine: Engine, points: list[IndexPoint]) -> SessionProfile:
    profile = await engine.new_session(None)
    liked = [p.id for p in points if cluster_of(p.id) == "sleep" and p.id not in _cold_ids(points)][:4]
    for track_id in liked:
        await engine.observe(profile, track_id, "like")
    return profile


async def test_liked_tracks_bring_their_co_listened_neighbours(
    collab_index: TrackIndex, encoder: AsyncEncoder, points: list[IndexPoint]
) -> None:
    content_only = Engine(collab_index, encoder, tuning=Tuning(collab_weight=0.0))
    plain = await content_only.next_queue(await _liked_sleep_session(content_only, points), 20)
    assert _edm_share([s.id for s in plain]) == 0.0  # sound and words never lead from sleep to edm

    engine = Engine(collab_index, encoder, tuning=Tuning(collab_weight=3.0))
    profile = await _liked_sleep_session(engine, points)
    targets = profile.targets()
    assert "collab" in targets.extra and targets.collab_version == VERSION
    queue = await engine.next_queue(profile, 20)
    # Found through the collab vector; the liked sleep tracks' content neighbours still lead.
    assert _edm_share([s.id for s in queue]) >= 0.1
    assert {cluster_of(s.id) for s in queue} <= {"sleep", "edm"}
    assert all(s.reason for s in queue)


async def test_the_vector_cache_keeps_collab(
    collab_index: TrackIndex, encoder: AsyncEncoder, points: list[IndexPoint]
) -> None:
    engine = Engine(collab_index, encoder)
    found, _ = await engine.recommend(MoodSpec(preset="sleep"), limit=10)
    cached = await engine.points([found[0].id])  # served from the cache the query filled
    assert cached[found[0].id].collab is not None


async def test_a_cold_track_is_still_recommended(
    collab_index: TrackIndex, encoder: AsyncEncoder, points: list[IndexPoint]
) -> None:
    engine = Engine(collab_index, encoder, tuning=Tuning(collab_weight=3.0))
    cold = _cold_ids(points)
    profile = await _liked_sleep_session(engine, points)
    await engine.set_mood(profile, MoodSpec(preset="sleep"))
    queue = await engine.next_queue(profile, 60)
    assert cold & {s.id for s in queue}, "a track without collab data is ranked on its content"
    # A cold track keeps exactly its content score: it is not pushed below warm tracks that
    # fit the mood no better.
    ranked = [s.id for s in queue]
    assert min(ranked.index(t) for t in cold if t in ranked) < len(ranked) // 2 + 10


async def test_a_returning_listeners_taste_queries_collab(
    collab_index: TrackIndex, encoder: AsyncEncoder, points: list[IndexPoint]
) -> None:
    engine = Engine(collab_index, encoder, tuning=Tuning(collab_weight=3.0))
    history = await engine.points(p.id for p in points if cluster_of(p.id) == "sleep")
    rows = [
        TasteRow("complete", 10.0, {"text": p.text, "audio": p.audio, "collab": p.collab}, ("x",), 5.0,
                 p.payload.get("collab_version"))
        for p in history.values() if p.collab is not None
    ]
    taste = build_taste(rows)
    assert taste is not None and taste.collab_version == VERSION
    # A returning listener who played sleep music asks for nothing in particular: the taste's
    # collab centroid also brings edm, co-listened with what they played, never reached by
    # content alone.
    found, _ = await engine.recommend(None, limit=20, taste=taste)
    content_only = Engine(collab_index, encoder, tuning=Tuning(collab_weight=0.0))
    plain, _ = await content_only.recommend(None, limit=20, taste=taste)
    assert _edm_share([s.id for s in plain]) == 0.0
    assert _edm_share([s.id for s in found]) >= 0.1


def test_collab_vectors_of_another_model_are_not_mixed() -> None:
    audio = np.zeros(AUDIO_DIM, dtype=np.float32)
    text = np.ones(384, dtype=np.float32) / np.sqrt(384)
    profile = SessionProfile()
    old = np.eye(DIM, dtype=np.float32)[0]
    new = np.eye(DIM, dtype=np.float32)[1]
    profile.observe(1, "like", (text, audio), {"collab_version": "old"}, {"collab": old})
    profile.observe(2, "like", (text, audio), {"collab_version": "new"}, {"collab": new})
    targets = profile.targets()
    assert targets.collab_version == "new"
    assert np.allclose(targets.extra["collab"], new)  # the old model's vector is left out

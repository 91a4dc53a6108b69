"""The third named vector: installed whole, read back, blended, kept across upserts, per back end."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from recsys.index.base import BlendWeights, CollabVectors, IndexPoint, TrackIndex
from recsys.index.edge import EdgeIndex
from recsys.index.server import ServerIndex

from .conftest import CLUSTERS, building, cluster_of, edge_holding

DIM = 8
QDRANT_URL = os.environ.get("MUSICREC_TEST_QDRANT_URL", "http://127.0.0.1:6333")


def _cluster_vector(cluster: str, rng: np.random.Generator) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[list(CLUSTERS).index(cluster)] = 1.0
    v += 0.05 * rng.normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _model(points: list[IndexPoint], version: str, leave_out: int = 5, seed: int = 0) -> CollabVectors:
    rng = np.random.default_rng(seed)
    ids = np.array([p.id for p in points[:-leave_out]], dtype=np.int64)
    vectors = np.stack([_cluster_vector(cluster_of(int(i)), rng) for i in ids])
    return CollabVectors(version, ids, vectors, np.full(len(ids), 0.9, dtype=np.float32))


def _server_reachable() -> bool:
    import httpx

    try:
        return httpx.get(f"{QDRANT_URL}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(params=["edge", "local", "server"])
async def index(
    request: pytest.FixtureRequest, tmp_path: Path, points: list[IndexPoint]
) -> AsyncIterator[TrackIndex]:
    idx: TrackIndex
    if request.param == "edge":
        idx = EdgeIndex(tmp_path / "qdrant-edge" / "tracks")
    elif request.param == "local":
        idx = ServerIndex("tracks", location=":memory:")
    else:
        if not _server_reachable():
            pytest.skip(f"no Qdrant server at {QDRANT_URL}")
        idx = ServerIndex(f"test_collab_{os.getpid()}_{tmp_path.name[-8:]}", url=QDRANT_URL)
    await idx.ensure()
    await idx.upsert(points)
    yield idx
    if request.param == "server":
        await idx.recreate()
    await idx.close()


async def test_no_model_yet_changes_nothing(index: TrackIndex, points: list[IndexPoint]) -> None:
    assert await index.collab_info() == (None, None)
    got = await index.vectors([points[0].id])
    assert got[points[0].id].collab is None
    text, audio = got[points[0].id]  # still unpacks as (text, audio)
    assert text.shape == points[0].text.shape and audio.shape == points[0].audio.shape
    q = points[0]
    plain = await index.search_blend(q.text, q.audio, BlendWeights(0.5, 0.5), None, 10)
    asked = await index.search_blend(q.text, q.audio, BlendWeights(0.5, 0.5, 2.0), None, 10,
                                     collab_vec=np.ones(DIM, dtype=np.float32))
    assert [(h.id, h.score) for h in plain] == [(h.id, h.score) for h in asked]


async def test_a_model_is_installed_on_every_point(index: TrackIndex, points: list[IndexPoint]) -> None:
    q = points[0]
    before = await index.search_blend(q.text, q.audio, BlendWeights(0.4, 0.6), None, 15)
    model = _model(points, "v1")
    await index.replace_collab(model)
    assert await index.collab_info() == ("v1", DIM)
    assert await index.count() == len(points)
    full = await index.points([p.id for p in points])
    rows = model.rows()
    for p in points:
        got = full[p.id]
        assert got.payload["genre"] == p.payload["genre"]  # the rest of the point is intact
        if p.id in rows:
            assert got.collab is not None and np.allclose(got.collab, model.vectors[rows[p.id]], atol=1e-5)
            assert got.payload["collab_version"] == "v1"
            assert got.payload["collab_confidence"] == pytest.approx(0.9)
        else:
            assert got.collab is None and "collab_version" not in got.payload
    assert (await index.vectors([points[1].id]))[points[1].id].collab is not None
    # A caller that passes no collab vector gets exactly what it got before.
    after = await index.search_blend(q.text, q.audio, BlendWeights(0.4, 0.6), None, 15)
    assert [(h.id, round(h.score, 5)) for h in after] == [(h.id, round(h.score, 5)) for h in before]


async def test_the_collab_side_pulls_in_what_listeners_share(
    index: TrackIndex, points: list[IndexPoint]
) -> None:
    await index.replace_collab(_model(points, "v1"))
    sleep = next(p for p in points if cluster_of(p.id) == "sleep")
    edm = _cluster_vector("edm", np.random.default_rng(1))
    content_only = await index.search_blend(sleep.text, None, BlendWeights(1.0, 0.0), None, 10)
    assert all(cluster_of(h.id) != "edm" for h in content_only)
    mixed = await index.search_blend(sleep.text, None, BlendWeights(1.0, 0.0, 5.0), None, 10,
                                     collab_vec=edm, collab_version="v1")
    assert sum(cluster_of(h.id) == "edm" for h in mixed) >= 8  # found by the collab prefetch
    assert all(h.collab is not None for h in mixed if cluster_of(h.id) == "edm")
    # Built from another model's vectors: the collab side is dropped, not mixed.
    stale = await index.search_blend(sleep.text, None, BlendWeights(1.0, 0.0, 5.0), None, 10,
                                     collab_vec=edm, collab_version="v0")
    assert [h.id for h in stale] == [h.id for h in content_only]


async def test_a_track_without_collab_data_keeps_its_content_score(
    index: TrackIndex, points: list[IndexPoint]
) -> None:
    await index.replace_collab(_model(points, "v1", leave_out=5))
    cold = points[-1]  # left out of the model
    query = cold.text
    plain = {h.id: h.score for h in await index.search_blend(query, None, BlendWeights(1.0, 0.0), None, 20)}
    blended = await index.search_blend(query, None, BlendWeights(1.0, 0.0, 3.0), None, 20,
                                       collab_vec=np.ones(DIM, dtype=np.float32))
    hit = next(h for h in blended if h.id == cold.id)
    assert hit.collab is None and hit.score == pytest.approx(plain[cold.id], abs=1e-5)


async def test_an_upsert_without_collab_keeps_the_learned_vector(
    index: TrackIndex, points: list[IndexPoint]
) -> None:
    model = _model(points, "v1")
    await index.replace_collab(model)
    p = points[3]
    changed = IndexPoint(p.id, p.text, p.audio, {**p.payload, "title": "Renamed"})
    await index.upsert([changed])
    got = (await index.points([p.id]))[p.id]
    assert got.payload["title"] == "Renamed" and got.payload["collab_version"] == "v1"
    assert got.collab is not None and np.allclose(got.collab, model.vectors[model.rows()[p.id]], atol=1e-5)


async def test_queries_during_a_swap_see_one_model(index: TrackIndex, points: list[IndexPoint]) -> None:
    await index.replace_collab(_model(points, "v1", seed=1))
    swap = asyncio.create_task(index.replace_collab(_model(points, "v2", seed=2)))
    seen: list[set[str]] = []
    q = points[10]
    while True:
        hits = await index.search_blend(q.text, q.audio, BlendWeights(0.5, 0.5, 1.0), None, 40,
                                        collab_vec=_cluster_vector("sleep", np.random.default_rng(5)))
        seen.append({h.payload["collab_version"] for h in hits if "collab_version" in h.payload})
        if swap.done():
            break
        await asyncio.sleep(0.005)
    await swap
    assert all(len(versions) == 1 for versions in seen)
    assert seen[0] in ({"v1"}, {"v2"}) and seen[-1] == {"v2"}
    assert await index.collab_info() == ("v2", DIM)
    full = await index.points([p.id for p in points])
    assert {pt.payload.get("collab_version") for pt in full.values()} == {"v2", None}


async def test_edge_keeps_the_model_across_a_restart_and_writes_made_during_the_swap(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    index = EdgeIndex(tmp_path / "shard")
    await index.ensure()
    await index.upsert(points[:-1])
    swap = await building(index, index.replace_collab(_model(points, "v1", leave_out=1)))
    await index.upsert([points[-1]])  # a new track during the build: kept, without collab
    await index.delete([points[0].id])
    await swap
    assert await index.count() == len(points) - 1
    await index.close()
    reopened = EdgeIndex(tmp_path / "shard")
    await reopened.ensure()
    try:
        assert await reopened.collab_info() == ("v1", DIM)
        got = await reopened.points([points[1].id, points[-1].id, points[0].id])
        assert set(got) == {points[1].id, points[-1].id}
        assert got[points[1].id].collab is not None and got[points[-1].id].collab is None
        assert not (tmp_path / "shard.collab").exists() and not (tmp_path / "shard.old").exists()
    finally:
        await reopened.close()


async def test_edge_reads_after_a_swap_from_memory_are_what_a_fresh_reader_gets(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    async with edge_holding(tmp_path / "shard", points) as index:
        await index.replace_collab(_model(points, "v1", seed=1))
        ids = [p.id for p in points]
        await index.points(ids)  # every row remembered under v1
        swap = await building(index, index.replace_collab(_model(points, "v2", seed=2, leave_out=8)))
        p = points[2]
        renamed = IndexPoint(p.id, p.text, p.audio, {**p.payload, "title": "New"})
        await index.upsert([renamed])  # during the build: replayed on the v2 shard
        await swap
        remembered = await index.points(ids)  # brought up to v2 from the model in memory
        fresh = EdgeIndex(tmp_path / "shard")
        await index.close()
        await fresh.ensure()
        try:
            stored = await fresh.points(ids)
        finally:
            await fresh.close()
    assert set(remembered) == set(stored) == set(ids)
    assert remembered[points[2].id].payload["title"] == "New"
    for i in ids:
        a, b = remembered[i], stored[i]
        assert a.payload.keys() == b.payload.keys(), i
        for key, value in a.payload.items():
            assert value == (pytest.approx(b.payload[key]) if isinstance(value, float) else b.payload[key])
        assert (a.collab is None) == (b.collab is None), i
        if a.collab is not None and b.collab is not None:
            assert np.allclose(a.collab, b.collab, atol=1e-6)
        assert np.allclose(a.text, b.text) and np.allclose(a.audio, b.audio)
    assert {p.payload.get("collab_version") for p in remembered.values()} == {"v2", None}

"""The same contract, run against Qdrant Edge (on disk) and qdrant-client local mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from recsys.catalog import CatalogTrack
from recsys.encoder import AsyncEncoder
from recsys.features import audio_vector
from recsys.index import open_index
from recsys.index.base import BlendWeights, IndexPoint, TrackFilter, TrackIndex, TrackIndexError
from recsys.index.builder import index_tracks
from recsys.index.edge import EdgeIndex
from recsys.index.server import ServerIndex

from .conftest import building, cluster_of, edge_holding


def _point(points: list[IndexPoint], track_id: int) -> IndexPoint:
    return next(p for p in points if p.id == track_id)


async def test_count_and_payload(index: TrackIndex, catalog: list[CatalogTrack]) -> None:
    assert await index.count() == len(catalog)
    assert await index.health()
    payloads = await index.payloads([1, 7, 99999])
    assert set(payloads) == {1, 7}
    p = payloads[7]
    assert p["explicit"] is True and payloads[1]["explicit"] is False  # bools on the way out
    assert p["artist"] == ["sleep artist 1"] and p["genre"] == ["ambient"]
    assert {
        "id",
        "title",
        "year",
        "popularity",
        "energy",
        "valence",
        "tempo",
        "danceability",
        "acousticness",
    } <= set(p)


async def test_filters_hold(index: TrackIndex, points: list[IndexPoint]) -> None:
    query = _point(points, 1).text
    flt = TrackFilter(genres=["Folk", "pop"], explicit=False, year_min=1990, year_max=2005)
    hits = await index.search("text", query, flt, limit=100)
    assert hits
    for h in hits:
        assert set(h.payload["genre"]) & {"folk", "pop"}
        assert h.payload["explicit"] is False
        assert 1990 <= h.payload["year"] <= 2005
        assert flt.matches(h.payload)
    banned = TrackFilter(artists_not=["Sleep Artist 0"], exclude_ids={2, 3})
    hits = await index.search("audio", _point(points, 1).audio, banned, limit=30)
    assert all("sleep artist 0" not in h.payload["artist"] for h in hits)
    assert not {h.id for h in hits} & {1, 2, 3}


async def test_search_scores_are_higher_better(index: TrackIndex, points: list[IndexPoint]) -> None:
    target = _point(points, 70)
    for using, vec in (("text", target.text), ("audio", target.audio)):
        hits = await index.search(using, vec, limit=10)  # type: ignore[arg-type]
        # The track itself scores 1; a track described the same way (the text line holds only
        # style and feel, recsys/text.py) may tie with it.
        twins = {h.id for h in hits if h.score == pytest.approx(1.0, abs=1e-3)}
        assert 70 in twins and hits[0].score == pytest.approx(1.0, abs=1e-3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_search_blend(index: TrackIndex, points: list[IndexPoint]) -> None:
    # Unsaid features sit at "typical", so a target names the ones that define the cluster.
    calm = audio_vector(
        {"energy": 0.1, "acousticness": 0.9, "instrumentalness": 0.85, "tempo": 68.0, "loudness": -22.0}
    )
    hits = await index.search_blend(None, calm, BlendWeights(0.0, 1.0), TrackFilter(), limit=15)
    assert len(hits) == 15 and all(cluster_of(h.id) == "sleep" for h in hits)
    assert all(h.text is not None and h.audio is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Same call, same order (ties broken by id): Quick Mix caching depends on it.
    again = await index.search_blend(None, calm, BlendWeights(0.0, 1.0), TrackFilter(), limit=15)
    assert [h.id for h in again] == [h.id for h in hits]
    # Text and audio together, under a filter.
    loud = audio_vector({"energy": 0.95, "danceability": 0.9, "tempo": 135.0})
    flt = TrackFilter(genres=["edm", "rock"], explicit=False)
    both = await index.search_blend(_point(points, 61).text, loud, BlendWeights(0.2, 0.8), flt, limit=20)
    assert both and all(flt.matches(h.payload) for h in both)
    assert sum(cluster_of(h.id) == "edm" for h in both) >= 15


async def test_recommend_positives_and_negatives_move_results(
    index: TrackIndex, points: list[IndexPoint]
) -> None:
    folk = [_point(points, i) for i in (121, 128, 135)]
    edm = [_point(points, i) for i in (61, 68)]
    hits = await index.recommend("audio", [p.audio for p in folk], [], TrackFilter(), limit=10)
    assert sum(cluster_of(h.id) == "folk" for h in hits) >= 8
    # Pointing away from folk with folk as negatives and pop as positive.
    pop = [_point(points, i) for i in (181, 190)]
    hits2 = await index.recommend(
        "text", [p.text for p in pop], [p.text for p in folk], TrackFilter(), limit=10
    )
    assert sum(cluster_of(h.id) == "pop" for h in hits2) >= 7
    assert not any(cluster_of(h.id) == "folk" for h in hits2)
    hits3 = await index.recommend(
        "audio", [p.audio for p in edm], [], TrackFilter(exclude_ids={61, 68}), limit=5
    )
    assert all(cluster_of(h.id) == "edm" and h.id not in (61, 68) for h in hits3)


async def test_vectors_delete_recreate(index: TrackIndex, points: list[IndexPoint]) -> None:
    got = await index.vectors([5, 6, 424242])
    assert set(got) == {5, 6}
    text, audio = got[5]
    assert np.allclose(text, _point(points, 5).text, atol=1e-5)
    assert np.allclose(audio, _point(points, 5).audio, atol=1e-5)
    full = await index.points([5])
    assert full[5].payload["id"] == 5
    await index.delete([5, 6])
    assert await index.count() == len(points) - 2
    assert await index.vectors([5]) == {}
    await index.recreate()
    assert await index.count() == 0
    await index.upsert(points[:3])
    assert await index.count() == 3


async def test_edge_reopens_from_disk(tmp_path: Path, points: list[IndexPoint]) -> None:
    index = open_index(None, tmp_path, "tracks", None)
    assert isinstance(index, EdgeIndex)
    await index.ensure()
    await index.upsert(points)
    before = await index.search("text", points[0].text, limit=5)
    await index.close()

    reopened = open_index(None, tmp_path, "tracks", None)
    await reopened.ensure()
    try:
        assert await reopened.count() == len(points)
        after = await reopened.search("text", points[0].text, limit=5)
        assert [h.id for h in after] == [h.id for h in before]
    finally:
        await reopened.close()


async def test_edge_optimize_swaps_and_keeps_concurrent_writes(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    async with edge_holding(tmp_path / "shard", points) as index:
        task = await building(index, index.optimize())
        # The live shard keeps answering and accepting writes while the copy is optimized.
        nearest = await index.search("text", points[0].text, limit=5)
        assert points[0].id in {h.id for h in nearest if h.score == pytest.approx(1.0, abs=1e-3)}
        extra = IndexPoint(10_001, points[0].text, points[0].audio, {**points[0].payload, "id": 10_001})
        await index.upsert([extra])
        await index.delete([2])
        await task
        assert not index.optimizing
        assert await index.count() == len(points)  # +1 upserted, -1 deleted during the build
        assert set(await index.payloads([10_001, 2])) == {10_001}
        hits = await index.search("text", points[0].text, limit=10)
        assert {points[0].id, 10_001} <= {h.id for h in hits if h.score == pytest.approx(1.0, abs=1e-3)}
        assert not (tmp_path / "shard.optimizing").exists() and not (tmp_path / "shard.old").exists()


async def test_open_index_picks_back_end(tmp_path: Path) -> None:
    memory = open_index(":memory:", tmp_path, "c", None)
    assert isinstance(memory, ServerIndex)
    await memory.ensure()
    await memory.ensure()  # idempotent
    assert await memory.count() == 0
    await memory.close()


async def test_rejects_bad_vectors(index: TrackIndex) -> None:
    with pytest.raises(ValueError):
        await index.upsert([IndexPoint(1, np.zeros(10, dtype=np.float32), np.zeros(3, dtype=np.float32), {})])


async def test_edge_recovers_from_interrupted_swap(tmp_path: Path, points: list[IndexPoint]) -> None:
    path = tmp_path / "tracks"
    index = EdgeIndex(path)
    await index.ensure()
    await index.upsert(points[:10])
    await index.close()
    # As if the process died between "live -> .old" and ".optimizing -> live".
    path.rename(tmp_path / "tracks.old")
    (tmp_path / "tracks.optimizing").mkdir()
    again = EdgeIndex(path)
    await again.ensure()
    try:
        assert await again.count() == 10
        assert not (tmp_path / "tracks.optimizing").exists()
    finally:
        await again.close()


async def test_index_tracks_in_batches(
    tmp_path: Path, catalog: list[CatalogTrack], encoder: AsyncEncoder
) -> None:
    index = EdgeIndex(tmp_path / "built")
    await index.ensure()
    progress: list[tuple[int, int]] = []
    try:
        done = await index_tracks(
            index, catalog[:50], encoder, batch=20, on_progress=lambda d, t: progress.append((d, t))
        )
        assert done == 50 and await index.count() == 50
        assert progress == [(20, 50), (40, 50), (50, 50)]
        payload = (await index.payloads([catalog[0].id]))[catalog[0].id]
        assert payload["title"] == catalog[0].title and payload["artist"] == ["sleep artist 0"]
    finally:
        await index.close()


async def test_edge_blended_search_never_serves_stale_vectors_or_payloads(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    """Blended queries read candidates from a memo; every write must keep it exact."""
    index = EdgeIndex(tmp_path / "memo")
    await index.ensure()
    await index.upsert(points)
    target = points[0]
    weights = BlendWeights(text=0.5, audio=0.5)
    try:
        first = await index.search_blend(target.text, target.audio, weights, None, 5)
        assert first[0].id == target.id

        # Rewrite the track: new title, and vectors far from where they were.
        moved = IndexPoint(id=target.id, text=-target.text, audio=target.audio + 5.0,
                           payload={**target.payload, "title": "Renamed"})
        await index.upsert([moved])
        near_old = await index.search_blend(target.text, target.audio, weights, None, 5)
        assert target.id not in [h.id for h in near_old]
        near_new = await index.search_blend(moved.text, moved.audio, weights, None, 5)
        assert near_new[0].id == target.id and near_new[0].payload["title"] == "Renamed"
        assert np.allclose(near_new[0].text, moved.text)

        await index.delete([target.id])
        after_delete = await index.search_blend(moved.text, moved.audio, weights, None, 5)
        assert target.id not in [h.id for h in after_delete]

        # A fresh process (empty memo) reads the same thing from disk.
        await index.upsert([moved])
        await index.close()
        reopened = EdgeIndex(tmp_path / "memo")
        await reopened.ensure()
        again = await reopened.search_blend(moved.text, moved.audio, weights, None, 5)
        assert again[0].id == target.id and again[0].payload["title"] == "Renamed"
        await reopened.close()
    finally:
        await index.close()


async def test_a_killed_edge_host_is_started_again_by_the_next_query(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    async with edge_holding(tmp_path / "shard", points[:20]) as index:
        before = {h.id for h in await index.search("text", points[0].text, limit=5)}
        host = index._shards._live()
        host._proc.kill()  # as the kernel's OOM killer would
        await host._proc.wait()
        after = {h.id for h in await index.search("text", points[0].text, limit=5)}
        assert after == before  # nothing written was lost: Edge replays its write-ahead log
        assert await index.count() == 20
        assert index._shards._live() is not host


async def test_an_edge_shard_that_cannot_load_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "shard"
    path.mkdir()
    (path / "edge_config.json").write_text("{ not json")
    index = EdgeIndex(path)
    with pytest.raises(TrackIndexError, match="cannot open the Edge index at"):
        await index.ensure()
    await index.close()


async def test_edge_queries_are_answered_while_a_swap_loads_the_new_shard(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    """The new shard loads in a host of its own; the old host answers until the switch."""
    async with edge_holding(tmp_path / "shard", points) as index:
        task = await building(index, index.optimize())
        answered = 0
        while not task.done():
            hits = await index.search("text", points[0].text, limit=10)
            assert points[0].id in {h.id for h in hits if h.score == pytest.approx(1.0, abs=1e-3)}
            answered += 1
            await asyncio.sleep(0.005)
        await task
        assert answered > 0
        assert await index.count() == len(points)


async def test_a_request_the_edge_host_cannot_serve_is_an_error_and_the_host_goes_on(
    tmp_path: Path, points: list[IndexPoint]
) -> None:
    async with edge_holding(tmp_path / "shard", points[:5]) as index:
        host = index._shards._live()
        with pytest.raises(TrackIndexError, match="unknown request"):
            await host.call("drop_everything")
        with pytest.raises(TrackIndexError):
            await host.call("retrieve", "not a list of ids")
        assert await index.count() == 5 and host.alive

"""A small synthetic catalog with known clusters, encoded once with the real ONNX MiniLM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from recsys.catalog import CatalogTrack
from recsys.encoder import AsyncEncoder, OnnxMiniLM
from recsys.index.base import IndexPoint, TrackIndex
from recsys.index.builder import build_points
from recsys.index.edge import EdgeIndex
from recsys.index.server import ServerIndex

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# cluster -> (genre, feature ranges, words for titles/descriptors)
CLUSTERS: dict[str, tuple[str, dict[str, tuple[float, float]], list[str]]] = {
    "sleep": (
        "ambient",
        {
            "energy": (0.03, 0.2),
            "valence": (0.15, 0.4),
            "acousticness": (0.8, 0.97),
            "instrumentalness": (0.7, 0.95),
            "danceability": (0.15, 0.35),
            "tempo": (60, 78),
            "loudness": (-26, -18),
        },
        ["drift", "lullaby", "cloud", "still water", "moonlight", "hush"],
    ),
    "edm": (
        "edm",
        {
            "energy": (0.86, 0.99),
            "valence": (0.5, 0.8),
            "danceability": (0.75, 0.92),
            "acousticness": (0.0, 0.05),
            "instrumentalness": (0.0, 0.3),
            "tempo": (126, 145),
            "loudness": (-5, -2.5),
        },
        ["bassline", "strobe", "rave", "drop", "pulse", "voltage"],
    ),
    "folk": (
        "folk",
        {
            "energy": (0.2, 0.4),
            "valence": (0.1, 0.3),
            "acousticness": (0.7, 0.92),
            "instrumentalness": (0.0, 0.2),
            "danceability": (0.3, 0.5),
            "tempo": (70, 95),
            "loudness": (-14, -9),
        },
        ["farewell", "grey harbour", "letters", "winter road", "old friend", "rain on the porch"],
    ),
    "pop": (
        "pop",
        {
            "energy": (0.6, 0.8),
            "valence": (0.75, 0.95),
            "danceability": (0.65, 0.8),
            "acousticness": (0.05, 0.3),
            "instrumentalness": (0.0, 0.05),
            "tempo": (110, 128),
            "loudness": (-7, -4),
        },
        ["sunshine", "summer love", "dancing shoes", "golden", "good times", "sweet"],
    ),
    "rock": (
        "rock",
        {
            "energy": (0.7, 0.9),
            "valence": (0.3, 0.5),
            "danceability": (0.4, 0.55),
            "acousticness": (0.0, 0.15),
            "instrumentalness": (0.0, 0.2),
            "tempo": (100, 140),
            "loudness": (-7, -4),
        },
        ["highway", "thunder", "wildfire", "iron", "rebel", "midnight engine"],
    ),
}
ARTISTS_PER_CLUSTER = 10
TRACKS_PER_ARTIST = 6


def make_catalog() -> list[CatalogTrack]:
    """300 tracks: 5 clusters x 10 artists x 6 tracks, fixed seed."""
    rng = random.Random(1234)
    tracks: list[CatalogTrack] = []
    track_id = 1
    for cluster, (genre, ranges, words) in CLUSTERS.items():
        for a in range(ARTISTS_PER_CLUSTER):
            artist = f"{cluster.title()} Artist {a}"
            for t in range(TRACKS_PER_ARTIST):
                audio = {f: round(rng.uniform(lo, hi), 3) for f, (lo, hi) in ranges.items()}
                audio["mode"] = float(rng.random() < 0.6)
                audio["speechiness"] = round(rng.uniform(0.03, 0.08), 3)
                audio["liveness"] = round(rng.uniform(0.05, 0.3), 3)
                tracks.append(
                    CatalogTrack(
                        id=track_id,
                        source="test",
                        external_id=f"{cluster}-{a}-{t}",
                        title=f"{rng.choice(words).title()} {t + 1}",
                        artists=[artist],
                        album=f"{cluster.title()} Album {a}",
                        genres=[genre],
                        year=1970 + (track_id * 7) % 51,
                        duration_ms=200_000,
                        explicit=track_id % 7 == 0,
                        popularity=float((track_id * 13) % 100),
                        audio=audio,
                        descriptors=[rng.choice(words)],
                    )
                )
                track_id += 1
    return tracks


def cluster_of(track_id: int) -> str:
    return list(CLUSTERS)[(track_id - 1) // (ARTISTS_PER_CLUSTER * TRACKS_PER_ARTIST)]


@pytest.fixture(scope="session")
def catalog() -> list[CatalogTrack]:
    return make_catalog()


@pytest.fixture(scope="session")
def onnx_model() -> OnnxMiniLM:
    return OnnxMiniLM()


@pytest.fixture(scope="session")
async def encoder(onnx_model: OnnxMiniLM) -> AsyncIterator[AsyncEncoder]:
    enc = AsyncEncoder(onnx_model)
    yield enc
    enc.close()


@pytest.fixture(scope="session")
async def points(catalog: list[CatalogTrack], encoder: AsyncEncoder) -> list[IndexPoint]:
    return await build_points(catalog, encoder)


async def _open(kind: str, tmp: Path) -> TrackIndex:
    index: TrackIndex
    if kind == "edge":
        index = EdgeIndex(tmp / "qdrant-edge" / "tracks")
    else:
        index = ServerIndex("tracks", location=":memory:")
    await index.ensure()
    return index


@pytest.fixture(params=["edge", "local"])
async def index(
    request: pytest.FixtureRequest, tmp_path: Path, points: list[IndexPoint]
) -> AsyncIterator[TrackIndex]:
    """A filled index, per back end (Qdrant Edge on disk, qdrant-client local mode)."""
    idx = await _open(request.param, tmp_path)
    await idx.upsert(points)
    yield idx
    await idx.close()


@pytest.fixture(scope="module")
def _edge_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("edge-shared")


@pytest.fixture(scope="module")
async def edge_index(_edge_dir: Path, points: list[IndexPoint]) -> AsyncIterator[TrackIndex]:
    """One filled Edge index shared by a module's read-only tests (engine tests)."""
    idx = await _open("edge", _edge_dir)
    await idx.upsert(points)
    yield idx
    await idx.close()


async def building(index: EdgeIndex, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Start an optimize or a collab swap and return once its copy is being built (or it is
    done): from then on the live shard answers and writes are kept for the replay."""
    task = asyncio.create_task(work)
    # Polling is fine here: the flag flips within milliseconds.
    while not index.optimizing and not task.done():  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    return task


@contextlib.asynccontextmanager
async def edge_holding(path: Path, points: Sequence[IndexPoint]) -> AsyncIterator[EdgeIndex]:
    """An Edge index at ``path`` holding ``points``, closed on the way out."""
    index = EdgeIndex(path)
    await index.ensure()
    await index.upsert(points)
    try:
        yield index
    finally:
        await index.close()

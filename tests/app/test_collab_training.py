"""Training end to end: PostgreSQL rows in, a collab model in the index (Edge), recorded."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from app.collab_training import retrain_due, train
from app.store import collab_models
from app.store.db import Database
from app.store.migrate import migrate
from config import Settings
from recsys.collab import TrainParams
from recsys.features import AUDIO_DIM
from recsys.index.base import TEXT_DIM, BlendWeights, IndexPoint, TrackIndex
from recsys.index.edge import EdgeIndex
from recsys.index.server import ServerIndex

GROUPS = 3
PER_GROUP = 12
PARAMS = TrainParams(factors=8, iterations=8)

_IMPORTED_SQL = """
CREATE TABLE IF NOT EXISTS imported_listens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    listener TEXT,
    track_id BIGINT REFERENCES tracks(id) ON DELETE CASCADE,
    artist TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('complete', 'skip')),
    weight REAL NOT NULL DEFAULT 1 CHECK (weight > 0),
    listened_at TIMESTAMPTZ,
    match TEXT NOT NULL CHECK (match IN ('uri', 'title', 'artist')),
    source TEXT NOT NULL,
    dedupe TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (listener IS NULL))
)
"""


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    # A schema of its own: the training reads whole tables.
    schema = f"c_{secrets.token_hex(4)}"
    assert settings.database_url is not None
    database = Database(settings.database_url, schema)
    await database.connect()
    await migrate(database)
    await database.execute(_IMPORTED_SQL)  # migration 0005 creates it where present
    yield database
    await database.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await database.close()


async def _catalog(db: Database) -> dict[int, int]:
    """Tracks in GROUPS groups (one artist each); returns track id → group."""
    group_of = {}
    for g in range(GROUPS):
        for t in range(PER_GROUP):
            track_id = await db.fetchval(
                "INSERT INTO tracks (source, external_id, title, artists, popularity)"
                " VALUES ('test', $1, $2, $3, $4) RETURNING id",
                f"{g}-{t}", f"Track {g}.{t}", [f"Artist {g}"], float(t),
            )
            group_of[int(track_id)] = g
    return group_of


async def _listen(db: Database, group_of: dict[int, int], users: int = 8) -> None:
    rng = np.random.default_rng(7)
    by_group = {g: [t for t, gg in group_of.items() if gg == g] for g in range(GROUPS)}
    for g in range(GROUPS):
        for u in range(users):
            user_id = await db.fetchval(
                "INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id",
                f"u{g}_{u}_{secrets.token_hex(3)}",
            )
            for t in rng.choice(by_group[g], size=6, replace=False):
                await db.execute(
                    "INSERT INTO listening_events (user_id, track_id, action) VALUES ($1, $2, 'complete')",
                    user_id, int(t),
                )
            await db.execute(
                "INSERT INTO listening_events (user_id, track_id, action) VALUES ($1, $2, 'like')",
                user_id, int(by_group[g][0]),
            )
        # Public listeners: one artist-level aggregate each (HetRec style).
        for listener in range(4):
            await db.execute(
                "INSERT INTO imported_listens (listener, track_id, artist, outcome, weight, match, source,"
                " dedupe) VALUES ($1, NULL, $2, 'complete', $3, 'artist', 'hetrec', $4)",
                f"hetrec:{g}-{listener}", f"artist {g}", 250.0, f"d{g}-{listener}",
            )


def _points(group_of: dict[int, int]) -> list[IndexPoint]:
    rng = np.random.default_rng(1)
    points = []
    for track_id, g in group_of.items():
        text = rng.normal(size=TEXT_DIM).astype(np.float32)
        text[g] += 8.0
        points.append(IndexPoint(track_id, text / np.linalg.norm(text),
                                 rng.normal(size=AUDIO_DIM).astype(np.float32),
                                 {"id": track_id, "title": f"t{track_id}", "artist": [f"artist {g}"],
                                  "genre": ["x"], "playable": True, "explicit": False}))
    return points


QDRANT_URL = os.environ.get("MUSICREC_TEST_QDRANT_URL", "http://127.0.0.1:6333")


def _server_reachable() -> bool:
    try:
        return httpx.get(f"{QDRANT_URL}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(params=["edge", "server"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TrackIndex]:
    idx: TrackIndex
    if request.param == "edge":
        idx = EdgeIndex(tmp_path / "qdrant-edge" / "tracks")
    else:
        if not _server_reachable():
            pytest.skip(f"no Qdrant server at {QDRANT_URL}")
        idx = ServerIndex(f"test_train_{secrets.token_hex(4)}", url=QDRANT_URL)
    await idx.ensure()
    yield idx
    await idx.close()


async def test_train_installs_a_model_on_every_point_and_records_it(db: Database, index: TrackIndex) -> None:
    group_of = await _catalog(db)
    await _listen(db, group_of)
    # A track nobody heard yet, with content like group 2: it still gets a (predicted) vector.
    new_id = int(await db.fetchval(
        "INSERT INTO tracks (source, external_id, title, artists) VALUES ('test', 'new', 'New', '{}')"
        " RETURNING id"))
    points = _points({**group_of, new_id: 2})
    await index.upsert(points)

    done = await train(db, index, PARAMS)
    assert done is not None
    version = done.model.version
    assert await index.collab_info() == (version, 8)
    stored = await index.points([p.id for p in points])
    assert all(p.collab is not None and p.payload["collab_version"] == version for p in stored.values())
    assert stored[new_id].payload["collab_confidence"] < 0.1  # cold: content-predicted
    row = await collab_models.latest(db)
    assert row is not None and row.version == version and row.dim == 8
    assert row.rows_read == GROUPS * 8 * 7 + GROUPS * 4 and row.users == GROUPS * 8 + GROUPS * 4
    assert row.params["factors"] == 8 and row.duration_s > 0
    # Co-listened tracks are close in the learned space.
    first = next(t for t, g in group_of.items() if g == 0)
    hits = await index.search("collab", stored[first].collab, limit=6)  # type: ignore[arg-type]
    assert sum(group_of.get(h.id) == 0 for h in hits) >= 5


async def test_excluded_users_do_not_reach_training(db: Database, index: TrackIndex) -> None:
    group_of = await _catalog(db)
    await _listen(db, group_of)
    await index.upsert(_points(group_of))
    users = [f"u:{r['id']}" for r in await db.fetch("SELECT id FROM users")]
    done = await train(db, index, PARAMS, exclude_user_keys=users[:5])
    assert done is not None
    assert done.model.stats["excluded"] == 5 * 7
    assert done.row.users == GROUPS * 8 - 5 + GROUPS * 4


async def test_one_instance_trains_at_a_time_and_queries_see_one_version(
    db: Database, index: TrackIndex
) -> None:
    group_of = await _catalog(db)
    await _listen(db, group_of)
    points = _points(group_of)
    await index.upsert(points)
    first = await train(db, index, PARAMS)
    assert first is not None

    second = asyncio.create_task(train(db, index, PARAMS))
    while not await db.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"):  # noqa: ASYNC110
        await asyncio.sleep(0.001)  # until the second training holds the lock
    seen: list[set[str]] = []
    while not second.done():
        hits = await index.search_blend(points[0].text, None, BlendWeights(1.0, 0.0, 1.0), None, 30,
                                        collab_vec=first.model.vectors[0])
        seen.append({h.payload.get("collab_version") for h in hits})
        if len(seen) == 1:
            assert await train(db, index, PARAMS) is None  # the advisory lock is taken
        await asyncio.sleep(0.005)
    done = await second
    assert done is not None
    assert all(len(versions) == 1 for versions in seen)
    assert {v for versions in seen for v in versions} <= {first.model.version, done.model.version}
    assert await index.collab_info() == (done.model.version, 8)


async def test_retrain_is_due_after_enough_new_events_or_a_rebuilt_index(
    db: Database, index: TrackIndex
) -> None:
    group_of = await _catalog(db)
    points = _points(group_of)
    await index.upsert(points)
    assert not await retrain_due(db, index, min_events=10)  # nothing yet
    await _listen(db, group_of, users=2)
    assert await retrain_due(db, index, min_events=10)
    assert await train(db, index, PARAMS) is not None
    assert not await retrain_due(db, index, min_events=3)
    user_id = await db.fetchval("SELECT min(id) FROM users")
    for p in points[:3]:
        await db.execute("INSERT INTO listening_events (user_id, track_id, action) VALUES ($1, $2, 'skip')",
                         user_id, p.id)
    assert await retrain_due(db, index, min_events=3)
    assert not await retrain_due(db, index, min_events=4)
    await index.recreate()  # `musicrec index rebuild`: the collab vectors are gone
    await index.upsert(points)
    assert await retrain_due(db, index, min_events=1000)


class _EngineSeat:
    """Where the serving engine keeps its fold-in (recsys.engine.Engine.use_fold_in)."""

    def __init__(self) -> None:
        self.fold_in = None

    def use_fold_in(self, fold_in: object) -> None:
        self.fold_in = fold_in  # type: ignore[assignment]


async def test_serving_picks_up_the_fold_in_of_the_model_the_index_holds(
    db: Database, index: TrackIndex
) -> None:
    from types import SimpleNamespace

    from app.collab_training import refresh_fold_in

    group_of = await _catalog(db)
    await _listen(db, group_of)
    await index.upsert(_points(group_of))
    seat = _EngineSeat()
    state = SimpleNamespace(engine=seat, index=index, db=db)
    await refresh_fold_in(state)  # type: ignore[arg-type]
    assert seat.fold_in is None, "no model yet: sessions average item vectors"

    done = await train(db, index, PARAMS)
    assert done is not None
    await refresh_fold_in(state)  # type: ignore[arg-type]
    assert seat.fold_in is not None and seat.fold_in.version == done.model.version
    # A listener who played group 0's tracks is solved next to them.
    first = [t for t, g in group_of.items() if g == 0][:4]
    stored = await index.points(first)
    vectors = np.stack([stored[t].collab for t in first])
    user = seat.fold_in.user_vector(vectors, [1.0] * len(first))
    assert user is not None
    closeness = vectors @ user / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(user))
    assert float(closeness.mean()) > 0.5

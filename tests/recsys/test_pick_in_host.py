"""The Edge host picks lists next to its vectors (recsys.pick.PickingIndex): the same lists as
the engine picking from the hits itself, and never from rows the shard no longer holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recsys.encoder import AsyncEncoder
from recsys.engine import Engine, Scored
from recsys.index.base import IndexPoint, TrackFilter
from recsys.index.edge import EdgeIndex
from recsys.moods import MoodSpec
from recsys.pick import PickingIndex
from tests.recsys.conftest import edge_holding


class HitsOnly:
    """The same index without ``search_pick``: the engine picks from its search hits."""

    def __init__(self, index: EdgeIndex) -> None:
        self._index = index

    def __getattr__(self, name: str) -> Any:
        if name == "search_pick":
            raise AttributeError(name)
        return getattr(self._index, name)


@pytest.fixture
async def edge(tmp_path: Path, points: list[IndexPoint]) -> AsyncIterator[EdgeIndex]:
    async with edge_holding(tmp_path / "tracks", points) as index:
        yield index


def _listing(tracks: list[Scored]) -> list[tuple[int, float, str]]:
    return [(t.id, round(t.score, 6), t.reason) for t in tracks]


async def test_the_host_picks_the_same_lists_as_the_engine(edge: EdgeIndex, encoder: AsyncEncoder) -> None:
    in_host, in_server = Engine(edge, encoder), Engine(HitsOnly(edge), encoder)
    assert isinstance(edge, PickingIndex) and not isinstance(in_server.index, PickingIndex)
    for mood in (MoodSpec(preset="focus"), MoodSpec(text="rainy sunday morning"), None):
        host_list, server_list = [(await e.recommend(mood, limit=12))[0] for e in (in_host, in_server)]
        assert len(host_list) == 12 and _listing(host_list) == _listing(server_list)
        host_mix, server_mix = [await e.quickmix(mood, size=15) for e in (in_host, in_server)]
        assert _listing(host_mix) == _listing(server_mix)
    # A live session, steered: likes, skips and a dislike move both the same way.
    both = [(e, await e.new_session(MoodSpec(preset="workout"))) for e in (in_host, in_server)]
    queues = [await e.next_queue(s, 10) for e, s in both]
    for step, action in enumerate(("like", "skip", "dislike", "complete", "like")):
        track = queues[0][step % len(queues[0])].id
        for e, s in both:
            await e.observe(s, track, action)
        queues = [await e.next_queue(s, 10, track) for e, s in both]
        assert _listing(queues[0]) == _listing(queues[1])


async def test_a_list_follows_every_write_to_the_shard(edge: EdgeIndex, encoder: AsyncEncoder) -> None:
    engine = Engine(edge, encoder)
    first = (await engine.recommend(MoodSpec(preset="sleep"), limit=10))[0]
    gone = first[0].id
    await edge.delete([gone])
    assert gone not in [t.id for t in (await engine.recommend(MoodSpec(preset="sleep"), limit=10))[0]]
    # A track rewritten to sound exactly like the list's best one is now among the candidates
    # (the host ranks on the rewritten vectors, not on what it read before).
    best = (await edge.points([first[1].id]))[first[1].id]
    stranger = next(t for t in (await engine.recommend(MoodSpec(preset="workout"), limit=30))[0]
                    if t.id not in {s.id for s in first})
    moved = (await edge.points([stranger.id]))[stranger.id]
    await edge.upsert([IndexPoint(moved.id, np.array(best.text), np.array(best.audio), moved.payload)])
    flt = TrackFilter(exclude_ids={best.id})
    again = (await engine.recommend(MoodSpec(preset="sleep"), flt=flt, limit=10))[0]
    assert stranger.id in [t.id for t in again]

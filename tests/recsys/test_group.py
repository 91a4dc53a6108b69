"""A group's queue rules (recsys/group.py): picks first, tastes blended, fairness, who it is for.

Clusters of the synthetic catalog (tests/recsys/conftest.py): ids 1-60 sleep, 61-120 edm,
121-180 folk, 181-240 pop, 241-300 rock; six tracks per artist.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from recsys.encoder import AsyncEncoder
from recsys.engine import Engine, named_vectors
from recsys.features import AUDIO_DIM
from recsys.group import (
    FAIR_MIN_NEGATIVE,
    FAIR_PICKS,
    FAIR_WINDOW,
    Affinity,
    Group,
    Member,
    combined_taste,
    group_events,
    group_queue,
    group_verdict,
    least_served,
    popularity_prior,
    satisfaction,
)
from recsys.index.base import IndexPoint, TrackFilter, TrackIndex
from recsys.taste import Taste, TasteRow, build_taste

from .conftest import cluster_of

SLEEP, EDM, FOLK = range(1, 61), range(61, 121), range(121, 181)


@pytest.fixture
def engine(edge_index: TrackIndex, encoder: AsyncEncoder) -> Engine:
    return Engine(edge_index, encoder)


def taste_of(points: list[IndexPoint], ids: range) -> Taste:
    """A listener who played these tracks to the end, many times."""
    by_id = {p.id: p for p in points}
    taste = build_taste([TasteRow("complete", 1.0, named_vectors(by_id[i]), weight=20.0) for i in ids])
    assert taste is not None
    return taste


def clusters(picks: list) -> Counter[str]:
    return Counter(cluster_of(p.id) for p in picks)


# -- pure rules -----------------------------------------------------------------------------


def test_the_least_served_member_is_the_one_whose_latest_reactions_were_all_skipped() -> None:
    assert FAIR_MIN_NEGATIVE == FAIR_WINDOW  # "all": one kept track among them is enough
    bad = [(100 + i, "skip" if i % 2 else "dislike", 30) for i in range(FAIR_WINDOW)]
    meh = [(200 + i, "skip", 20) for i in range(FAIR_WINDOW - 1)] + [(299, "complete", 20)]
    feedback = [(1, "like", 10), (1, "complete", 10), *meh, *bad]
    assert least_served(feedback, [10, 20, 30]) == 30
    assert least_served(feedback, [10, 20]) is None  # 30 is not present; 20 kept one lately
    assert least_served([(1, "like", 30), *bad], [10, 30]) == 30  # only the latest count
    assert least_served([*bad, (1, "like", 30)], [10, 30]) is None
    # The most negative goes first when two are unhappy: ties keep the members' order.
    assert least_served([*[(t, "skip", 40) for t, _, _ in bad], *bad], [40, 30]) == 40


def test_one_like_does_not_outweigh_three_skips() -> None:
    assert group_verdict(["like", "skip", "skip", "skip"]) == "skip"
    assert group_verdict(["like", "like"]) == "like"
    assert group_verdict(["like", "complete", "skip"]) == "complete"
    assert group_verdict(["dislike", "dislike", "skip"]) == "dislike"
    assert group_verdict(["play"]) == "play"
    # A member's verdict is their strongest reaction: a like then a complete is a like.
    feedback = [(7, "play", 1), (7, "like", 1), (7, "complete", 1), (7, "skip", 2), (8, "like", 2)]
    assert group_events(feedback) == [(7, "complete"), (8, "like")]
    # Events nobody is credited with (the session after a restart) come first, unchanged.
    assert group_events(feedback, [(3, "skip"), (7, "skip")]) == [(3, "skip"), (7, "complete"), (8, "like")]


def test_tastes_combine_with_equal_weight_and_unknown_members_make_it_fainter(
    points: list[IndexPoint],
) -> None:
    sleep, edm = taste_of(points, SLEEP), taste_of(points, EDM)
    both = combined_taste([sleep, edm])
    assert both is not None and both.artists == ()
    assert np.allclose(both.pull["audio"], (sleep.pull["audio"] + edm.pull["audio"]) / 2, atol=1e-6)
    assert both.pull_strength == pytest.approx((sleep.pull_strength + edm.pull_strength) / 2)
    with_stranger = combined_taste([sleep, None])
    assert with_stranger is not None
    assert np.allclose(with_stranger.pull["audio"], sleep.pull["audio"])
    assert with_stranger.pull_strength == pytest.approx(sleep.pull_strength / 2)
    assert combined_taste([None, None]) is None


def test_predicted_satisfaction_counts_what_the_engine_knows_beyond_sound_and_words() -> None:
    # Three tracks alike in text and audio: one close to the member's collab target (listeners
    # like them play it), one far from it, one the collab model has never seen.
    text = np.eye(4, dtype=np.float32)[0]
    audio = np.zeros(AUDIO_DIM, dtype=np.float32)
    near, far = np.array([1.0, 0.0], dtype=np.float32), np.array([0.0, 1.0], dtype=np.float32)
    tracks = [IndexPoint(i, text, audio, {"popularity": pop}, collab)
              for i, (collab, pop) in enumerate(((near, 80.0), (far, 20.0), (None, 150.0)), start=1)]
    liked = Affinity(text, audio)
    plain = satisfaction(tracks, liked, None)
    assert plain[0] == pytest.approx(plain[1]) == pytest.approx(plain[2])
    known = satisfaction(tracks, liked, None, collab=near, collab_weight=0.4)
    assert known[0] - plain[0] == pytest.approx(0.4) and known[1] == pytest.approx(plain[1])
    assert known[2] == pytest.approx(plain[2])  # no collab vector: content alone
    # The engine's popularity prior: weight per 100 points, capped at 100.
    assert popularity_prior(tracks, 0.2).tolist() == pytest.approx([0.16, 0.04, 0.2])


# -- with the engine ------------------------------------------------------------------------


async def test_members_picks_come_first_attributed_and_never_twice(engine: Engine) -> None:
    group = Group(members=[Member(1, "ann"), Member(2, "bob")], feedback=[],
                  adds=[(150, 2, "bob"), (70, 1, "ann"), (33, 1, "ann")], excluded={33}, now_playing=5)
    queue = await group_queue(engine, group, 10)
    assert [(p.id, p.added_by, p.reason) for p in queue[:2]] == [
        (150, (2, "bob"), "added by bob"), (70, (1, "ann"), "added by ann")]
    ids = [p.id for p in queue]
    assert len(queue) == 10 and len(set(ids)) == 10 and {33, 5}.isdisjoint(ids)
    assert all(p.added_by is None and p.reason.startswith("for ") for p in queue[2:])


async def test_the_members_tastes_steer_the_group_queue(engine: Engine, points: list[IndexPoint]) -> None:
    nobody = [Member(1, "ann"), Member(2, "bob")]
    strangers = await group_queue(engine, Group(members=nobody, feedback=[]), 20)
    sleepy = [Member(1, "ann", taste_of(points, SLEEP)), Member(2, "bob", taste_of(points, SLEEP[:30]))]
    together = await group_queue(engine, Group(members=sleepy, feedback=[]), 20)
    # A taste is one weak pseudo-signal: it moves the neutral start toward calm music, not all
    # the way (live feedback does the rest).
    calm = ("sleep", "folk")
    assert sum(clusters(together)[c] for c in calm) >= 15 > 5 > sum(clusters(strangers)[c] for c in calm)
    # Ann (sleep) and Bob (edm) each liked their own music here: the queue is drawn from each
    # one's own picks, so both get tracks, each named for whom it is (a track clearly closer to
    # nobody in particular would be for everyone).
    apart = [Member(1, "ann", taste_of(points, SLEEP)), Member(2, "bob", taste_of(points, EDM))]
    liked = [(1, "like", 1), (7, "like", 1), (61, "like", 2), (67, "like", 2)]
    mixed = await group_queue(engine, Group(members=apart, feedback=liked, excluded={1, 7, 61, 67}), 20)
    for pick in mixed:
        if pick.for_members == (1,):
            assert pick.reason.startswith("for ann: ") and cluster_of(pick.id) in ("sleep", "folk")
        elif pick.for_members == (2,):
            assert pick.reason.startswith("for bob: ") and cluster_of(pick.id) in ("edm", "pop", "rock")
        else:
            assert pick.for_members == () and pick.reason.startswith("for everyone")
    assert {(1,), (2,)} <= {p.for_members for p in mixed}
    # Without fairness (the average-taste queue) the one combined session lands between them,
    # nearer Bob's edm: Ann gets fewer picks of her own.
    blended = await group_queue(engine, Group(members=apart, feedback=liked, excluded={1, 7, 61, 67},
                                              fair=False), 20)
    assert sum(cluster_of(p.id) in ("sleep", "folk") for p in mixed) > sum(
        cluster_of(p.id) in ("sleep", "folk") for p in blended)


async def test_live_feedback_outweighs_the_tastes(engine: Engine, points: list[IndexPoint]) -> None:
    members = [Member(1, "ann", taste_of(points, SLEEP)), Member(2, "bob", taste_of(points, SLEEP))]
    liked = [(t, "like", m) for t in (61, 67, 73, 79) for m in (1, 2)]
    queue = await group_queue(engine, Group(members=members, feedback=liked, excluded={61, 67, 73, 79}), 10)
    assert clusters(queue)["edm"] >= 5


async def test_an_unhappy_member_pulls_the_next_picks_toward_them(
    engine: Engine, points: list[IndexPoint]
) -> None:
    # Ann and Cy like the edm the group gets; Bob, who loves folk, skipped all of it.
    members = [Member(1, "ann"), Member(2, "bob", taste_of(points, FOLK)), Member(3, "cy")]
    played = [61, 67, 73, 79, 85, 91, 97, 103][:FAIR_WINDOW]
    feedback = [(t, a, m) for t in played for m, a in ((1, "like"), (2, "skip"), (3, "complete"))]
    group = Group(members=members, feedback=feedback, excluded=set(played))
    queue = await group_queue(engine, group, 12)
    head = queue[: 2 * FAIR_PICKS]
    bobs = [p for p in head if p.for_members == (2,)]
    assert len(bobs) >= FAIR_PICKS and head[0] in bobs
    assert all(p.reason.startswith("for bob") and cluster_of(p.id) == "folk" for p in bobs)
    assert clusters(queue[FAIR_PICKS * 2:])["edm"] >= 3, "the others are not forgotten"
    # Without fairness the same group would go on with edm.
    group.fair = False
    plain = await group_queue(engine, group, 12)
    assert clusters(plain[:2 * FAIR_PICKS])["folk"] < len(bobs)


async def test_a_five_member_group_with_a_long_history_gets_a_full_queue(
    engine: Engine, points: list[IndexPoint]
) -> None:
    # Speed is measured by make bench-ws (the groups part), not here.
    members = [Member(i, f"m{i}", taste_of(points, cluster)) for i, cluster in
               enumerate((SLEEP, EDM, FOLK, range(181, 241), range(241, 301)), start=1)]
    played = list(range(3, 300, 10))  # 30 tracks heard, every member reacting to each
    feedback = [(t, "complete" if (t + m.id) % 3 else "skip", m.id) for t in played for m in members]
    group = Group(members=members, feedback=feedback, excluded=set(played))
    queue = await group_queue(engine, group, 20)
    assert len(queue) == 20 and not {q.id for q in queue} & set(played)


def test_the_artists_a_group_heard_are_listed_once_per_track_oldest_first_now_playing_last() -> None:
    from recsys.group import heard_artists

    def point(artist: str) -> IndexPoint:
        return IndexPoint(0, np.zeros(384, np.float32), np.zeros(10, np.float32), {"artist": [artist]})

    known = {1: point("a"), 2: point("b"), 3: point("c"), 4: point("d")}
    group = Group(members=[], feedback=[(4, "like", 7)], mood=None, flt=TrackFilter(),
                  events=[(1, "play"), (2, "play"), (1, "like")], excluded=set(), now_playing=3)
    assert heard_artists(group, known) == [frozenset(x) for x in ("a", "b", "d", "c")]


async def test_kept_pools_are_drawn_once_per_track_and_only_re_ranked_by_reactions_between(
    engine: Engine, points: list[IndexPoint]
) -> None:
    from recsys.group import MemberPools

    members = [Member(1, "ann", taste_of(points, SLEEP)), Member(2, "bob", taste_of(points, EDM)),
               Member(3, "cy", taste_of(points, FOLK))]
    feedback = [(1, "like", 1), (61, "complete", 2)]
    memo = MemberPools()

    def group(now_playing: int, kept: MemberPools | None = memo, company: list[Member] = members) -> Group:
        return Group(members=company, feedback=list(feedback), excluded={1, 61}, now_playing=now_playing,
                     pools=kept)

    # The track's first recompute draws every pool (three members' and the combined one), and
    # its queue is the one a recompute from scratch gives.
    first = await group_queue(engine, group(5), 15)
    assert (memo.hits, memo.misses) == (0, 4)
    assert [(p.id, p.reason) for p in first] == [(p.id, p.reason) for p in
                                                 await group_queue(engine, group(5, None), 15)]
    # Cy reacts while the track plays: no pool is drawn again, the kept candidates are re-ranked
    # for Cy's like.
    feedback.append((121, "like", 3))
    reranked = await group_queue(engine, group(5), 15)
    assert (memo.hits, memo.misses) == (4, 4)
    assert [p.id for p in reranked] != [p.id for p in first]
    # Ann's and Bob's liking and scores were kept from the first recompute: the same queue as
    # with the same pools and nothing else kept.
    pools_only = MemberPools()
    pools_only.on_track(memo._track or "")
    pools_only._entries, pools_only._combined = dict(memo._entries), memo._combined
    assert [(p.id, p.reason, p.score) for p in reranked] == [
        (p.id, p.reason, p.score) for p in await group_queue(engine, group(5, pools_only), 15)]
    # Someone arrives: their own pool and the combined one (a new company) are drawn.
    dee = Member(4, "dee", taste_of(points, range(181, 241)))
    await group_queue(engine, group(5, company=[*members, dee]), 15)
    assert (memo.hits, memo.misses) == (7, 6)
    # The next track draws every pool again, with every reaction so far: the queue is the one a
    # recompute from scratch gives.
    memo.keep_only([1, 2, 3])
    following = await group_queue(engine, group(7), 15)
    assert (memo.hits, memo.misses) == (7, 10)
    assert [(p.id, p.reason) for p in following] == [(p.id, p.reason) for p in
                                                     await group_queue(engine, group(7, None), 15)]

"""Part 4: listening together — is one shared queue fair to everyone in the group?

Groups of 3 to 5 of the live part's simulated listeners (recsys.evaluation.listeners: real
HetRec users whose tag taste decides what they keep; left out of the collab model's
training like every simulated listener), formed in a seeded order, hear one shared queue
of ``length`` tracks. The first member is the host and sets the group's mood (the preset
closest to their tags). Each member's long-term taste (recsys.taste) is built from their
*visible* artists only, as the returning part builds it (recsys.evaluation.tastes: their
imported Last.fm history); the hidden half stays hidden. Every track is heard by everyone; each member keeps
(completes, half the time also likes) or skips it by their own taste, and sends that
feedback, as their player would (``play`` first). The queue is recomputed after every track;
``ours`` as the server does it (``play_group``).

Three queues, each on the same groups:
- ``ours``: recsys.group.group_queue (what realtime/group_source.py serves): candidates from
  each member's own queue and the combined-taste queue, ranked by the members' predicted
  satisfaction with a bonus for the least served lately, and the fairness rule;
- ``host``: the host's own session (their taste, their own feedback only), as if the group
  just listened to the host's queue;
- ``average``: recsys.group.group_queue without fairness: the members' combined taste and the
  group's verdicts only.

Per group: each member's keep rate; the group's mean over members and its least-satisfied
member's rate. Reported: both, averaged over groups, per queue, and the paired per-group
difference of the least-satisfied rate between ours and the host's queue (95% interval).
The session windows mirror realtime: the group session keeps its last EVENTS_KEPT events,
the attributed list its last WHO_KEPT (realtime.group_state.WHO_KEPT; copied, as
session_sim.py copies its constants).
"""

from __future__ import annotations

import logging
import math
import random
import statistics
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recsys.engine import Engine
from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.hetrec import HetRec
from recsys.evaluation.listeners import Listener
from recsys.evaluation.metrics import mean
from recsys.evaluation.session_sim import EVENTS_KEPT, QUEUE_SIZE
from recsys.evaluation.tastes import history_taste
from recsys.group import Group, Member, MemberPools, group_queue
from recsys.moods import MoodSpec
from recsys.taste import Taste

log = logging.getLogger("musicrec.eval")

POLICIES = ("ours", "host", "average")
SIZES = (3, 4, 5)
WHO_KEPT = 200  # realtime.group_state.WHO_KEPT


@dataclass(slots=True)
class SimMember:
    listener: Listener
    taste: Taste | None

    @property
    def id(self) -> int:
        return self.listener.user


@dataclass(slots=True)
class GroupRun:
    """One group's shared session under one policy: what each member kept, in order."""

    kept: dict[int, list[bool]] = field(default_factory=dict)
    fairness_picks: int = 0  # tracks played that ours made for one unhappy member

    def rates(self) -> dict[int, float]:
        return {m: mean([1.0 if k else 0.0 for k in ks]) for m, ks in self.kept.items()}


async def member_taste(
    engine: Engine, catalog: EvalCatalog, hetrec: HetRec, listener: Listener
) -> Taste | None:
    """The listener's taste from their visible half only, as the returning part builds it
    (recsys.evaluation.tastes: an imported artist-level history of that listener)."""
    plays = hetrec.plays.get(listener.user, {})
    return await history_taste(engine, catalog, {k: plays[k] for k in listener.visible if k in plays})


def form_groups(listeners: Sequence[Listener], count: int, seed: int) -> list[list[Listener]]:
    """``count`` groups of 3 to 5 (sizes drawn, seeded), members taken in order, none twice."""
    rng = random.Random(f"{seed}:groups")
    groups: list[list[Listener]] = []
    at = 0
    while len(groups) < count:
        size = rng.choice(SIZES)
        if at + size > len(listeners):
            break
        groups.append(list(listeners[at : at + size]))
        at += size
    return groups


async def _next_track(engine: Engine, policy: str, members: Sequence[SimMember], mood: MoodSpec,
                      events: Sequence[tuple[int, str]], who: Sequence[tuple[int, str, int]],
                      excluded: set[int], playing: int | None = None,
                      pools: MemberPools | None = None) -> tuple[int | None, bool]:
    """The head of the policy's queue now, and whether it was made for one unhappy member
    (``playing``, ``pools``: what plays and the group's kept pools, as the server hands them)."""
    if policy == "host":
        host = members[0]
        profile = await engine.new_session(mood, None, host.taste)
        for track, action, member in who:
            if member == host.id:
                await engine.observe(profile, track, action)
        profile.played |= excluded
        scored = await engine.next_queue(profile, QUEUE_SIZE)
        return (scored[0].id, False) if scored else (None, False)
    group = Group(
        members=[Member(m.id, str(m.id), m.taste) for m in members], feedback=list(who), mood=mood,
        events=list(events), excluded=set(excluded), fair=policy == "ours", now_playing=playing, pools=pools,
    )
    picks = await group_queue(engine, group, QUEUE_SIZE)
    if not picks:
        return None, False
    return picks[0].id, picks[0].fair


async def play_group(engine: Engine, catalog: EvalCatalog, members: Sequence[SimMember], policy: str,
                     length: int) -> GroupRun:
    """``ours`` is played as the server serves it (realtime/group_source.py): a recompute as
    each track starts draws the candidate pools (MemberPools), the members' reactions to it
    re-rank them, and the head of that re-ranked queue plays next."""
    mood = MoodSpec(preset=members[0].listener.mood)
    events: deque[tuple[int, str]] = deque(maxlen=EVENTS_KEPT)
    who: deque[tuple[int, str, int]] = deque(maxlen=WHO_KEPT)
    excluded: set[int] = set()
    run = GroupRun(kept={m.id: [] for m in members})
    pools = MemberPools() if policy == "ours" else None
    playing: int | None = None
    for _ in range(length):
        track, fair = await _next_track(engine, policy, members, mood, list(events), list(who), excluded,
                                        playing, pools)
        if track is None:
            break
        run.fairness_picks += fair
        excluded.add(track)
        if pools is not None:
            playing = track  # the recompute as it starts: the pools for this track are drawn
            await _next_track(engine, policy, members, mood, list(events), list(who), excluded, playing,
                              pools)
        artist = catalog.artist_of.get(track)
        for m in members:
            reaction = m.listener.react(track, artist)
            run.kept[m.id].append(reaction.accepted)
            actions = ["play"] + (["like"] if reaction.liked else []) + [
                "complete" if reaction.accepted else "skip"]
            for action in actions:
                events.append((track, action))
                who.append((track, action, m.id))
    return run


def _interval(values: Sequence[float]) -> list[float]:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    half = 1.96 * spread / math.sqrt(max(len(values), 1))
    return [mean(values) - half, mean(values) + half]


def summarise(runs: Mapping[str, Sequence[GroupRun]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    least: dict[str, list[float]] = {}
    for policy, group_runs in runs.items():
        means = [mean(list(r.rates().values())) for r in group_runs]
        least[policy] = [min(r.rates().values()) for r in group_runs]
        out[policy] = {
            "keep_rate": mean(means),
            "least_keep_rate": mean(least[policy]),
            "least_keep_rate_ci95": _interval(least[policy]),
            "host_keep_rate": mean([next(iter(r.rates().values())) for r in group_runs]),
            "fairness_picks": mean([float(r.fairness_picks) for r in group_runs]),
        }
    if "ours" in least and "host" in least:
        diffs = [a - b for a, b in zip(least["ours"], least["host"], strict=True)]
        out["ours"]["vs_host_least"] = {"diff": mean(diffs), "ci95": _interval(diffs)}
    return out


async def evaluate_groups(
    engine: Engine, catalog: EvalCatalog, hetrec: HetRec, listeners: Sequence[Listener], seed: int,
    groups: int, length: int,
) -> dict[str, Any]:
    """``groups`` groups formed from the live part's simulated listeners (seeded order), each
    played under every policy."""
    order = sorted(listeners, key=lambda listener: listener.user)
    random.Random(f"{seed}:groups-users").shuffle(order)
    formed = form_groups(order, groups, seed)
    log.info("groups: %d groups of %d listeners", len(formed), sum(map(len, formed)))
    runs: dict[str, list[GroupRun]] = {p: [] for p in POLICIES}
    sizes: dict[int, int] = {}
    for n, members in enumerate(formed, start=1):
        sim = [SimMember(m, await member_taste(engine, catalog, hetrec, m)) for m in members]
        sizes[len(sim)] = sizes.get(len(sim), 0) + 1
        for policy in POLICIES:
            runs[policy].append(await play_group(engine, catalog, sim, policy, length))
        if n % 10 == 0:
            log.info("  %d/%d groups", n, len(formed))
    return {
        "groups": len(formed),
        "listeners": sum(map(len, formed)),
        "sizes": dict(sorted(sizes.items())),
        "length": length,
        "seed": seed,
        "policies": summarise(runs) if formed else {},
    }


def table_lines(part: Mapping[str, Any]) -> list[str]:
    """The part's lines of the printed table."""
    lines = [
        f"5. Listening together: {part['groups']} groups of 3-5 ({part['listeners']} simulated listeners), "
        f"{part['length']} shared tracks each; keep rate = tracks a member kept",
        f"{'queue':<10}{'mean keep':>11}{'least-satisfied':>17}{'host':>7}{'fairness picks':>16}",
    ]
    for policy, s in part["policies"].items():
        lines.append(f"{policy:<10}{s['keep_rate']:>11.3f}{s['least_keep_rate']:>17.3f}"
                     f"{s['host_keep_rate']:>7.3f}{s['fairness_picks']:>16.1f}")
    vs = part["policies"].get("ours", {}).get("vs_host_least")
    if vs:
        lines.append(f"least-satisfied, ours minus host's, per group: {vs['diff']:+.3f} "
                     f"[{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]")
    return lines


def bench_rows(part: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    """The part's BENCH figures."""
    p = part["policies"]
    if not p:
        return []
    rows = [("groups_groups", float(part["groups"]), "groups")]
    for policy, suffix in (("ours", ""), ("host", "_host"), ("average", "_average")):
        rows += [(f"groups_keep_rate{suffix}", p[policy]["keep_rate"], "ratio"),
                 (f"groups_least_keep_rate{suffix}", p[policy]["least_keep_rate"], "ratio")]
    if p["host"]["least_keep_rate"] > 0:
        ratio = p["ours"]["least_keep_rate"] / p["host"]["least_keep_rate"]
        rows.append(("groups_least_vs_host", ratio, "x"))
    return rows

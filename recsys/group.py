"""A listening group's queue: the rules, pure of Redis and PostgreSQL (realtime/group_source.py
reads the group's state and calls ``group_queue``).

Given the group's mood, the members present (each with their long-term taste where known),
every member's feedback in the group ``(track, action, member)`` and the engine:

- tracks members put next come first, in the order added, attributed (``added_by``);
- the group's picks are drawn from one queue per present member (the group's mood, their
  taste, their own feedback in the group) and the combined-taste queue (``combined_taste``:
  each member weighs the same, as the one pseudo-signal a listener's taste is; the group's
  verdict on each track it reacted to, ``group_events``: the mean of the members' own verdicts,
  so one like does not outweigh three skips); every candidate is scored by each member's
  predicted satisfaction (``satisfaction``: closeness to what they liked and their taste,
  less closeness to what they skipped here, plus what the engine ranks by beyond sound and
  words: closeness to their own session's collab target and the popularity prior,
  ``popularity_prior``), standardised per member, averaged, plus a bonus
  for the member with the lowest keep rate lately (``keep_rates``); far-apart tastes thus get
  tracks each of them loves rather than the middle between them;
- ``fair=False`` (the evaluation's average-taste baseline): the combined-taste queue alone;
- fairness (``least_served``): a present member whose latest reactions in the group were all
  skips or dislikes (FAIR_WINDOW, FAIR_MIN_NEGATIVE) gets the next FAIR_PICKS picks from a session
  of their own (the group's mood, their taste, their own feedback in the group), interleaved at
  the head of the queue, so nobody present is ignored for long; the least satisfied goes first;
- every engine pick's reason names whom it is for: a fairness pick names its member
  ("for Ann: …"); a group pick names the member(s) whose taste and liked tracks it is clearly
  closest to (``attribute``), else the member(s) whose own queue it came from, else (found in
  the combined queue, or in every member's) it is "for everyone: …"; with one member present
  the combined-taste queue alone is theirs.

Nothing here keeps state between calls: the same inputs give the same queue. A caller may
hand in ``MemberPools`` to draw the candidate pools once per track and only re-rank them on
the reactions between (see there).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recsys.diversify import similarities
from recsys.engine import ARTIST_GAP, Engine, Scored
from recsys.index.base import IndexPoint, TrackFilter, stack_rows, unit_vector
from recsys.moods import MoodSpec
from recsys.pick import popularity_prior
from recsys.session import ACTION_WEIGHTS, SessionProfile
from recsys.taste import Taste

# A member's latest FAIR_WINDOW reactions all skips/dislikes make them "not served lately".
# Chosen on the evaluation's seed 1 (docs/evaluation.md, "Listening together"): a looser rule
# (2 of 4) hands most of the queue to one member at a time and costs the group's mean.
FAIR_WINDOW = 6
FAIR_MIN_NEGATIVE = 6
FAIR_PICKS = 3  # picks made for that member at the head of the queue
NEGATIVE = ("skip", "dislike")
POSITIVE = ("like", "complete")
# A group pick is "for" the members whose affinity to it is within TIE of the best, when they
# lead every other member by at least LEAD (affinity: 0.5 text cosine + 0.5 audio closeness).
LEAD = 0.05
TIE = 0.01
# Which of one member's reactions to a track is their verdict (recsys.session's order).
# The member-pool queue (group_queue with fairness on): each pool holds POOL_PER_MEMBER tracks;
# a candidate's score is the members' mean standardised predicted satisfaction plus LEAST_BONUS
# times that of the member with the lowest keep rate over their latest LEAST_WINDOW reactions.
# NEGATIVE_WEIGHT: how much closeness to a member's skips lowers their predicted satisfaction.
# Chosen on seed 1 (docs/evaluation.md, "Listening together"): pools of 20 or a bonus of 0.5
# cost mean keep rate; 6 per pool is too few candidates; 1.0 against skips overreacts.
POOL_PER_MEMBER = 10
LEAST_WINDOW = 10
LEAST_BONUS = 0.4
NEGATIVE_WEIGHT = 0.5
# What the engine knows beyond text and audio, in each member's predicted satisfaction, as
# multiples of the engine's own weights: SATISFACTION_COLLAB x Tuning.extra_vector_weight
# (closeness to the member's own session's collab target: what listeners like them play, and
# the artists they kept here) and SATISFACTION_POPULARITY x Tuning.popularity_weight (the prior
# toward better-known tracks). Without them the engine's popularity prior and collab re-rank
# (0.4 each since issue 16) helped the combined-taste queue only, and it beat this one on the
# mean by 7 points. Chosen on seed 1 (docs/evaluation.md, "Listening together"): the full
# prior (1) lifts the mean but costs the least-satisfied member; 2 x collab adds nothing.
SATISFACTION_COLLAB = 1.0
SATISFACTION_POPULARITY = 0.5
# Artist fatigue: subtracted from a candidate's standardised score per earlier hearing of its
# artist in this group's session; and the artist spacing counts the tracks just heard, as the
# engine's own queue does. Scoring by what members kept replays the artists they kept: 8.5
# artists per 30 tracks on seed 1 without either (the average-taste queue: 13.2). Seed 1, 20
# groups: spacing alone 11.9 artists, mean/least keep 0.579/0.423; with 0.3: 12.5, 0.566/0.402;
# 0.6: 13.6, 0.575/0.427 (without either: 0.616/0.465, the price of variety).
ARTIST_REPEAT = 0.6
_PRIORITY: dict[str, int] = {"like": 2, "unlike": 2, "dislike": 2, "complete": 1, "skip": 1, "play": 0}

Feedback = tuple[int, str, int]  # (track, action, member), oldest first


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    taste: Taste | None = None


@dataclass(slots=True)
class Group:
    """What a group's queue is computed from. ``events``: the group session's own (track, action)
    list where it holds tracks nobody is credited with (after a restart); ``excluded``: tracks
    never to queue again; ``adds``: members' picks, (track, member id, name) in order added."""

    members: Sequence[Member]  # those present
    feedback: Sequence[Feedback]
    mood: MoodSpec | None = None
    flt: TrackFilter | None = None
    events: Sequence[tuple[int, str]] = ()
    excluded: set[int] = field(default_factory=set)
    now_playing: int | None = None
    adds: Sequence[tuple[int, int, str]] = ()
    fair: bool = True  # False: the combined-taste queue alone, no fairness (the evaluation's baseline)
    pools: MemberPools | None = None  # the caller's memo of member pools between recomputes


class MemberPools:
    """One group's candidate pools, kept by the caller between recomputes: drawn once per track.

    The first recompute of a track (``on_track``: a new track key, which is what plays, the
    mood, the filter and the engine's fold-in model) asks the engine for every present member's
    own pool and the combined-taste pool; the group's reactions until the next track re-rank
    those candidates (every member's predicted satisfaction is computed afresh from their
    reactions) without querying the engine again. A member who arrives meanwhile gets their own
    pool at once, and the combined pool is drawn again for the new company. Tracks blocked
    meanwhile are left out where the pools are read. So what plays next is chosen from pools
    drawn as the current track started, re-ranked with every reaction to it (the evaluation
    plays the group's queue this way, recsys/evaluation/groups.py); a reaction costs a re-rank,
    not up to six engine queries (the group benchmark's server and Edge host were CPU-bound on
    those). The index itself is not in the key: tracks imported meanwhile reach the pools at the
    next track.
    """

    def __init__(self) -> None:
        self._track: str | None = None
        self._entries: dict[int, tuple[Taste | None, list[Scored], np.ndarray | None]] = {}
        self._combined: tuple[tuple[tuple[int, Taste | None], ...], list[Scored]] | None = None
        # Within a track a reaction changes one member's verdicts: the others' liking, and their
        # scores of the same candidates (by id), are kept. The candidates' stacked vectors are
        # not: ~90 KB a group, re-stacked in well under a millisecond.
        self._likings: dict[int, tuple[tuple[tuple[int, str], ...], Taste | None, Liking]] = {}
        self._scored: dict[int, tuple[Liking, tuple[int, ...], np.ndarray | None, MemberScores]] = {}
        self.hits = 0
        self.misses = 0

    def on_track(self, key: str) -> None:
        """The pools are for the track ``key`` names; those drawn for another are dropped."""
        if key != self._track:
            self._track = key
            self._entries.clear()
            self._combined = None
            self._likings.clear()
            self._scored.clear()

    def liking(self, member: Member, verdicts: tuple[tuple[int, str], ...]) -> Liking | None:
        entry = self._likings.get(member.id)
        return entry[2] if entry is not None and entry[0] == verdicts and entry[1] is member.taste else None

    def put_liking(self, member: Member, verdicts: tuple[tuple[int, str], ...], like: Liking) -> None:
        self._likings[member.id] = (verdicts, member.taste, like)

    def scored(self, member: int, like: Liking, candidates: tuple[int, ...],
               collab: np.ndarray | None) -> MemberScores | None:
        entry = self._scored.get(member)
        if entry is None or entry[0] is not like or entry[1] != candidates or entry[2] is not collab:
            return None
        return entry[3]

    def put_scored(self, member: int, like: Liking, candidates: tuple[int, ...], collab: np.ndarray | None,
                   scored: MemberScores) -> None:
        self._scored[member] = (like, candidates, collab, scored)

    def get(self, member: Member) -> tuple[list[Scored], np.ndarray | None] | None:
        entry = self._entries.get(member.id)
        if entry is None or entry[0] is not member.taste:
            self.misses += 1
            return None
        self.hits += 1
        return entry[1], entry[2]

    def put(self, member: Member, ranked: list[Scored], collab: np.ndarray | None) -> None:
        self._entries[member.id] = (member.taste, ranked, collab)

    def get_combined(self, members: Sequence[Member]) -> list[Scored] | None:
        entry = self._combined
        company = [(m.id, m.taste) for m in members]
        if entry is None or len(entry[0]) != len(company) or any(
                a != b or t is not u for (a, t), (b, u) in zip(entry[0], company, strict=True)):
            self.misses += 1
            return None
        self.hits += 1
        return entry[1]

    def put_combined(self, members: Sequence[Member], ranked: list[Scored]) -> None:
        self._combined = (tuple((m.id, m.taste) for m in members), ranked)

    def keep_only(self, member_ids: Iterable[int]) -> None:
        """Forget members no longer present."""
        keep = set(member_ids)
        for kept in (self._entries, self._likings, self._scored):
            for gone in [m for m in kept if m not in keep]:
                del kept[gone]


@dataclass(frozen=True, slots=True)
class GroupPick:
    """One queued track: ``added_by`` for a member's pick; ``for_members`` the member ids a pick
    was made for (empty: everyone); ``fair``: made for an unhappy member by the fairness rule."""

    id: int
    score: float
    reason: str
    added_by: tuple[int, str] | None = None
    for_members: tuple[int, ...] = ()
    fair: bool = False


# -- pure rules -----------------------------------------------------------------------------


def least_served(feedback: Sequence[Feedback], present: Iterable[int]) -> int | None:
    """The present member whose latest reactions were the most negative, if any is unhappy
    (ties: the first in ``present``'s order)."""
    reactions: dict[int, list[str]] = {}
    for _, action, member in feedback:
        if action in NEGATIVE or action in POSITIVE:
            reactions.setdefault(member, []).append(action)
    worst: tuple[int, int] | None = None  # (negatives, member)
    for member in present:
        negatives = sum(a in NEGATIVE for a in reactions.get(member, [])[-FAIR_WINDOW:])
        if negatives >= FAIR_MIN_NEGATIVE and (worst is None or negatives > worst[0]):
            worst = (negatives, member)
    return None if worst is None else worst[1]


def combined_taste(tastes: Sequence[Taste | None], members: int | None = None) -> Taste | None:
    """One taste for a group: each known taste's centroids weigh the same; its strength is the
    members' mean, an unknown taste counting as none (so two strangers and one regular make a
    faint taste). ``members``: how many are present (default: len(tastes)). No artists: "you
    often play" would speak to the wrong person. Collab centroids of different models live in
    unrelated spaces: only those of the first known taste's model are averaged."""
    known = [t for t in tastes if t is not None]
    if not known:
        return None
    count = max(members if members is not None else len(tastes), len(known))
    version = next((t.collab_version for t in known if "collab" in t.pull or "collab" in t.push), None)

    def mean(side: str) -> dict[str, np.ndarray]:
        vectors: dict[str, list[np.ndarray]] = {}
        for taste in known:
            for name, v in getattr(taste, side).items():
                if name != "collab" or taste.collab_version == version:
                    vectors.setdefault(name, []).append(np.asarray(v, dtype=np.float32))
        return {name: np.mean(vs, axis=0).astype(np.float32) for name, vs in vectors.items()}

    return Taste(
        pull=mean("pull"),
        push=mean("push"),
        pull_strength=sum(t.pull_strength for t in known) / count,
        push_strength=sum(t.push_strength for t in known) / count,
        artists=(),
        rows=sum(t.rows for t in known),
        collab_version=version,
    )


def _outranks(action: str, verdict: str | None) -> bool:
    """Whether a member's ``action`` becomes their verdict on a track over ``verdict``: an
    explicit one over an outcome over a start; the later of equals."""
    return verdict is None or _PRIORITY[action] >= _PRIORITY[verdict]


def verdicts(feedback: Sequence[Feedback]) -> dict[int, dict[int, str]]:
    """track → member → that member's verdict (``_outranks``)."""
    found: dict[int, dict[int, str]] = {}
    for track, action, member in feedback:
        if action not in _PRIORITY:
            continue
        per = found.setdefault(track, {})
        if _outranks(action, per.get(member)):
            per[member] = action
    return found


def own_verdicts(feedback: Sequence[Feedback]) -> dict[int, dict[int, str]]:
    """member → track → their verdict (``_outranks``), each member's tracks in the order
    of their first reaction: every member's at once, read by ``affinity``, ``dislikes`` and
    ``keep_rates``."""
    found: dict[int, dict[int, str]] = {}
    for track, action, member in feedback:
        if action not in _PRIORITY:
            continue
        per = found.setdefault(member, {})
        if _outranks(action, per.get(track)):
            per[track] = action
    return found


def group_verdict(actions: Iterable[str]) -> str:
    """The group's action on a track from its members' verdicts: the mean of their weights
    (recsys.session.ACTION_WEIGHTS) read back as the nearest strength of the same sign."""
    weights = [ACTION_WEIGHTS[a] for a in actions if a != "play"]
    if not weights:
        return "play"
    mean = sum(weights) / len(weights)
    if mean >= 0.8:
        return "like"
    if mean > 0.0:
        return "complete"
    if mean <= -0.75:
        return "dislike"
    return "skip" if mean < 0.0 else "play"


def group_events(
    feedback: Sequence[Feedback], events: Sequence[tuple[int, str]] = ()
) -> list[tuple[int, str]]:
    """The events the group's session observes: the session's own events for tracks nobody is
    credited with, then one group verdict per credited track, in the order of its latest
    reaction."""
    per_track = verdicts(feedback)
    latest: dict[int, int] = {}
    for i, (track, _, _) in enumerate(feedback):
        latest[track] = i
    uncredited = [(t, a) for t, a in events if t not in per_track]
    credited = [(t, group_verdict(per_track[t].values())) for t in sorted(latest, key=latest.__getitem__)
                if t in per_track]
    return uncredited + credited


@dataclass(frozen=True, slots=True)
class Affinity:
    """Where one member's liking sits: the centroid of their taste and their liked tracks."""

    text: np.ndarray
    audio: np.ndarray

    def to(self, point: IndexPoint) -> float:
        return float(self.closeness(Candidates.of([point]))[0])

    def closeness(self, candidates: Candidates) -> np.ndarray:
        """Each candidate's closeness to this liking: the engine's one similarity of two tracks
        (recsys.diversify.similarities), one member against all candidates at once."""
        return similarities(candidates.text, candidates.audio, self.text, self.audio)


@dataclass(frozen=True, slots=True)
class Liking:
    """One member's liking in the group: toward their taste and liked tracks (``affinity``),
    away from what they skipped here (``dislikes``)."""

    liked: Affinity | None
    disliked: Affinity | None


def liking(member: Member, mine: Mapping[int, str], points: Mapping[int, IndexPoint], taste_weight: float,
           memo: MemberPools | None = None) -> Liking:
    """``affinity`` and ``dislikes`` of the member's verdicts ``mine``, kept in ``memo`` while
    their verdicts and taste stay the same."""
    verdicts = tuple(mine.items())
    kept = memo.liking(member, verdicts) if memo is not None else None
    if kept is None:
        kept = Liking(affinity(member, mine, points, taste_weight), dislikes(mine, points))
        if memo is not None:
            memo.put_liking(member, verdicts, kept)
    return kept


@dataclass(frozen=True, slots=True)
class MemberScores:
    """One member's view of the candidates: closeness to their liking (None without one) and
    their standardised predicted satisfaction."""

    close: np.ndarray | None
    predicted: np.ndarray


def affinity(member: Member, mine: Mapping[int, str], points: Mapping[int, IndexPoint],
             taste_weight: float) -> Affinity | None:
    """The member's liked tracks in the group (``mine``: their verdicts, ``own_verdicts``; like
    1.0, complete 0.6) and their taste's pull (at the engine's taste weight), averaged; None
    when neither is known."""
    items: list[tuple[float, np.ndarray, np.ndarray]] = []
    for track, action in mine.items():
        weight = ACTION_WEIGHTS.get(action, 0.0)
        point = points.get(track)
        if weight > 0 and point is not None:
            items.append((weight, point.text, point.audio))
    taste = member.taste
    if taste is not None and "text" in taste.pull and "audio" in taste.pull and taste.pull_strength > 0:
        items.append((taste_weight * taste.pull_strength, taste.pull["text"], taste.pull["audio"]))
    return _centroid(items)


def _centroid(items: Sequence[tuple[float, np.ndarray, np.ndarray]]) -> Affinity | None:
    """The weighted mean of (weight, text, audio) items, texts scaled to length 1 first."""
    if not items:
        return None
    weights = np.array([w for w, _, _ in items], dtype=np.float32)
    texts = stack_rows([t for _, t, _ in items])
    texts /= np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-12)
    total = float(weights.sum())
    text = (weights @ texts) / total
    audio = (weights @ stack_rows([a for _, _, a in items])) / total
    return Affinity(unit_vector(text.astype(np.float32)), audio.astype(np.float32))


def attribute(point: IndexPoint | None, affinities: Mapping[int, Affinity]) -> tuple[int, ...]:
    """The members a track is clearly closest to (see LEAD, TIE); () for everyone."""
    if point is None or len(affinities) < 2:
        return ()
    return leaders([(a.to(point), m) for m, a in affinities.items()])


def leaders(closeness: Iterable[tuple[float, int]]) -> tuple[int, ...]:
    """``attribute`` from each member's closeness to the track, as (closeness, member)."""
    scores = sorted(closeness, reverse=True)
    if len(scores) < 2:
        return ()
    best = scores[0][0]
    leaders = [m for s, m in scores if s >= best - TIE]
    rest = [s for s, m in scores if m not in leaders]
    if not rest or min(s for s, m in scores if m in leaders) - rest[0] < LEAD:
        return ()
    return tuple(sorted(leaders))


def for_whom(names: Sequence[str]) -> str:
    if not names:
        return "for everyone"
    if len(names) == 1:
        return f"for {names[0]}"
    return f"for {', '.join(names[:-1])} and {names[-1]}"


def _reasoned(whom: str, reason: str) -> str:
    return f"{whom}: {reason}" if reason else whom


def interleave(first: Sequence[GroupPick], rest: Sequence[GroupPick]) -> list[GroupPick]:
    """first[0], rest[0], first[1], rest[1], ... then the remainder of rest."""
    out: list[GroupPick] = []
    for i, item in enumerate(first):
        out.append(item)
        if i < len(rest):
            out.append(rest[i])
    return out + list(rest[len(first):])


# -- with the engine ------------------------------------------------------------------------


async def _session(engine: Engine, mood: MoodSpec | None, flt: TrackFilter | None, taste: Taste | None,
                   events: Sequence[tuple[int, str]], excluded: set[int]) -> SessionProfile:
    try:
        profile = await engine.new_session(mood, flt, taste)
    except KeyError:  # a preset that no longer exists: fall back to no mood
        profile = await engine.new_session(None, flt, taste)
    await engine.observe_all(profile, events)
    profile.played |= excluded
    return profile


def _fair_picks(unhappy: int | None, members: Mapping[int, Member], ranked: Sequence[Scored],
                blocked: set[int]) -> list[GroupPick]:
    if unhappy is None:
        return []
    label = for_whom([members[unhappy].name])
    return [GroupPick(s.id, float(s.score), _reasoned(label, s.reason or ""), for_members=(unhappy,),
                      fair=True) for s in ranked if s.id not in blocked][:FAIR_PICKS]


def _merged(head: Sequence[GroupPick], fair: Sequence[GroupPick], rest: Sequence[GroupPick],
            blocked: set[int], size: int) -> list[GroupPick]:
    merged: list[GroupPick] = []
    seen: set[int] = set()
    for item in [*head, *interleave(fair, rest)]:
        if item.id not in seen and item.id not in blocked:
            seen.add(item.id)
            merged.append(item)
    return merged[:size]


async def group_queue(engine: Engine, group: Group, size: int) -> list[GroupPick]:
    """The group's upcoming queue (see the module docstring), at most ``size`` tracks."""
    blocked = set(group.excluded) | ({group.now_playing} if group.now_playing is not None else set())
    head = [GroupPick(t, 1.0, f"added by {name}", (uid, name)) for t, uid, name in group.adds
            if t not in blocked]
    members = {m.id: m for m in group.members}
    feedback = [f for f in group.feedback if f[1] in _PRIORITY]
    if group.pools is not None:
        fold = engine.fold_in.version if engine.fold_in is not None else None
        group.pools.on_track(repr((group.mood, group.flt, group.now_playing, fold)))
    # One retrieve for every track reacted to: the sessions observe them, affinities read them.
    known = await engine.points({t for t, _, _ in feedback} | {t for t, _ in group.events}
                                | ({group.now_playing} if group.now_playing is not None else set()))
    mine = own_verdicts(feedback)
    likings = {m.id: liking(m, mine.get(m.id, {}), known, engine.tuning.taste_weight, group.pools)
               for m in group.members}
    affinities = {m: like.liked for m, like in likings.items() if like.liked is not None}
    if not group.fair or len(members) < 2:
        everyone = await _blended(engine, group, feedback, blocked, size, affinities, members)
        return _merged(head, [], everyone, blocked, size)
    unhappy = least_served(feedback, members)
    pools = await _member_pools(engine, group, feedback, blocked, size)
    fair = _fair_picks(unhappy, members, pools.ranked.get(unhappy, []), blocked)
    everyone = await _agreed(engine, mine, pools, likings, members, blocked, size, served=unhappy is None,
                             heard=heard_artists(group, known), memo=group.pools)
    return _merged(head, fair, everyone, blocked, size)


async def _blended(engine: Engine, group: Group, feedback: Sequence[Feedback], blocked: set[int], size: int,
                   affinities: Mapping[int, Affinity], members: Mapping[int, Member]) -> list[GroupPick]:
    """The average-taste queue: one session from the combined taste and the group's verdicts."""
    taste = combined_taste([m.taste for m in group.members])
    profile = await _session(engine, group.mood, group.flt, taste, group_events(feedback, group.events),
                             blocked)
    ranked = await engine.next_queue(profile, size, group.now_playing)
    points = await engine.points([s.id for s in ranked])
    out = []
    for s in ranked:
        whom = attribute(points.get(s.id), affinities)
        label = for_whom([members[m].name for m in whom])
        out.append(GroupPick(s.id, float(s.score), _reasoned(label, s.reason or ""), for_members=whom))
    return out


@dataclass(frozen=True, slots=True)
class _Pools:
    """The candidate queues (key None: the combined-taste queue) and each member's own
    session's collab target (None where the session has none)."""

    ranked: dict[int | None, list[Scored]]
    collab: dict[int, np.ndarray | None]


async def _member_pools(engine: Engine, group: Group, feedback: Sequence[Feedback], blocked: set[int],
                        size: int) -> _Pools:
    """Each present member's own queue (the group's mood, their taste, their own feedback in
    the group), POOL_PER_MEMBER tracks each, and the combined-taste queue (key None), ``size``
    tracks: its first POOL_PER_MEMBER are candidates like the others, the rest fill a queue the
    candidates leave short."""

    memo = group.pools

    async def own(member: Member) -> tuple[list[Scored], np.ndarray | None]:
        kept = memo.get(member) if memo is not None else None
        if kept is not None:
            return kept
        mine = [(t, a) for t, a, m in feedback if m == member.id]
        profile = await _session(engine, group.mood, group.flt, member.taste, mine, blocked)
        ranked, targets = await engine.next_queue_and_targets(profile, POOL_PER_MEMBER, group.now_playing)
        collab = targets.extra.get("collab") if SATISFACTION_COLLAB > 0 else None
        if memo is not None:
            memo.put(member, ranked, collab)
        return ranked, collab

    async def combined() -> list[Scored]:
        kept = memo.get_combined(group.members) if memo is not None else None
        if kept is not None:
            return kept
        taste = combined_taste([m.taste for m in group.members])
        profile = await _session(engine, group.mood, group.flt, taste, group_events(feedback, group.events),
                                 blocked)
        ranked = await engine.next_queue(profile, max(POOL_PER_MEMBER, size), group.now_playing)
        if memo is not None:
            memo.put_combined(group.members, ranked)
        return ranked

    everyone, *mine = await asyncio.gather(combined(), *(own(m) for m in group.members))
    ranked: dict[int | None, list[Scored]] = {None: everyone}
    ranked.update({m.id: r for m, (r, _) in zip(group.members, mine, strict=True)})
    return _Pools(ranked, {m.id: c for m, (_, c) in zip(group.members, mine, strict=True)})


def keep_rates(mine: Mapping[int, Mapping[int, str]], present: Iterable[int]) -> dict[int, float]:
    """Each present member's keep rate over their latest LEAST_WINDOW reactions (kept: like or
    complete; ``mine``: every member's verdicts, ``own_verdicts``); members without reactions
    are left out."""
    rates: dict[int, float] = {}
    for member in present:
        kept = [verdict in POSITIVE for verdict in mine.get(member, {}).values()
                if verdict in NEGATIVE + POSITIVE][-LEAST_WINDOW:]
        if kept:
            rates[member] = sum(kept) / len(kept)
    return rates


@dataclass(frozen=True, slots=True)
class Candidates:
    """The candidates' vectors, stacked once for every member's ``satisfaction``: text rows
    scaled to length 1, audio rows, and each collab vector scaled to length 1 (None for a
    track without one), those present also stacked (``collab_rows``, rows ``collab_at``)."""

    text: np.ndarray
    audio: np.ndarray
    collab: list[np.ndarray | None]
    collab_at: list[int] = field(default_factory=list)
    collab_rows: np.ndarray | None = None

    @classmethod
    def of(cls, points: Sequence[IndexPoint]) -> Candidates:
        text = stack_rows([p.text for p in points])
        text /= np.maximum(np.linalg.norm(text, axis=1, keepdims=True), 1e-12)
        collab = [None if p.collab is None else unit_vector(np.asarray(p.collab, dtype=np.float32))
                  for p in points]
        present = [(i, vector) for i, vector in enumerate(collab) if vector is not None]
        at = [i for i, _ in present]
        # One model's vectors share a length; a mix (mid-swap) is scored one by one.
        same = len({vector.shape for _, vector in present}) == 1
        rows = stack_rows([vector for _, vector in present]) if same else None
        return cls(text, stack_rows([p.audio for p in points]), collab, at, rows)

    def satisfaction(self, liked: Affinity | None, disliked: Affinity | None,
                     collab: np.ndarray | None = None, collab_weight: float = 0.0,
                     liked_closeness: np.ndarray | None = None) -> np.ndarray:
        """See ``satisfaction``; ``liked_closeness``: ``liked.closeness(self)`` when the caller
        has it already."""
        out = np.zeros(len(self.collab), dtype=np.float32)
        if collab is not None and collab_weight > 0:
            if self.collab_rows is not None:
                out[self.collab_at] += collab_weight * (self.collab_rows @ collab)
            else:
                for i, vector in enumerate(self.collab):
                    if vector is not None:
                        out[i] += collab_weight * float(vector @ collab)
        if liked is not None:
            out += (liked.closeness(self) if liked_closeness is None else liked_closeness).astype(np.float32)
        if disliked is not None:
            out += -NEGATIVE_WEIGHT * disliked.closeness(self).astype(np.float32)
        return out


def satisfaction(points: Sequence[IndexPoint], liked: Affinity | None, disliked: Affinity | None,
                 collab: np.ndarray | None = None, collab_weight: float = 0.0) -> np.ndarray:
    """One member's predicted satisfaction with each track: closeness to what they like minus
    NEGATIVE_WEIGHT times closeness to what they skipped here (0 where nothing is known), plus
    ``collab_weight`` times the cosine of the track's collab vector to ``collab`` (the member's
    session's collab target; 0 for a track without one), as the engine's re-rank adds it."""
    if not points:
        return np.zeros(0, dtype=np.float32)
    return Candidates.of(points).satisfaction(liked, disliked, collab, collab_weight)


def _standard(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - float(values.mean())) / spread if spread > 1e-6 else np.zeros_like(values)


def dislikes(mine: Mapping[int, str], points: Mapping[int, IndexPoint]) -> Affinity | None:
    """The centroid of the tracks a member skipped or disliked in the group (``mine``: their
    verdicts, ``own_verdicts``)."""
    items: list[tuple[float, np.ndarray, np.ndarray]] = []
    for track, action in mine.items():
        weight = -ACTION_WEIGHTS.get(action, 0.0)
        point = points.get(track)
        if weight > 0 and point is not None:
            items.append((weight, point.text, point.audio))
    return _centroid(items)


def heard_artists(group: Group, known: Mapping[int, IndexPoint]) -> list[frozenset[str]]:
    """The artists of the tracks this group's session has heard (its events, then any track
    reacted to that they lack), oldest first, each track once, now playing last."""
    order = list(dict.fromkeys([t for t, _ in group.events] + [t for t, _, _ in group.feedback]
                               + ([group.now_playing] if group.now_playing is not None else [])))
    return [_artists(known[t]) for t in order if t in known]


async def _agreed(engine: Engine, mine: Mapping[int, Mapping[int, str]], pools: _Pools,
                  likings: Mapping[int, Liking], members: Mapping[int, Member], blocked: set[int], size: int,
                  served: bool = True, heard: Sequence[frozenset[str]] = (),
                  memo: MemberPools | None = None) -> list[GroupPick]:
    """Every pool's candidates ranked by the members' mean predicted satisfaction (each member's
    standardised over the candidates, so nobody's scale dominates) plus LEAST_BONUS times that of
    the member served worst lately (``served``: False when the fairness rule already serves
    them), artists spaced as the engine spaces them; then the combined queue's other tracks.
    ``memo`` keeps each member's scores of the candidates while neither the candidates nor that
    member's liking changed."""
    sources: dict[int, list[tuple[int | None, Scored]]] = {}
    for key, ranked in pools.ranked.items():
        for s in ranked[:POOL_PER_MEMBER]:
            if s.id not in blocked:
                sources.setdefault(s.id, []).append((key, s))
    ids = list(sources)
    points = await engine.points(ids)
    ids = [t for t in ids if t in points]
    if not ids:
        return []
    candidates = [points[t] for t in ids]
    held = tuple(ids)
    stacked = Candidates.of(candidates)
    prior = popularity_prior(candidates, SATISFACTION_POPULARITY * engine.tuning.popularity_weight)
    collab_weight = SATISFACTION_COLLAB * engine.tuning.extra_vector_weight
    scores_of: dict[int, MemberScores] = {}
    for m in members:
        like, collab = likings[m], pools.collab.get(m)
        scored = memo.scored(m, like, held, collab) if memo is not None else None
        if scored is None:
            # Closeness to every candidate, once: the satisfaction adds it, and whom each pick
            # is for (``leaders``) compares it.
            near = like.liked.closeness(stacked) if like.liked is not None else None
            own = stacked.satisfaction(like.liked, like.disliked, collab, collab_weight, near)
            scored = MemberScores(near, _standard(prior + own))
            if memo is not None:
                memo.put_scored(m, like, held, collab, scored)
        scores_of[m] = scored
    predicted = {m: scored.predicted for m, scored in scores_of.items()}
    close = {m: scored.close for m, scored in scores_of.items() if scored.close is not None}
    total = np.mean(np.stack(list(predicted.values())), axis=0)
    rates = keep_rates(mine, members) if served else {}
    if rates and len(rates) == len(members) and max(rates.values()) - min(rates.values()) > 0:
        worst = min(rates, key=lambda m: (rates[m], list(members).index(m)))
        total = total + LEAST_BONUS * predicted[worst]
    artists = {t: _artists(points[t]) for t in ids}  # read once: the spacing below asks often
    if heard and ARTIST_REPEAT:
        times = Counter(a for artists_heard in heard for a in artists_heard)
        total = total - ARTIST_REPEAT * np.array(
            [max((times[a] for a in artists[t]), default=0) for t in ids], dtype=np.float64)
    closeness = close if len(close) > 1 else {}
    position = {t: i for i, t in enumerate(ids)}
    order = [ids[i] for i in np.argsort(-total, kind="stable")]
    scores = dict(zip(ids, total.tolist(), strict=True))
    out: list[GroupPick] = []
    recent: list[frozenset[str]] = list(heard)
    waiting = list(order)
    while waiting and len(out) < size:
        # The best track whose artist was not among the last ARTIST_GAP - 1 picks, else the best.
        spaced = set().union(*recent[-(ARTIST_GAP - 1):])
        pick = next((t for t in waiting if not artists[t] & spaced), waiting[0])
        waiting.remove(pick)
        recent.append(artists[pick])
        at = position[pick]
        whom = leaders([(float(c[at]), m) for m, c in closeness.items()])
        out.append(_labelled(pick, scores[pick], sources[pick], whom, members))
    label = for_whom([])
    rest = pools.ranked.get(None, [])[POOL_PER_MEMBER:]
    filler = [GroupPick(s.id, float(s.score), _reasoned(label, s.reason or ""))
              for s in rest if s.id not in blocked and s.id not in scores]
    return (out + filler)[:size]


def _artists(point: IndexPoint) -> frozenset[str]:
    return frozenset(point.payload.get("artist") or ())


def _labelled(track: int, score: float, sources: Sequence[tuple[int | None, Scored]],
              closest: tuple[int, ...], members: Mapping[int, Member]) -> GroupPick:
    """A pick named for the members it is clearly closest to (``closest``, ``attribute``'s
    answer), else for the members whose own queues it came from (everyone when that is all of
    them or the combined queue), with the reason of the queue it came from."""
    whom = closest
    from_members = tuple(sorted(k for k, _ in sources if k is not None))
    if not whom and not any(k is None for k, _ in sources) and len(from_members) < len(members):
        whom = from_members
    by_key = dict(sources)
    reason = next((by_key[m].reason for m in whom if m in by_key), None)
    if reason is None:
        reason = (by_key.get(None) or sources[0][1]).reason
    label = for_whom([members[m].name for m in whom])
    return GroupPick(track, score, _reasoned(label, reason or ""), for_members=whom)

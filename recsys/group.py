"""A listening group's queue: the rules, pure of Redis and PostgreSQL (realtime/group_source.py
reads the group's state and calls ``group_queue``).

Given the group's mood, the members present (each with their long-term taste where known),
every member's feedback in the group ``(track, action, member)`` and the engine:

- tracks members put next come first, in the order added, attributed (``added_by``);
- the group's picks come from one engine session: the group's mood, a taste combined from the
  present members' tastes (``combined_taste``: each member weighs the same; it enters the
  session as the one pseudo-signal a listener's taste is, so live feedback outweighs it), and
  the group's verdict on each track it reacted to (``group_events``: the mean of the members'
  own verdicts, so one member's like does not outweigh three skips);
- fairness (``least_served``): a present member whose latest reactions in the group were all
  skips or dislikes (FAIR_WINDOW, FAIR_MIN_NEGATIVE) gets the next FAIR_PICKS picks from a session
  of their own (the group's mood, their taste, their own feedback in the group), interleaved at
  the head of the queue, so nobody present is ignored for long; the least satisfied goes first;
- every engine pick's reason names whom it is for: a fairness pick names its member
  ("for Ann: …"); a group pick names the member(s) whose taste and liked tracks it is clearly
  closest to (``attribute``), else it is "for everyone: …".

Nothing here keeps state between calls: the same inputs give the same queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recsys.engine import Engine, Scored
from recsys.features import audio_similarity
from recsys.index.base import IndexPoint, TrackFilter
from recsys.moods import MoodSpec
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
    fair: bool = True  # False: the blended queue alone (the evaluation's baseline)


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
    worst: tuple[int, int] | None = None  # (negatives, member)
    for member in present:
        reactions = [a for _, a, m in feedback if m == member and a in NEGATIVE + POSITIVE][-FAIR_WINDOW:]
        negatives = sum(a in NEGATIVE for a in reactions)
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


def verdicts(feedback: Sequence[Feedback]) -> dict[int, dict[int, str]]:
    """track → member → that member's verdict (an explicit one over an outcome over a start;
    the later of equals)."""
    found: dict[int, dict[int, str]] = {}
    for track, action, member in feedback:
        if action not in _PRIORITY:
            continue
        per = found.setdefault(track, {})
        if member not in per or _PRIORITY[action] >= _PRIORITY[per[member]]:
            per[member] = action
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


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass(frozen=True, slots=True)
class Affinity:
    """Where one member's liking sits: the centroid of their taste and their liked tracks."""

    text: np.ndarray
    audio: np.ndarray

    def to(self, point: IndexPoint) -> float:
        distance = float(np.linalg.norm(np.asarray(point.audio, dtype=np.float32) - self.audio))
        return 0.5 * float(_unit(np.asarray(point.text, dtype=np.float32)) @ self.text) + 0.5 * float(
            audio_similarity(distance)
        )


def affinity(member: Member, feedback: Sequence[Feedback], points: Mapping[int, IndexPoint],
             taste_weight: float) -> Affinity | None:
    """The member's liked tracks in the group (like 1.0, complete 0.6) and their taste's pull
    (at the engine's taste weight), averaged; None when neither is known."""
    items: list[tuple[float, np.ndarray, np.ndarray]] = []
    for track, action in verdicts([f for f in feedback if f[2] == member.id]).items():
        weight = ACTION_WEIGHTS.get(action.get(member.id, "play"), 0.0)
        point = points.get(track)
        if weight > 0 and point is not None:
            items.append((weight, point.text, point.audio))
    taste = member.taste
    if taste is not None and "text" in taste.pull and "audio" in taste.pull and taste.pull_strength > 0:
        items.append((taste_weight * taste.pull_strength, taste.pull["text"], taste.pull["audio"]))
    if not items:
        return None
    total = sum(w for w, _, _ in items)
    text = sum(w * _unit(np.asarray(t, dtype=np.float32)) for w, t, _ in items) / total
    audio = sum(w * np.asarray(a, dtype=np.float32) for w, _, a in items) / total
    return Affinity(_unit(np.asarray(text, dtype=np.float32)), np.asarray(audio, dtype=np.float32))


def attribute(point: IndexPoint | None, affinities: Mapping[int, Affinity]) -> tuple[int, ...]:
    """The members a track is clearly closest to (see LEAD, TIE); () for everyone."""
    if point is None or len(affinities) < 2:
        return ()
    scores = sorted(((a.to(point), m) for m, a in affinities.items()), reverse=True)
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
    for track, action in events:
        await engine.observe(profile, track, action)
    profile.played |= excluded
    return profile


async def group_queue(engine: Engine, group: Group, size: int) -> list[GroupPick]:
    """The group's upcoming queue (see the module docstring), at most ``size`` tracks."""
    blocked = set(group.excluded) | ({group.now_playing} if group.now_playing is not None else set())
    head = [GroupPick(t, 1.0, f"added by {name}", (uid, name)) for t, uid, name in group.adds
            if t not in blocked]
    members = {m.id: m for m in group.members}
    feedback = [f for f in group.feedback if f[1] in _PRIORITY]
    # One retrieve for every track reacted to: the sessions observe them, affinities read them.
    known = await engine.points({t for t, _, _ in feedback} | {t for t, _ in group.events})
    taste = combined_taste([m.taste for m in group.members])
    profile = await _session(engine, group.mood, group.flt, taste, group_events(feedback, group.events),
                             blocked)
    unhappy = least_served(feedback, members) if group.fair and len(members) > 1 else None

    async def theirs() -> list[Scored]:
        if unhappy is None:
            return []
        own = [(t, a) for t, a, m in feedback if m == unhappy]
        mine = await _session(engine, group.mood, group.flt, members[unhappy].taste, own, blocked)
        return await engine.next_queue(mine, FAIR_PICKS * 2, group.now_playing)

    ranked, fair_ranked = await asyncio.gather(engine.next_queue(profile, size, group.now_playing), theirs())
    points = await engine.points([s.id for s in ranked])
    affinities = {m.id: a for m in group.members
                  if (a := affinity(m, feedback, known, engine.tuning.taste_weight)) is not None}
    everyone = []
    for s in ranked:
        whom = attribute(points.get(s.id), affinities)
        label = for_whom([members[m].name for m in whom])
        everyone.append(GroupPick(s.id, float(s.score), _reasoned(label, s.reason or ""), for_members=whom))
    fair: list[GroupPick] = []
    if unhappy is not None:
        label = for_whom([members[unhappy].name])
        fair = [GroupPick(s.id, float(s.score), _reasoned(label, s.reason or ""), for_members=(unhappy,),
                          fair=True)
                for s in fair_ranked if s.id not in blocked][:FAIR_PICKS]
    merged: list[GroupPick] = []
    seen: set[int] = set()
    for item in head + interleave(fair, everyone):
        if item.id not in seen and item.id not in blocked:
            seen.add(item.id)
            merged.append(item)
    return merged[:size]

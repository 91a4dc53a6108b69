"""Part 1: does the live queue learn a listener within a few skips?

Each simulated listener (recsys.evaluation.listeners) plays ``length`` tracks from a mood,
four ways:
- live: the session the app serves, feedback through Engine.observe/next_queue
  (recsys.evaluation.session_sim), events as the web client sends them (play, then like
  and complete, or skip);
- static: the same mood's queue with no feedback (what the live queue would be if
  feedback did nothing);
- popularity: the most popular tracks among the 300 that fit the mood best;
- random: tracks drawn uniformly from the catalog.
Optionally a fifth, live_immediate: the live session with the skip lag removed (the
queue recomputed before a skip advances), to show what that lag costs; and ``returning``:
the live session of the same listener returning with their imported history (the visible
half of their artists, recsys.evaluation.tastes) as long-term taste, same mood. The hidden
half, which they judge by, is never in that taste nor in the collab model's training.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from recsys.engine import Engine
from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.listeners import Listener, Reaction
from recsys.evaluation.metrics import mean, median, tracks_until_streak
from recsys.evaluation.session_sim import AdvanceMode, LiveSession
from recsys.moods import AUDIO_ONLY_WEIGHTS, MoodSpec
from recsys.taste import Taste

POLICIES = ("live", "static", "popularity", "random")
RETURNING_FIRST = 5  # the returning part compares skip rates over the first 5 tracks
POPULARITY_POOL = 300
STREAK = 3


@dataclass(slots=True)
class Played:
    track_id: int
    artist: str | None
    reaction: Reaction


@dataclass(slots=True)
class Session:
    user: int
    policy: str
    mood: str
    played: list[Played] = field(default_factory=list)


async def play_live(
    engine: Engine, catalog: EvalCatalog, listener: Listener, length: int, advance: AdvanceMode = "store",
    taste: Taste | None = None,
) -> list[Played]:
    """A live session: the listener reacts to whatever is playing, the app re-ranks."""
    session = LiveSession(engine, MoodSpec(preset=listener.mood), advance, taste)
    current = await session.start()
    played: list[Played] = []
    while current is not None and len(played) < length:
        artist = catalog.artist_of.get(current)
        reaction = listener.react(current, artist)
        played.append(Played(current, artist, reaction))
        await session.send(current, "play")
        if reaction.liked:
            await session.send(current, "like")
        # The queue computed after the advance is superseded by the next track's "play".
        await session.send(current, "complete" if reaction.accepted else "skip", recompute=False)
        current = session.now_playing
    return played


async def static_queue(engine: Engine, listener: Listener, length: int) -> list[int]:
    profile = await engine.new_session(MoodSpec(preset=listener.mood))
    return [s.id for s in await engine.next_queue(profile, length)]


async def popularity_queue(
    engine: Engine, catalog: EvalCatalog, listener: Listener, length: int
) -> list[int]:
    """Most popular first among the tracks that fit the mood best, at most 2 per artist."""
    query = await engine.resolve_mood(MoodSpec(preset=listener.mood))
    weights = query.weights if query.text_vector is not None else AUDIO_ONLY_WEIGHTS
    pool = await engine.index.search_blend(
        query.text_vector, query.audio_vector, weights, None, POPULARITY_POOL
    )
    pool.sort(key=lambda h: (-catalog.popularity(h.id), -h.score, h.id))
    chosen: list[int] = []
    per_artist: dict[str | None, int] = {}
    for hit in pool:
        artist = catalog.artist_of.get(hit.id)
        if per_artist.get(artist, 0) >= 2:
            continue
        per_artist[artist] = per_artist.get(artist, 0) + 1
        chosen.append(hit.id)
        if len(chosen) == length:
            break
    return chosen


def random_queue(catalog: EvalCatalog, listener: Listener, length: int) -> list[int]:
    ids = catalog.ids
    return random.Random(f"{listener.seed}:random:{listener.user}").sample(ids, min(length, len(ids)))


def play_list(catalog: EvalCatalog, listener: Listener, ids: Sequence[int]) -> list[Played]:
    artists = [catalog.artist_of.get(t) for t in ids]
    return [Played(t, a, listener.react(t, a)) for t, a in zip(ids, artists, strict=True)]


async def run_listener(
    engine: Engine,
    catalog: EvalCatalog,
    listener: Listener,
    length: int,
    immediate: bool,
    policies: Sequence[str] = POLICIES,
    taste: Taste | None = None,
) -> list[Session]:
    """The listener's sessions under ``policies`` (+ live_immediate; + returning when a
    ``taste`` is given)."""
    sessions: list[Session] = []
    if "live" in policies:
        played = await play_live(engine, catalog, listener, length)
        sessions.append(Session(listener.user, "live", listener.mood, played))
    if "static" in policies:
        ids = await static_queue(engine, listener, length)
        sessions.append(Session(listener.user, "static", listener.mood, play_list(catalog, listener, ids)))
    if "popularity" in policies:
        ids = await popularity_queue(engine, catalog, listener, length)
        played = play_list(catalog, listener, ids)
        sessions.append(Session(listener.user, "popularity", listener.mood, played))
    if "random" in policies:
        ids = random_queue(catalog, listener, length)
        sessions.append(Session(listener.user, "random", listener.mood, play_list(catalog, listener, ids)))
    if immediate:
        played = await play_live(engine, catalog, listener, length, advance="immediate")
        sessions.append(Session(listener.user, "live_immediate", listener.mood, played))
    if taste is not None:
        played = await play_live(engine, catalog, listener, length, taste=taste)
        sessions.append(Session(listener.user, "returning", listener.mood, played))
    return sessions


def returning_summary(policies: dict[str, Any]) -> dict[str, Any]:
    """The returning part's figures: skip rates over the first tracks, returning vs new."""
    new, back = policies["live"], policies["returning"]
    first_new, first_back = new["skip_rate_first5"], back["skip_rate_first5"]
    return {
        "first": RETURNING_FIRST,
        "skip_rate_first5": first_back,
        "skip_rate_first5_new": first_new,
        "ratio_first5": first_back / first_new if first_new else None,
        "skip_rate": back["skip_rate"],
        "skip_rate_new": new["skip_rate"],
        "vs_new": back.get("vs_live"),
    }


def summarise(sessions: Sequence[Session], listeners: dict[int, Listener], length: int) -> dict[str, Any]:
    """Per-policy metrics.

    'Tracks to 3 in a row' counts a session that never gets there as length + 1 (censored)
    and 'reached_3_likes' says how many got there; 'skips to 3 in a row' is how many skips
    the listener had to give first (all of them when never). ``skip_rate_ci95`` is a 95%
    interval of the mean over listeners (sessions are equally long, so that mean is the skip
    rate). ``vs_live`` is the paired
    per-listener difference in skip rate to the live session, with a 95% interval.
    """
    by_policy: dict[str, list[Session]] = {}
    for s in sessions:
        by_policy.setdefault(s.policy, []).append(s)
    per_user: dict[str, dict[int, float]] = {}
    out: dict[str, Any] = {}
    for policy, group in by_policy.items():
        skips: list[list[float]] = [[] for _ in range(length)]
        all_skips: list[float] = []
        streaks: list[int] = []
        skips_first: list[float] = []
        reached: list[float] = []
        per_user[policy] = {}
        for s in group:
            accepted = [p.reaction.accepted for p in s.played[:length]]
            for i, ok in enumerate(accepted):
                skips[i].append(0.0 if ok else 1.0)
                all_skips.append(0.0 if ok else 1.0)
            per_user[policy][s.user] = mean([0.0 if ok else 1.0 for ok in accepted])
            position = tracks_until_streak(accepted, STREAK)
            streaks.append(position if position is not None else length + 1)
            skips_first.append(float(accepted[: position or len(accepted)].count(False)))
            hidden = listeners[s.user].hidden
            found = {p.artist for p in s.played if p.artist in hidden}
            reached.append(len(found) / len(hidden) if hidden else 0.0)
        user_rates = list(per_user[policy].values())
        spread = statistics.stdev(user_rates) if len(user_rates) > 1 else 0.0
        margin = 1.96 * spread / math.sqrt(len(user_rates))
        out[policy] = {
            "sessions": len(group),
            "skip_rate": mean(all_skips),
            "skip_rate_ci95": [mean(user_rates) - margin, mean(user_rates) + margin],
            "skip_by_position": [mean(v) if v else None for v in skips],
            "skip_rate_first5": mean([x for v in skips[:5] for x in v]),
            "skip_rate_last10": mean([x for v in skips[-10:] for x in v]),
            "tracks_to_3_likes": mean([float(x) for x in streaks]),
            "tracks_to_3_likes_median": median([float(x) for x in streaks]),
            "reached_3_likes": mean([1.0 if x <= length else 0.0 for x in streaks]),
            "skips_to_3_likes": mean(skips_first),
            "hidden_reached": mean(reached),
            "like_rate": mean([1.0 if p.reaction.liked else 0.0 for s in group for p in s.played]),
        }
    live = per_user.get("live", {})
    for policy, rates in per_user.items():
        diffs = [rates[u] - live[u] for u in rates if u in live]
        if policy != "live" and diffs:
            spread = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
            half = 1.96 * spread / math.sqrt(len(diffs))
            out[policy]["vs_live"] = {
                "skip_rate_diff": mean(diffs),
                "ci95": [mean(diffs) - half, mean(diffs) + half],
            }
    return out

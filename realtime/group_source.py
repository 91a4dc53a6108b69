"""A group's queue: members' picks first, then the engine's, fair to everyone present.

The engine ranks for the whole group from every member's feedback in the group session
(realtime/engine_source.py does that for any stream). On top:

- tracks members put next come first, in the order added, attributed (``added_by``);
- fairness: a present member whose latest reactions in the group were mostly skips or dislikes
  (FAIR_WINDOW, FAIR_MIN_NEGATIVE) gets the next picks from a profile of their own feedback in
  the group with the group's mood, interleaved at the head of the queue, so nobody present is
  ignored for long; the least satisfied such member goes first;
- each engine pick's reason names whom it is for: the unhappy member's picks name them, the
  others are "for everyone".
"""

from __future__ import annotations

from dataclasses import replace

from app.state import AppState
from app.store import groups
from realtime.engine_source import EngineSource
from realtime.group_state import GroupState
from realtime.queue_frames import Ranked
from realtime.session_keys import stream_group
from realtime.session_state import Snapshot

FAIR_WINDOW = 4  # a member's latest reactions looked at
FAIR_MIN_NEGATIVE = 2  # ...of which this many skips/dislikes make them "not served lately"
FAIR_PICKS = 3  # picks made for that member at the head of the queue
NEGATIVE = ("skip", "dislike")
POSITIVE = ("like", "complete")


def least_served(who: list[tuple[int, str, int]], present: set[int]) -> int | None:
    """The present member whose latest reactions were the most negative, if any is unhappy."""
    worst: tuple[int, int] | None = None  # (negatives, user)
    for user in present:
        reactions = [a for _, a, u in who if u == user and a in NEGATIVE + POSITIVE][-FAIR_WINDOW:]
        negatives = sum(a in NEGATIVE for a in reactions)
        if negatives >= FAIR_MIN_NEGATIVE and (worst is None or negatives > worst[0]):
            worst = (negatives, user)
    return None if worst is None else worst[1]


class GroupSource:
    def __init__(self, state: AppState, engine_source: EngineSource, gstate: GroupState) -> None:
        self._state = state
        self._engine = engine_source
        self._gstate = gstate

    async def upcoming(self, session: Snapshot, size: int) -> list[Ranked]:
        group_id = stream_group(session.user_id)
        if group_id is None:
            return await self._engine.upcoming(session, size)
        playing = session.now_playing.id if session.now_playing else None
        blocked = session.excluded | ({playing} if playing else set())
        picks = [add for add in await self._gstate.adds(group_id) if add[0] not in blocked]
        head = [Ranked(tid, 1.0, f"added by {name}", (uid, name)) for tid, uid, name in picks]
        members = {m.user_id: m.username for m in await groups.members(self._state.db, group_id)}
        present = await self._gstate.present(group_id) & set(members)
        who = await self._gstate.who(group_id)

        ranked = await self._engine.upcoming(session, size)
        everyone = [replace(r, reason=f"for everyone: {r.reason}" if r.reason else "for everyone")
                    for r in ranked]
        unhappy = least_served(who, present) if len(present) > 1 else None
        fair: list[Ranked] = []
        if unhappy is not None:
            theirs = Snapshot(
                ver=session.ver, fresh=False, now_playing=session.now_playing, upcoming=[], mood=session.mood,
                events=[(t, a) for t, a, u in who if u == unhappy], excluded=session.excluded,
                user_id=session.user_id, settings=session.settings,
            )
            name = members.get(unhappy, "a member")
            fair = [replace(r, reason=f"for {name}: {r.reason}" if r.reason else f"for {name}")
                    for r in (await self._engine.upcoming(theirs, FAIR_PICKS * 2))[:FAIR_PICKS]]
        merged: list[Ranked] = []
        seen: set[int] = set()
        for item in head + _interleave(fair, everyone):
            if item.id not in seen and item.id not in blocked:
                seen.add(item.id)
                merged.append(item)
        return merged[:size]


def _interleave(first: list[Ranked], rest: list[Ranked]) -> list[Ranked]:
    """first[0], rest[0], first[1], rest[1], ... then the remainder of rest."""
    out: list[Ranked] = []
    for i, item in enumerate(first):
        out.append(item)
        if i < len(rest):
            out.append(rest[i])
    return out + rest[len(first):]

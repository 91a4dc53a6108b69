"""A group's queue: reads the group's state and hands it to the rules in recsys/group.py.

What is read, for every recompute: the members' picks waiting (``adds``), whose feedback is
whose (``who``), who is present, the members' names (this instance's copy of the group's rows,
realtime/group_rows.py), and each present member's long-term taste (app.listening.listener_tastes,
cached with their profile version; the versions read in one round trip, unless every taste was
loaded lately). The group's own session snapshot gives the mood, the settings, what is excluded
and what plays. A user's own stream (not a group's) goes to the plain engine source. Kept in
memory per group: the candidate pools drawn at the track's first recompute, and each member's
scores of them (recsys.group.MemberPools): until the next track a reaction re-ranks them and
queries no engine.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from app.listening import hearing_filter, listener_tastes
from app.state import AppState
from realtime.engine_source import EngineSource
from realtime.group_rows import GroupRowCache
from realtime.group_state import GroupState
from realtime.queue_frames import Ranked
from realtime.session_keys import stream_group
from realtime.session_state import Snapshot
from recsys.group import Group, GroupPick, Member, MemberPools, group_queue

# Groups whose pools are kept between recomputes, in this process (least recently recomputed
# dropped first): up to ~60 KB for five members (their pools, whose payloads the engine's cache
# shares, and each member's liking and scores).
POOL_MEMO_GROUPS = 4096


def _ranked(pick: GroupPick) -> Ranked:
    return Ranked(pick.id, pick.score, pick.reason, pick.added_by)


class GroupSource:
    def __init__(self, state: AppState, engine_source: EngineSource, gstate: GroupState,
                 rows: GroupRowCache) -> None:
        self._state = state
        self._engine = engine_source
        self._gstate = gstate
        self._rows = rows
        self._pools: OrderedDict[int, MemberPools] = OrderedDict()

    def _memo(self, group_id: int, present: list[int]) -> MemberPools:
        memo = self._pools.pop(group_id, None) or MemberPools()
        self._pools[group_id] = memo
        while len(self._pools) > POOL_MEMO_GROUPS:
            self._pools.popitem(last=False)
        memo.keep_only(present)
        return memo

    async def upcoming(self, session: Snapshot, size: int) -> list[Ranked]:
        group_id = stream_group(session.user_id)
        if group_id is None:
            return await self._engine.upcoming(session, size)
        (adds, who, here), rows = await asyncio.gather(self._gstate.queue_inputs(group_id),
                                                       self._rows.get(group_id))
        names = {m.user_id: m.username for m in (rows.members if rows is not None else [])}
        present = [uid for uid in names if uid in here]  # the members' order: deterministic ties
        tastes = await listener_tastes(self._state, present)
        playing = session.now_playing.id if session.now_playing else None
        group = Group(
            members=[Member(uid, names[uid], taste) for uid, taste in zip(present, tastes, strict=True)],
            feedback=who,
            mood=session.mood.spec if session.mood is not None else None,
            flt=hearing_filter(session.settings),
            events=session.events,
            excluded=set(session.excluded),
            now_playing=playing,
            adds=adds,
            pools=self._memo(group_id, present),
        )
        engine = self._state.engine
        if engine is None:  # no index (yet): only the members' picks
            blocked = group.excluded | ({playing} if playing is not None else set())
            return [Ranked(t, 1.0, f"added by {name}", (uid, name)) for t, uid, name in adds
                    if t not in blocked][:size]
        return [_ranked(p) for p in await group_queue(engine, group, size)]

"""This instance's copy of the groups its connections follow: each group's row and members as
PostgreSQL has them, read once and kept, so a member's frame and a group's queue recompute do
not ask PostgreSQL again who is in the group and who hosts it.

Invariants:
- every change to a group's row or membership publishes a ``group`` frame on the group's
  stream (app/groups.py through app/fanout.py); this instance hears every such frame of a group
  one of its connections follows (realtime/hub.py), and the entry is dropped (``heard``) when
  the frame's Group shows rows other than the kept ones, or when a read is in flight. Votes and
  presence publish group frames too: theirs show the same rows, and the entry stays. It is also
  dropped when this instance makes a change itself (before it publishes), and when the bus
  reconnected (frames may have been missed: ``forget_all``);
- an entry is read again after ROWS_TTL_S at the latest, in case a frame was lost anyway;
- a load that began before a ``forget`` of its group is not kept (it may predate the change);
- a user missing from a kept member list is looked up again before being refused: the frame
  that says they joined may still be on its way while their own connection already acts.

So a frame acts on a view of the group that is at most one bus hop old, as the group frame
each member sees is. HTTP requests keep asking PostgreSQL (app/groups.py); only the live path
reads here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import msgpack

from app.errors import ApiError
from app.fanout import GroupLive
from app.groups import group_json
from app.store import groups
from app.store.db import Database
from app.store.groups import GroupRow, Member

ROWS_TTL_S = 30.0
ROWS_KEPT = 4096  # groups; far more than one instance's followed groups
_LIVE_FIELDS = ("skip_votes", "playback")  # of a Group, with each member's "present"


def rows_of_view(view: dict[str, Any]) -> dict[str, Any]:
    """What of a Group (app.groups.group_json) comes from the group's rows: all of it but who
    is present, the skip votes and the playback."""
    rows = {k: v for k, v in view.items() if k not in _LIVE_FIELDS}
    members = view.get("members")
    if isinstance(members, list):
        rows["members"] = [{k: v for k, v in m.items() if k != "present"} if isinstance(m, dict) else m
                           for m in members]
    return rows


@dataclass(frozen=True, slots=True)
class GroupRows:
    """A group's row and its live members (in the order they joined), as read at ``read_at``."""

    group: GroupRow
    members: list[Member]
    read_at: float
    shown: dict[str, Any]  # rows_of_view of the Group they render, as a frame carries it

    @classmethod
    def read(cls, group: GroupRow, members: list[Member]) -> GroupRows:
        view = group_json(group, members, GroupLive())
        shown = rows_of_view(msgpack.unpackb(msgpack.packb(view, use_bin_type=True), raw=False))
        return cls(group, members, time.monotonic(), shown)

    def member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)


class GroupRowCache:
    def __init__(self, db: Database, ttl_s: float = ROWS_TTL_S) -> None:
        self._db = db
        self._ttl = ttl_s
        self._kept: dict[int, GroupRows] = {}
        self._loads: dict[int, asyncio.Future[GroupRows | None]] = {}
        # Bumped by forget (one group) and by forget_all (every group, ``_epoch``): a load that
        # began before is not kept.
        self._generation: dict[int, int] = {}
        self._epoch = 0
        self.reads = 0

    async def get(self, group_id: int) -> GroupRows | None:
        """The group's row and members; None for a group that does not exist."""
        kept = self._kept.get(group_id)
        if kept is not None and time.monotonic() - kept.read_at < self._ttl:
            return kept
        return await self._load(group_id)

    async def member_group(self, group_id: int, user_id: int) -> GroupRows:
        """The live group, if the user is one of its members (app.groups.member_group's errors:
        404 unknown or ended, 403 not a member)."""
        rows = await self.get(group_id)
        if rows is not None and rows.group.live and rows.member(user_id) is None:
            rows = await self._load(group_id)  # they may have joined since it was read
        if rows is None or not rows.group.live:
            raise ApiError(404, "unknown_group", "no such group, or it has ended")
        if rows.member(user_id) is None:
            raise ApiError(403, "not_in_group", "you are not a member of this group")
        return rows

    def heard(self, group_id: int, view: object) -> None:
        """A group frame with this Group arrived: the kept rows stay only when it shows the same
        rows (``GroupRows.shown``, rendered once when they were read)."""
        kept = self._kept.get(group_id)
        if (kept is None or group_id in self._loads or not isinstance(view, dict)
                or rows_of_view(view) != kept.shown):
            self.forget(group_id)

    def forget(self, group_id: int) -> None:
        self._kept.pop(group_id, None)
        self._generation[group_id] = self._generation.get(group_id, 0) + 1
        self._loads.pop(group_id, None)  # a caller still awaiting it gets its result; nobody else

    def forget_all(self) -> None:
        self._kept.clear()
        self._loads.clear()
        self._generation.clear()
        self._epoch += 1

    async def _load(self, group_id: int) -> GroupRows | None:
        pending = self._loads.get(group_id)
        if pending is None:  # several frames of one group at once share one read
            pending = self._loads[group_id] = asyncio.ensure_future(self._read(group_id))
            pending.add_done_callback(lambda done: self._loaded(group_id, done))
        return await asyncio.shield(pending)

    async def _read(self, group_id: int) -> GroupRows | None:
        started = (self._epoch, self._generation.get(group_id, 0))
        self.reads += 1
        group = await groups.by_id(self._db, group_id)
        if group is None:
            return None
        rows = GroupRows.read(group, await groups.members(self._db, group_id) if group.live else [])
        if (self._epoch, self._generation.get(group_id, 0)) == started:
            self._kept[group_id] = rows
            while len(self._kept) > ROWS_KEPT:
                del self._kept[next(iter(self._kept))]
        return rows

    def _loaded(self, group_id: int, done: asyncio.Future[GroupRows | None]) -> None:
        if self._loads.get(group_id) is done:
            del self._loads[group_id]
        if not done.cancelled():
            done.exception()  # retrieved: the callers that awaited it got it raised
        if len(self._generation) > 2 * ROWS_KEPT:  # forgotten groups' counters are not kept forever
            self.forget_all()

"""Listening groups, live: connections that follow a group, its frames, its shared playback.

A connection follows one stream at a time (realtime/session_keys.py): its user's own, or a
group's after ``group_join``. Following a group means hearing the group's channel, being
counted present, and having ``feedback``, ``next`` and ``mood`` act on the group. Membership
itself (who may follow) is PostgreSQL's, decided by app/groups.py.

Switching streams keeps a connection's seqs increasing: the new stream's counter is raised
above the connection's cursor before the first frame of the new stream is stamped.

Skips: the host's skip (or anyone's with guest controls) skips at once; anyone else's skip or
``vote_skip`` is a vote, and the track is skipped once more than half of those present voted.
A track ends for the group once: each player reports ``ended`` and only the first report for
the track that is playing advances it.

The shared playback (``pb``) is reset to the start of a new track whenever a published group
queue has a different now-playing track, so every change of track (next, a passed vote, the
end of a track, a fill) reaches every member's player the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import msgpack
from redis.exceptions import RedisError

from app import groups as group_rules
from app.errors import ApiError
from app.fanout import GroupLive
from app.listening import feedback_recorded, record_feedback
from app.moods_input import checked_mood_spec
from app.state import AppState
from app.store import groups
from app.store.groups import GroupRow
from realtime import protocol
from realtime.connection import Connection
from realtime.group_rows import GroupRowCache, GroupRows
from realtime.group_state import GroupState, Playback, server_ms
from realtime.hub import Hub
from realtime.protocol import (
    Ended,
    Feedback,
    GroupJoin,
    GroupLeave,
    MoodChange,
    Next,
    PlaybackControl,
    QueueAdd,
    VoteSkip,
)
from realtime.queue_frames import QueueSnapshot
from realtime.resume_log import ResumeLog
from realtime.session_keys import group_stream, stream_group
from realtime.stream import ConnectionStream
from realtime.user_queue import UserQueues

log = logging.getLogger("musicrec.realtime.groups")

SWEEP_EVERY_S = 30.0
SKIPPING = ("skip", "dislike")


class GroupLiveService:
    def __init__(
        self, state: AppState, gstate: GroupState, rows: GroupRowCache, log_: ResumeLog, hub: Hub,
        queues: UserQueues, stream: ConnectionStream,
    ) -> None:
        self._state = state
        self.gstate = gstate
        self.rows = rows  # the followed groups' rows and members (dropped on every group frame)
        self._log = log_
        self._hub = hub
        self._queues = queues
        self._stream = stream  # how frames reach one connection (it owns the seq stream)
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep(), name="group-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    @property
    def _idle_s(self) -> float:
        return self._state.settings.group_idle_end_s

    # -- what the service layer asks (app/fanout.py) -----------------------------------------

    async def live(self, group_id: int) -> GroupLive:
        view = await self.gstate.live_view(group_id)  # one round trip: every group frame asks
        present, playback = view.present, view.playback
        votes = None
        if playback is not None:
            voters = {u for u, t in view.votes.items() if t == playback.track_id} & present
            if voters:
                votes = {"track_id": playback.track_id, "votes": len(voters),
                         "needed": len(present) // 2 + 1}
        return GroupLive(frozenset(present), view.since, playback.to_json() if playback else None, votes)

    async def publish_group(self, group_id: int) -> None:
        """The group as it is now, to every member. The ticket is taken before the view is read:
        of two publishers reading at once, the one that read earlier is not published after the
        other (ResumeLog.publish_frame), so the last group frame is never an older view. So the
        view is read from PostgreSQL, never from this instance's copy of the rows, which may be
        a bus hop behind."""
        ticket = await self._log.view_ticket(group_stream(group_id))
        view = await group_rules.view_by_id(self._state, group_id)
        if view is not None:
            await self._publish(group_id, {"type": "group", "group": view}, ticket)

    async def publish_exit(self, group_id: int, user_ids: list[int], status: str) -> None:
        view = await group_rules.view_by_id(self._state, group_id)
        frame = {"type": "group", "group": view, "status": status, "exit_users": user_ids}
        await self._publish(group_id, frame)
        # Their connections that were not following the group hear it on their own stream.
        notice = msgpack.packb({"type": "group", "group": view, "status": status}, use_bin_type=True)
        for user_id in user_ids:
            await self._log.publish_frame(user_id, notice)
        if status == "ended":
            await self.gstate.forget(group_id)

    async def _publish(self, group_id: int, frame: dict[str, Any], ticket: int | None = None) -> None:
        await self._log.publish_frame(group_stream(group_id), msgpack.packb(frame, use_bin_type=True), ticket)

    async def on_queue_published(self, stream: int, snapshot: QueueSnapshot) -> None:
        """A group's queue frame went out: a new track playing restarts the shared playback."""
        group_id = stream_group(stream)
        if group_id is None:
            return
        playing = snapshot.now_playing.id if snapshot.now_playing else None
        current = await self.gstate.playback(group_id)
        if playing is None or (current is not None and current.track_id == playing):
            return
        playback = Playback(playing, "playing", 0, server_ms())
        await self.gstate.set_playback(group_id, playback)
        await self._publish(group_id, {"type": "playback", **playback.to_json()})
        await self.gstate.drop_adds(group_id, {playing})

    # -- a connection following a group ------------------------------------------------------

    async def follow(self, conn: Connection, frame: GroupJoin, text: bool) -> None:
        try:
            group = await group_rules.member_group(self._state, frame.group_id, conn.user_id)
        except ApiError as exc:
            await self._error(conn, exc.code, exc.message, frame.ref, text)
            return
        stream = group_stream(group.id)
        arrived = False
        # Bus frames of the new stream wait (as at hello) until its queue snapshot is out: one
        # that overtook the snapshot would reach the member before a frame with a lower seq.
        conn.hold()
        try:
            if conn.stream != stream:
                previous = stream_group(conn.stream)
                await self._switch(conn, stream)
                if previous is not None:  # it followed another group until now
                    await self._leave(previous, conn)
                    await self.publish_group(previous)
                arrived = await self.gstate.enter(group.id, conn.user_id, conn.id, self._idle_s)
            # The queue first: its fresh seq is above everything the group published before, so
            # the local frames after it never wait for an older frame still on the bus.
            await self._stream.send_queue(conn, stream)
        finally:
            conn.release()  # what the snapshot covers (seq <= its seq) is skipped
        await self._ack(conn, frame.ref, text)
        # To everyone, this connection included: the others see them present, and a view read
        # here cannot overtake a newer one published meanwhile (a local frame could).
        await self.publish_group(group.id)
        if arrived:  # the queue makes room for them now, not at the group's next reaction
            self._queues.request(stream, "members")
        playback = await self.gstate.playback(group.id)
        if playback is not None:
            await self._send(conn, {"type": "playback", **playback.to_json()}, text)

    async def unfollow(self, conn: Connection, frame: GroupLeave | None, text: bool,
                       notice: dict[str, Any] | None = None) -> None:
        """Back to the own stream; ``notice`` goes out just before the own queue."""
        group_id = stream_group(conn.stream)
        conn.hold()  # as in follow: the own stream's bus frames wait for its snapshot
        try:
            if group_id is not None:
                await self._switch(conn, conn.user_id)
                await self._leave(group_id, conn)
                with contextlib.suppress(RedisError, OSError):
                    await self.publish_group(group_id)
            await self._stream.send_queue(conn, conn.user_id, notice)
        finally:
            conn.release()
        if frame is not None:
            await self._ack(conn, frame.ref, text)

    async def exit(self, conn: Connection, status: str, view: dict[str, Any] | None) -> None:
        """The member left, was removed, or the group ended: back to their own queue.

        The status frame from the bus (``status``, ``view``) may not reach the client: when it
        arrived while the connection held bus frames back, the own queue's snapshot (a higher
        seq) overtakes it and it is skipped. So it goes out again just ahead of the own queue (a
        client that has left already ignores it), and a page never sees its own queue while it
        still believes it is in the group."""
        if conn.closed or stream_group(conn.stream) is None:
            return
        try:
            notice = {"type": "group", "group": view, "status": status} if view is not None else None
            await self.unfollow(conn, None, conn.text, notice)
        except (RedisError, OSError) as exc:
            log.warning("connection %s could not leave its group (%s)", conn.id, status, exc_info=exc)

    async def dropped(self, conn: Connection) -> None:
        """A following connection closed: it is no longer present."""
        group_id = stream_group(conn.stream)
        if group_id is None:
            return
        with contextlib.suppress(RedisError, OSError):
            if await self.gstate.exit(group_id, conn.user_id, conn.id):
                await self.publish_group(group_id)  # the others see them away first
                self._queues.request(group_stream(group_id), "members")

    async def _leave(self, group_id: int, conn: Connection) -> None:
        """This connection no longer follows the group; when its user is now away, the group's
        queue is recomputed for those still present."""
        if await self.gstate.exit(group_id, conn.user_id, conn.id):
            self._queues.request(group_stream(group_id), "members")

    async def _switch(self, conn: Connection, stream: int) -> None:
        await self._hub.detach(conn)
        await self._log.raise_seq(stream, conn.cursor)
        conn.stream = stream
        await self._hub.attach(conn)

    # -- what members do ---------------------------------------------------------------------

    async def handle(self, conn: Connection, frame: protocol.ClientFrame, text: bool) -> bool:
        """Frames of a connection that follows a group; False when the frame is not a group's."""
        group_id = stream_group(conn.stream)
        if isinstance(frame, GroupJoin):
            await self.follow(conn, frame, text)
        elif isinstance(frame, GroupLeave):
            await self.unfollow(conn, frame, text)
        elif not isinstance(frame, Feedback | Next | MoodChange | QueueAdd | VoteSkip | PlaybackControl
                            | Ended):
            return False
        elif group_id is None:
            if isinstance(frame, Feedback | Next | MoodChange):
                return False  # the listener's own session
            await self._error(conn, "not_in_group", "send group_join first", frame.ref, text)
        else:
            try:
                rows = await self.rows.member_group(group_id, conn.user_id)
            except ApiError as exc:
                await self._error(conn, exc.code, exc.message, frame.ref, text)
                return True
            await self._act(conn, rows, frame, text)
        return True

    async def _act(self, conn: Connection, rows: GroupRows, frame: protocol.ClientFrame, text: bool) -> None:
        group = rows.group
        steer = group_rules.may_steer(group, conn.user_id)
        ref = getattr(frame, "ref", None)
        if isinstance(frame, Feedback):
            await self._feedback(conn, group, frame, steer, text)
            return
        if isinstance(frame, Next):
            if steer:
                await self._queues.advance(group_stream(group.id))
            else:
                await self._vote(conn, group)
        elif isinstance(frame, VoteSkip):
            await self._vote(conn, group)
        elif isinstance(frame, QueueAdd):
            try:
                await group_rules.add_to_queue(self._state, group.id, conn.user_id, frame.track_id)
            except ApiError as exc:
                await self._error(conn, exc.code, exc.message, ref, text)
                return
            member = rows.member(conn.user_id)
            await self.gstate.add(group.id, conn.user_id, member.username if member else "", frame.track_id)
            await self._queues.on_refresh(group_stream(group.id), "queue_add")
        elif isinstance(frame, MoodChange):
            if not steer:
                await self._error(conn, "forbidden", "only the host changes the mood (no guest controls)",
                                  ref, text)
                return
            try:
                spec = await checked_mood_spec(self._state.db, frame.preset, frame.text, frame.energy,
                                               frame.valence)
                await group_rules.change_mood(self._state, group.id, conn.user_id, spec)
            except ApiError as exc:
                await self._error(conn, exc.code, exc.message, ref, text)
                return
        elif isinstance(frame, PlaybackControl):
            if not steer:
                await self._error(conn, "forbidden", "only the host controls playback (no guest controls)",
                                  ref, text)
                return
            current = await self.gstate.playback(group.id)
            if current is None:
                await self._error(conn, "nothing_playing", "the group has no track playing", ref, text)
                return
            playback = Playback(current.track_id, frame.state, frame.position_ms, server_ms())
            await self.gstate.set_playback(group.id, playback)
            await self._publish(group.id, {"type": "playback", **playback.to_json()})
        elif isinstance(frame, Ended):
            try:
                await record_feedback(self._state, conn.user_id, frame.track_id, "complete", None,
                                      None if ref is None else f"ended-{ref}", group.id)
            except ApiError as exc:  # an unknown track
                await self._error(conn, exc.code, exc.message, ref, text)
                return
            await self.gstate.note(group.id, conn.user_id, frame.track_id, "complete")
            if await self.gstate.advance_if_playing(group.id, frame.track_id) is not None:
                self._queues.request(group_stream(group.id), "next")
        await self._ack(conn, ref, text)

    async def _feedback(
        self, conn: Connection, group: GroupRow, frame: Feedback, steer: bool, text: bool
    ) -> None:
        ref = None if frame.ref is None else str(frame.ref)
        try:
            # The group's queue changes before the event is durable; the ack waits until it is.
            async with feedback_recorded(self._state, conn.user_id, frame.track_id, frame.action,
                                         frame.position_ms, ref, group.id) as (event, created):
                if created and event is not None:
                    await self._steer(conn, group, frame, steer)
        except ApiError as exc:  # an unknown track
            await self._error(conn, exc.code, exc.message, frame.ref, text)
            return
        await self._ack(conn, frame.ref, text)

    async def _steer(self, conn: Connection, group: GroupRow, frame: Feedback, steer: bool) -> None:
        """A member's new feedback on the group's queue: noted as theirs, a skip of what plays
        counted as a vote (or, from whoever steers, obeyed), and the queue recomputed."""
        stream = group_stream(group.id)
        playback = await self.gstate.note_and_playback(group.id, conn.user_id, frame.track_id, frame.action)
        playing = playback is not None and playback.track_id == frame.track_id
        advance = voted = False
        if frame.action in SKIPPING and playing:
            voted = not steer
            advance = steer or await self._vote_passes(conn, group, playback)
        if await self._queues.apply(stream, frame.track_id, frame.action, advance) is None:
            await self._queues.rebuild(stream)
            await self._queues.apply(stream, frame.track_id, frame.action, advance)
        if voted:  # once the recompute is asked for: it need not wait for the view's reads
            await self.publish_group(group.id)

    async def _vote(self, conn: Connection, group: GroupRow) -> None:
        if await self._vote_passes(conn, group):
            playback = await self.gstate.playback(group.id)
            if playback is not None and await self.gstate.advance_if_playing(group.id, playback.track_id):
                self._queues.request(group_stream(group.id), "skip")
        await self.publish_group(group.id)

    async def _vote_passes(self, conn: Connection, group: GroupRow, playback: Playback | None = None) -> bool:
        """Count the sender's vote against what plays (``playback``, when the caller just read
        it); True once more than half of those present voted. The caller publishes the group
        frame that shows the count, once it has acted on the vote."""
        if playback is None:
            playback = await self.gstate.playback(group.id)
        if playback is None:
            return False
        voters, present = await self.gstate.vote_skip(group.id, conn.user_id, playback.track_id)
        present |= {conn.user_id}
        voters &= present
        return len(voters) * 2 > len(present)

    # -- empty groups end --------------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(SWEEP_EVERY_S, max(1.0, self._idle_s / 2)))
            try:
                for group_id in await groups.live_groups(self._state.db, older_than_s=self._idle_s):
                    if not await self.gstate.alive(group_id) and not await self.gstate.present(group_id):
                        log.info("group %s ended: nobody present for %.0f s", group_id, self._idle_s)
                        await group_rules.end(self._state, group_id, "idle")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the group sweep failed")

    # -- frames to one connection ------------------------------------------------------------

    async def _send(self, conn: Connection, frame: dict[str, Any], text: bool) -> None:
        await self._stream.send_local(conn, frame, text)

    async def _ack(self, conn: Connection, ref: protocol.Ref | None, text: bool) -> None:
        await self._stream.ack(conn, ref, text)

    async def _error(self, conn: Connection, code: str, message: str, ref: protocol.Ref | None,
                     text: bool) -> None:
        await self._stream.send_error(conn, code, message, ref, text)


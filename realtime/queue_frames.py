"""Queue snapshots: the compact form kept in Redis, and the `queue` frame sent to clients.

Redis holds a queue as ids with their score and reason (about 1 KB for 20 tracks); the frame
a client gets carries full Track objects (about 8 KB). The per-user resume log holds up to
ws_resume_window snapshots, so it stores the compact form and full frames are rebuilt from
PostgreSQL when a log is replayed. Live frames travel over pub/sub already rendered, so a
receiving instance does no database work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from app.store.moods import StoredMood
from app.views import mood_json, ranked_tracks_json
from realtime.track_cache import TrackCache
from recsys.catalog import CatalogTrack


@dataclass(frozen=True, slots=True)
class Ranked:
    """One queued track: its id, the engine's score and the reason shown to the listener, and
    in a group's queue the member who put it there (``(user id, username)``; None: the engine)."""

    id: int
    score: float
    reason: str
    added_by: tuple[int, str] | None = None

    def packed(self) -> list[Any]:
        if self.added_by is None:
            return [self.id, self.score, self.reason]
        return [self.id, self.score, self.reason, list(self.added_by)]

    @classmethod
    def unpacked(cls, raw: Sequence[Any]) -> Ranked:
        # Lua's cmsgpack drops a trailing nil, so a missing reason comes back as a short array.
        added = raw[3] if len(raw) > 3 and isinstance(raw[3], list | tuple) and len(raw[3]) == 2 else None
        return cls(int(raw[0]), float(raw[1]) if len(raw) > 1 else 0.0,
                   str(raw[2]) if len(raw) > 2 and raw[2] is not None else "",
                   (int(added[0]), str(added[1])) if added else None)

    def added_by_json(self) -> dict[str, Any] | None:
        return None if self.added_by is None else {"id": self.added_by[0], "username": self.added_by[1]}


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What a `queue` frame says, without its seq. ``group_id``: a listening group's queue."""

    now_playing: Ranked | None
    tracks: list[Ranked]
    mood: StoredMood | None
    reason: str
    group_id: int | None = None

    def track_ids(self) -> list[int]:
        head = [self.now_playing.id] if self.now_playing else []
        return head + [t.id for t in self.tracks]

    def pack(self) -> bytes:
        body: list[Any] = [
            self.now_playing.packed() if self.now_playing else None,
            [t.packed() for t in self.tracks],
            self.mood.to_record() if self.mood else None,
            self.reason,
        ]
        if self.group_id is not None:
            body.append(self.group_id)
        return msgpack.packb(body, use_bin_type=True)

    @classmethod
    def unpack(cls, data: bytes) -> QueueSnapshot:
        now_playing, queued, mood, reason, *rest = msgpack.unpackb(data, raw=False)
        return cls(
            Ranked.unpacked(now_playing) if now_playing else None,
            [Ranked.unpacked(t) for t in queued],
            StoredMood.from_record(mood) if mood else None,
            reason,
            int(rest[0]) if rest and rest[0] is not None else None,
        )

    def render(self, catalog: dict[int, CatalogTrack], seq: int | None = None) -> dict[str, Any]:
        """The `queue` frame. A track gone from the catalog since it was queued is left out."""
        frame: dict[str, Any] = {"type": "queue"}
        if seq is not None:
            frame["seq"] = seq
        np = self.now_playing
        frame["now_playing"] = next(iter(ranked_tracks_json(catalog, [np] if np else [])), None)
        frame["tracks"] = ranked_tracks_json(catalog, self.tracks)
        frame["mood"] = mood_json(self.mood)
        frame["reason"] = self.reason
        if self.group_id is not None:
            frame["group_id"] = self.group_id
            queued = [r for r in ([np] if np else []) + self.tracks if r.id in catalog]
            shown = ([frame["now_playing"]] if frame["now_playing"] else []) + frame["tracks"]
            for track, ranked in zip(shown, queued, strict=True):
                track["added_by"] = ranked.added_by_json()
        return frame


def pack_ranked(items: Iterable[Ranked]) -> bytes:
    return msgpack.packb([r.packed() for r in items], use_bin_type=True)


def unpack_ranked(data: bytes | None) -> list[Ranked]:
    if not data:
        return []
    return [Ranked.unpacked(r) for r in msgpack.unpackb(data, raw=False)]


def pack_one(item: Ranked | None) -> bytes:
    return msgpack.packb(item.packed(), use_bin_type=True) if item else b""


def unpack_one(data: bytes | None) -> Ranked | None:
    if not data:
        return None
    return Ranked.unpacked(msgpack.unpackb(data, raw=False))


async def render_many(
    catalog: TrackCache, snapshots: Sequence[tuple[int, QueueSnapshot]]
) -> list[dict[str, Any]]:
    """Full frames for (seq, snapshot) pairs, with one catalog lookup for all of them."""
    found = await catalog.get_many(i for _, snap in snapshots for i in snap.track_ids())
    return [snap.render(found, seq) for seq, snap in snapshots]

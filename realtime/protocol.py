"""The `/ws` wire format: client frames decoded and validated into typed frames, server frames
encoded. Binary frames are MessagePack maps; a text frame is the same map as JSON (for
debugging) and is answered in JSON.

Everything here is pure: no I/O, no state. Checks that need the database (does this track
exist?) belong to the session, which answers with the same ``error`` frame.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from recsys.actions import ACTIONS

# Bounds on what a decoded frame may contain. Real client frames are flat maps of a few keys;
# these leave room for extension while refusing structures built to burn CPU or memory.
MAX_DEPTH = 4
MAX_KEYS = 32
MAX_ARRAY = 256
MAX_TEXT = 200  # a free-text mood (as PUT /api/me/mood)
MAX_REF = 64  # client reference, stored as listening_events.client_ref
MAX_TRACK_ID = 2**63 - 1  # BIGINT
MAX_POSITION_MS = 24 * 3600 * 1000
_PRESET_ID = re.compile(r"^[a-z0-9_-]{1,40}$")

Ref = str | int


class ProtocolError(Exception):
    """A frame the server refuses; answered with an ``error`` frame, the connection stays up."""

    def __init__(self, code: str, message: str, ref: Ref | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True, slots=True)
class Hello:
    resume_after: int | None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class MoodChange:
    preset: str | None
    text: str | None
    energy: float | None
    valence: float | None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Feedback:
    track_id: int
    action: str
    position_ms: int | None
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Next:
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Play:
    """Play this track now (picked from search, similar tracks, the queue, or "previous")."""

    track_id: int
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class GroupJoin:
    """This connection follows the group's queue from now on."""

    group_id: int
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class GroupLeave:
    """This connection follows its owner's own queue again (membership stays)."""

    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class QueueAdd:
    track_id: int
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class VoteSkip:
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    client_ms: int | float
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class PlaybackControl:
    """Pause, resume or seek the group's shared track."""

    state: str
    position_ms: int
    ref: Ref | None = None


@dataclass(frozen=True, slots=True)
class Ended:
    """The sender's player reached the end of the group's track."""

    track_id: int
    ref: Ref | None = None


GroupFrame = GroupJoin | GroupLeave | QueueAdd | VoteSkip | PlaybackControl | Ended
ClientFrame = Hello | MoodChange | Feedback | Next | Ping | Play | Clock | GroupFrame
PLAYBACK_STATES = ("playing", "paused")


def decode(data: bytes | str | None) -> ClientFrame:
    """One client frame: bytes are MessagePack, str is JSON. Raises ProtocolError."""
    raw = _parse(data)
    _check_shape(raw, 0)
    if not isinstance(raw, dict):
        raise ProtocolError("not_a_map", "a frame must be a map with a \"type\"")
    ref = _ref(raw)
    kind = raw.get("type")
    if kind is None:
        raise ProtocolError("missing_field", "\"type\" is required", ref)
    if not isinstance(kind, str):
        raise ProtocolError("bad_field", "\"type\" must be a string", ref)
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError("unknown_type", f"unknown frame type {kind[:40]!r}", ref)
    return parser(raw, ref)


def encode(frame: dict[str, Any], text: bool) -> bytes | str:
    """A server frame in the client's format: JSON text, or a binary MessagePack map."""
    if text:
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return msgpack.packb(frame, use_bin_type=True)


_SEQ_KEY = msgpack.packb("seq")


def with_seq(packed: bytes, seq: int) -> bytes:
    """A MessagePack map (a frame as published, without a seq) with ``"seq": seq`` added as its
    last entry, without decoding the rest: a queue frame goes to every connection that follows
    its stream, and decoding and encoding it again per frame cost more than the rest of the
    hand-over."""
    first = packed[0]
    if 0x80 <= first <= 0x8E:  # fixmap with room for one more
        head, rest = bytes([first + 1]), packed[1:]
    elif first == 0x8F:  # fixmap of 15: becomes a map 16
        head, rest = b"\xde" + (16).to_bytes(2, "big"), packed[1:]
    elif first == 0xDE:
        head, rest = b"\xde" + (int.from_bytes(packed[1:3], "big") + 1).to_bytes(2, "big"), packed[3:]
    elif first == 0xDF:
        head, rest = b"\xdf" + (int.from_bytes(packed[1:5], "big") + 1).to_bytes(4, "big"), packed[5:]
    else:
        raise ValueError("not a MessagePack map")
    return head + rest + _SEQ_KEY + msgpack.packb(seq)


def error_frame(code: str, message: str, ref: Ref | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        frame["ref"] = ref
    return frame


def _parse(data: bytes | str | None) -> Any:
    if data is None or len(data) == 0:
        raise ProtocolError("bad_frame", "empty frame")
    try:
        if isinstance(data, str):
            return json.loads(data)
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            max_map_len=MAX_KEYS,
            max_array_len=MAX_ARRAY,
            max_ext_len=0,
        )
    # StackError/RecursionError: nesting far beyond MAX_DEPTH, refused by the decoders themselves.
    except (ValueError, msgpack.UnpackException, RecursionError, UnicodeDecodeError) as exc:
        kind = "JSON" if isinstance(data, str) else "MessagePack"
        raise ProtocolError("bad_frame", f"not a valid {kind} map: {type(exc).__name__}") from None


def _check_shape(value: Any, depth: int) -> None:
    """Nesting depth and container sizes, for JSON too (MessagePack's bounds are set above)."""
    if depth > MAX_DEPTH:
        raise ProtocolError("too_deep", f"frames nest at most {MAX_DEPTH} levels")
    if isinstance(value, dict):
        if len(value) > MAX_KEYS:
            raise ProtocolError("too_large", f"a map holds at most {MAX_KEYS} keys")
        for item in value.values():
            _check_shape(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ARRAY:
            raise ProtocolError("too_large", f"an array holds at most {MAX_ARRAY} items")
        for item in value:
            _check_shape(item, depth + 1)


def _ref(raw: dict[Any, Any]) -> Ref | None:
    ref = raw.get("ref")
    if ref is None:
        return None
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        raise ProtocolError("bad_field", "\"ref\" must be a string or an integer")
    if isinstance(ref, str) and not 0 < len(ref) <= MAX_REF:
        raise ProtocolError("bad_field", f"\"ref\" must be 1 to {MAX_REF} characters")
    if isinstance(ref, int) and not 0 <= ref <= MAX_TRACK_ID:
        raise ProtocolError("bad_field", "\"ref\" must be a non-negative 64-bit integer")
    return ref


def _int(raw: dict[Any, Any], key: str, ref: Ref | None, lo: int, hi: int, required: bool) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ProtocolError("missing_field", f"\"{key}\" is required", ref)
        return None
    # bool is an int in Python; true is not a track id.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("bad_field", f"\"{key}\" must be an integer", ref)
    if not lo <= value <= hi:
        raise ProtocolError("bad_field", f"\"{key}\" must be between {lo} and {hi}", ref)
    return value


def _unit(raw: dict[Any, Any], key: str, ref: Ref | None) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("bad_field", f"\"{key}\" must be a number from 0 to 1", ref)
    if not 0.0 <= value <= 1.0:
        raise ProtocolError("bad_field", f"\"{key}\" must be a number from 0 to 1", ref)
    return float(value)


def _hello(raw: dict[Any, Any], ref: Ref | None) -> Hello:
    return Hello(_int(raw, "resume_after", ref, 0, MAX_TRACK_ID, required=False), ref)


def _mood(raw: dict[Any, Any], ref: Ref | None) -> MoodChange:
    preset, text = raw.get("mood"), raw.get("text")
    if preset is not None and (not isinstance(preset, str) or not _PRESET_ID.match(preset)):
        raise ProtocolError("bad_field", "\"mood\" must be a mood id such as \"calm\"", ref)
    if text is not None:
        if not isinstance(text, str):
            raise ProtocolError("bad_field", "\"text\" must be a string", ref)
        text = " ".join(text.split())
        if not 0 < len(text) <= MAX_TEXT:
            raise ProtocolError("bad_field", f"\"text\" must be 1 to {MAX_TEXT} characters", ref)
    if (preset is None) == (text is None):
        # As PUT /api/me/mood: one or the other, so that a mood is never ambiguous.
        raise ProtocolError("bad_field", "a mood frame needs either \"mood\" or \"text\"", ref)
    return MoodChange(preset, text, _unit(raw, "energy", ref), _unit(raw, "valence", ref), ref)


def _feedback(raw: dict[Any, Any], ref: Ref | None) -> Feedback:
    track_id = _int(raw, "track_id", ref, 1, MAX_TRACK_ID, required=True)
    action = raw.get("action")
    if action is None:
        raise ProtocolError("missing_field", "\"action\" is required", ref)
    if action not in ACTIONS:
        raise ProtocolError("bad_field", f"\"action\" must be one of {', '.join(ACTIONS)}", ref)
    position = _int(raw, "position_ms", ref, 0, MAX_POSITION_MS, required=False)
    assert track_id is not None
    return Feedback(track_id, action, position, ref)


def _play(raw: dict[Any, Any], ref: Ref | None) -> Play:
    track_id = _int(raw, "track_id", ref, 1, MAX_TRACK_ID, required=True)
    assert track_id is not None
    return Play(track_id, ref)


def _track(raw: dict[Any, Any], ref: Ref | None) -> int:
    track_id = _int(raw, "track_id", ref, 1, MAX_TRACK_ID, required=True)
    assert track_id is not None
    return track_id


def _clock(raw: dict[Any, Any], ref: Ref | None) -> Clock:
    value = raw.get("client_ms")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("bad_field", "\"client_ms\" must be a number (the client's clock)", ref)
    return Clock(value, ref)


def _playback(raw: dict[Any, Any], ref: Ref | None) -> PlaybackControl:
    state = raw.get("state")
    if state not in PLAYBACK_STATES:
        raise ProtocolError("bad_field", "\"state\" must be \"playing\" or \"paused\"", ref)
    position = _int(raw, "position_ms", ref, 0, MAX_POSITION_MS, required=True)
    assert position is not None
    return PlaybackControl(state, position, ref)


_PARSERS: dict[str, Callable[[dict[Any, Any], Ref | None], ClientFrame]] = {
    "hello": _hello,
    "mood": _mood,
    "feedback": _feedback,
    "next": lambda raw, ref: Next(ref),
    "ping": lambda raw, ref: Ping(ref),
    "play": _play,
    "group_join": lambda raw, ref: GroupJoin(_int(raw, "group_id", ref, 1, MAX_TRACK_ID, True) or 0, ref),
    "group_leave": lambda raw, ref: GroupLeave(ref),
    "queue_add": lambda raw, ref: QueueAdd(_track(raw, ref), ref),
    "vote_skip": lambda raw, ref: VoteSkip(ref),
    "clock": _clock,
    "playback": _playback,
    "ended": lambda raw, ref: Ended(_track(raw, ref), ref),
}

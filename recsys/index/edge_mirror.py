"""The Edge host's mirror of its shard's stored rows, for ranking candidates on their vectors.

A blended query ranks ~180 candidates on their text and audio vectors; reading them from the
shard each time costs more than the query, and gathering 180 separate arrays costs more than
the ranking. So the rows sit in two preallocated matrices (text, audio), one slot per point, and
a query's candidates are gathered with one index operation; payloads and collab vectors (whose
length depends on the model) per slot beside them.

Exact: the host that holds the mirror performs every write to its shard, and each write updates
it (``put``, ``drop``). Bounded: at ``capacity`` points the oldest written slot is reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recsys.features import AUDIO_DIM
from recsys.index.base import TEXT_DIM

FIRST_CAPACITY = 1024  # slots allocated at first; doubled as needed up to the capacity
# What ``gather`` returns: the mirrored ids, and their payloads, text rows, audio rows, collabs.
Gathered = tuple[list[int], list[Any], np.ndarray, np.ndarray, list["np.ndarray | None"]]


class Mirror:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._slot: dict[int, int] = {}  # point -> slot, in the order written (the oldest first)
        self._free: list[int] = []
        self._text = np.zeros((0, TEXT_DIM), dtype=np.float32)
        self._audio = np.zeros((0, AUDIO_DIM), dtype=np.float32)
        self._payload: list[Any] = []
        self._collab: list[np.ndarray | None] = []

    def __contains__(self, point: int) -> bool:
        return point in self._slot

    def __len__(self) -> int:
        return len(self._slot)

    def put(self, point: int, payload: Any, text: np.ndarray, audio: np.ndarray,
            collab: np.ndarray | None) -> None:
        slot = self._slot.pop(point, None)  # popped: a rewritten point counts as the newest
        if slot is None:
            slot = self._free_slot()
        self._slot[point] = slot
        self._text[slot] = text
        self._audio[slot] = audio
        self._payload[slot] = payload
        self._collab[slot] = collab

    def drop(self, point: int) -> None:
        slot = self._slot.pop(point, None)
        if slot is not None:
            self._payload[slot] = self._collab[slot] = None
            self._free.append(slot)

    def gather(self, points: Sequence[int]) -> Gathered:
        """The mirrored ones of ``points`` (order kept), with their payloads, text rows, audio
        rows and collab vectors."""
        held = [p for p in points if p in self._slot]
        slots = [self._slot[p] for p in held]
        return (held, [self._payload[s] for s in slots], self._text[slots], self._audio[slots],
                [self._collab[s] for s in slots])

    def _free_slot(self) -> int:
        if self._free:
            return self._free.pop()
        used = len(self._slot)
        if used >= self.capacity:
            oldest = next(iter(self._slot))
            return self._slot.pop(oldest)
        if used >= len(self._payload):
            self._grow(min(self.capacity, max(FIRST_CAPACITY, 2 * len(self._payload))))
        return used

    def _grow(self, size: int) -> None:
        extra = size - len(self._payload)
        self._text = np.concatenate([self._text, np.zeros((extra, TEXT_DIM), dtype=np.float32)])
        self._audio = np.concatenate([self._audio, np.zeros((extra, AUDIO_DIM), dtype=np.float32)])
        self._payload.extend([None] * extra)
        self._collab.extend([None] * extra)

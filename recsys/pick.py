"""Choosing a list from a ranked candidate pool: near-duplicates out, relevance, MMR under a
per-artist cap; a pool too small is asked again larger, then the cap is relaxed.

Pure over Hits that carry their vectors. The engine (recsys/engine.py) describes a choice as
a ``PickSpec`` (plain data: sizes, the relevance rule as numbers, the duplicate keys already
taken) and either runs it here on the hits its index returns (``pick_async``) or hands it to
an index that picks next to its vectors (``PickingIndex``: the Edge host, in its own process,
so the server's event loop receives only the choice). Both run ``choose``: the same inputs
give the same list either way.

Invariant: a list is never shorter than the catalog allows. Only a catalog that truly runs out
of matching tracks gives fewer than ``size``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recsys.dedupe import DuplicateKey, distinct
from recsys.diversify import artists_of, mmr
from recsys.index.base import BlendWeights, Hit, TrackFilter, stack_rows

# When a pool cannot fill a list (few artists fit the mood), the next query asks this many
# times more candidates before the per-artist cap is relaxed.
POOL_GROWTH = 4
MAX_POOL = 1000


def popularity_prior(tracks: Sequence[Any], weight: float) -> np.ndarray:
    """The prior toward better-known tracks: ``weight`` per 100 points of popularity (tracks:
    anything with a ``payload``)."""
    popularity = np.array([float(t.payload.get("popularity") or 0.0) for t in tracks], dtype=np.float32)
    return weight * np.clip(popularity, 0.0, 100.0) / 100.0


@dataclass(frozen=True, slots=True)
class Relevance:
    """How a pool is scored before MMR: the blended score, plus the popularity prior, less
    ``banned_penalty`` for a track by a ``banned`` artist, plus ``extra_weight`` times the
    cosine of each extra named vector ("collab") to its target (0 for a track without it)."""

    popularity_weight: float
    banned: frozenset[str] = frozenset()
    banned_penalty: float = 0.0
    extra: tuple[tuple[str, np.ndarray], ...] = ()
    extra_weight: float = 0.0

    def scores(self, pool: Sequence[Hit]) -> np.ndarray:
        scores = np.array([h.score for h in pool], dtype=np.float32) + popularity_prior(
            pool, self.popularity_weight)
        if self.banned:
            scores = scores - self.banned_penalty * np.array(
                [bool(artists_of(h) & self.banned) for h in pool], dtype=np.float32
            )
        for name, target in self.extra:
            closeness = np.zeros(len(pool), dtype=np.float32)
            carrying = [i for i, h in enumerate(pool) if getattr(h, name, None) is not None]
            if carrying:
                vectors = stack_rows([getattr(pool[i], name) for i in carrying])
                norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
                closeness[carrying] = (vectors @ np.asarray(target, dtype=np.float32)) / norms
            scores = scores + self.extra_weight * closeness
        return scores

    def to_wire(self) -> list[Any]:
        return [self.popularity_weight, sorted(self.banned), self.banned_penalty,
                [[name, np.asarray(v, dtype=np.float32).tobytes()] for name, v in self.extra],
                self.extra_weight]

    @classmethod
    def from_wire(cls, wire: Sequence[Any]) -> Relevance:
        weight, banned, penalty, extra, extra_weight = wire
        return cls(float(weight), frozenset(banned), float(penalty),
                   tuple((str(name), np.frombuffer(v, dtype=np.float32)) for name, v in extra),
                   float(extra_weight))


@dataclass(frozen=True, slots=True)
class PickSpec:
    """One choice: ``size`` tracks by MMR (``lam``) from a pool of ``pool_size``, at most
    ``per_artist`` per artist before the cap is relaxed, none a near-duplicate of ``taken``."""

    pool_size: int
    size: int
    lam: float
    per_artist: int
    relevance: Relevance
    taken: tuple[DuplicateKey | None, ...] = ()

    def larger(self) -> int | None:
        """The pool to ask for when this one cannot fill the list; None at MAX_POOL."""
        return min(self.pool_size * POOL_GROWTH, MAX_POOL) if self.pool_size < MAX_POOL else None

    def to_wire(self) -> list[Any]:
        taken = [None if key is None else [sorted(key[0]), key[1]] for key in self.taken]
        return [self.pool_size, self.size, self.lam, self.per_artist, self.relevance.to_wire(), taken]

    @classmethod
    def from_wire(cls, wire: Sequence[Any]) -> PickSpec:
        pool_size, size, lam, per_artist, relevance, taken = wire
        keys = tuple(None if key is None else (frozenset(key[0]), str(key[1])) for key in taken)
        return cls(int(pool_size), int(size), float(lam), int(per_artist), Relevance.from_wire(relevance),
                   keys)


@dataclass(slots=True)
class Picked:
    """A list chosen from a pool: the chosen hits, the pool they came from (near-duplicates
    out, in rank order), and the hits that are only there because the per-artist cap was
    relaxed (their reasons say so)."""

    chosen: list[Hit]
    pool: list[Hit]
    over_cap: set[int] = field(default_factory=set)

    @property
    def spare(self) -> list[Hit]:
        ids = {h.id for h in self.chosen}
        return [h for h in self.pool if h.id not in ids]


def over_cap(chosen: Sequence[Hit], cap: int) -> set[int]:
    counts: dict[str, int] = {}
    over = set()
    for hit in chosen:
        names = artists_of(hit)
        if any(counts.get(a, 0) >= cap for a in names):
            over.add(hit.id)
        for a in names:
            counts[a] = counts.get(a, 0) + 1
    return over


def relaxed(pool: list[Hit], scores: np.ndarray, chosen: list[Hit], size: int, lam: float,
            per_artist: int) -> Picked:
    """The pick from ``pool``: ``chosen`` (MMR under the per-artist cap) when it is full, else
    MMR again with the cap relaxed step by step (x2, x4, ... then none)."""
    cap: int | None = per_artist
    while len(chosen) < min(size, len(pool)) and cap is not None:
        cap = cap * 2 if cap * 2 < size else None
        chosen = mmr(pool, size, lam=lam, max_per_artist=cap, relevance=scores)
    over = over_cap(chosen, per_artist) if cap != per_artist else set()
    return Picked(chosen, pool, over)


def choose(hits: Sequence[Hit], spec: PickSpec, final: bool) -> Picked | None:
    """The pick from one ranked pool; None when it cannot fill the list and a larger pool may
    still be asked for (not ``final``)."""
    pool = distinct(hits, spec.taken)
    scores = spec.relevance.scores(pool)
    chosen = mmr(pool, spec.size, lam=spec.lam, max_per_artist=spec.per_artist, relevance=scores)
    if len(chosen) < spec.size and not final:
        return None
    return relaxed(pool, scores, chosen, spec.size, spec.lam, spec.per_artist)


def pick(search: Callable[[int], Sequence[Hit]], spec: PickSpec) -> Picked:
    """``choose`` from ``search(pool_size)``, once more from the larger pool when needed."""
    larger = spec.larger()
    picked = choose(search(spec.pool_size), spec, final=larger is None)
    if picked is None:
        assert larger is not None
        picked = choose(search(larger), spec, final=True)
        assert picked is not None
    return picked


async def pick_async(search: Callable[[int], Awaitable[Sequence[Hit]]], spec: PickSpec) -> Picked:
    """``pick`` over an awaitable search."""
    larger = spec.larger()
    picked = choose(await search(spec.pool_size), spec, final=larger is None)
    if picked is None:
        assert larger is not None
        picked = choose(await search(larger), spec, final=True)
        assert picked is not None
    return picked


@runtime_checkable
class PickingIndex(Protocol):
    """A TrackIndex that picks next to its vectors: ``search_blend`` of the spec's pool size
    (then of ``spec.larger()`` when needed), then ``choose``, and the Picked hits as
    ``search_blend`` would return them."""

    async def search_pick(
        self,
        text_vec: np.ndarray | None,
        audio_vec: np.ndarray | None,
        weights: BlendWeights,
        flt: TrackFilter | None,
        spec: PickSpec,
        collab_vec: np.ndarray | None = None,
        collab_version: str | None = None,
    ) -> Picked: ...

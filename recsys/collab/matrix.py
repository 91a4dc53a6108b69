"""Listening rows → a sparse user x track confidence matrix, built chunk by chunk.

A row is ``(user_key, track_id | None, artist, outcome, weight, at)``: an app listening
event (outcome = the action, weight 1) or an imported listen (outcome complete/skip, weight
= its play count for aggregated rows such as HetRec's). Memory stays bounded by the number
of distinct (user, track) pairs, not rows: each chunk becomes three numpy arrays, and the
arrays are summed into a CSR matrix (duplicates added) every ``compact_every`` entries.

The confidences (signed "evidence units"; see Confidences for the numbers and why):
- per row: outcome value x weight x recency factor (x the artist share for artist rows);
- per (user, track) pair: the signed sum s of its rows, plus the like state's value;
- in the matrix: sign(s) * log2(1 + |s|): repeated plays count with diminishing returns
  (the 300th listen of a favourite says little more than the 30th; HetRec's raw play counts
  go up to 350k), and a negative value is what ``implicit`` reads as "disliked, with this
  confidence". ALS then turns a value v into confidence 1 + alpha*|v| (alpha: TrainParams).

Invariants: rows of excluded users, and rows of a user at or after that user's cut-off,
never reach the matrix (evaluation's held-out parts); a row on a track outside the
catalog given is dropped (counted in ``stats``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

Row = tuple[str, int | None, str, str, float, datetime | None]


@dataclass(frozen=True, slots=True)
class Confidences:
    """How much each kind of evidence counts, in units of "one completed listen".

    - complete = 1: the basic implicit positive: the listener let the track play out.
    - like = 4: an explicit, deliberate verdict, rarer and stronger than a listen; a state,
      so only the LAST like/unlike of a pair counts (an unlike cancels the like).
    - skip = -0.5: a weak negative: a skip often means "not now", not "never"; two skips
      cancel one complete.
    - dislike = -3: an explicit negative, nearly as strong as a like.
    - play = 0: in this app every play is followed by its outcome (complete, skip or
      dislike); counting the play as well would add +1 to every skipped track, and a play
      with no outcome (the app closed) says nothing about taste.
    - Imported listens: complete/skip with their weight (play count) as a multiplier; the
      pair-level log then scales HetRec's counts.
    - artist_share = 0.5: a row known only at artist level (track_id None) is spread over
      that artist's tracks in proportion to popularity (top ``max_artist_tracks``), at half
      strength: it says the listener likes the artist, not which track.
    - recency: x 0.5 ** (age / half_life_days), never below ``recency_floor`` (old taste still
      counts); undated rows (aggregates) get ``undated`` (their age is unknown).
    """

    complete: float = 1.0
    like: float = 4.0
    skip: float = -0.5
    dislike: float = -3.0
    play: float = 0.0
    artist_share: float = 0.5
    max_artist_tracks: int = 50
    half_life_days: float = 180.0
    recency_floor: float = 0.25
    undated: float = 0.5

    def outcome(self, outcome: str) -> float | None:
        """The value of an outcome; None for the verdicts (like/unlike: handled as a state)
        and for unknown outcomes (ignored)."""
        return {
            "complete": self.complete,
            "skip": self.skip,
            "dislike": self.dislike,
            "play": self.play,
        }.get(outcome)


@dataclass(slots=True)
class InteractionMatrix:
    """The built matrix: ``values`` is users x items CSR float32 (signed, log-scaled)."""

    values: sp.csr_matrix
    user_keys: list[str]
    track_ids: np.ndarray  # (n_items,) int64: column → track id
    stats: dict[str, int] = field(default_factory=dict)

    def support(self) -> np.ndarray:
        """Per track: how many users have positive evidence on it, (n_items,) int."""
        positive = self.values.copy()
        positive.data = (positive.data > 0).astype(np.float32)
        positive.eliminate_zeros()
        return np.asarray(positive.sum(axis=0)).ravel().astype(np.int64)


class MatrixBuilder:
    """Feed rows in chunks with ``add``; ``build`` once at the end.

    track_ids: the catalog (the matrix's columns). artist_tracks: normalised artist name →
    [(track id, popularity)] for spreading artist-level rows. exclude_user_keys / cutoffs:
    what evaluation holds out (see the module docstring).
    """

    def __init__(
        self,
        track_ids: Sequence[int] | np.ndarray,
        artist_tracks: Mapping[str, Sequence[tuple[int, float]]] | None = None,
        confidences: Confidences | None = None,
        exclude_user_keys: Iterable[str] = (),
        cutoffs: Mapping[str, datetime] | None = None,
        now: datetime | None = None,
        compact_every: int = 2_000_000,
    ) -> None:
        self._conf = confidences or Confidences()
        self._track_ids = np.asarray(track_ids, dtype=np.int64)
        self._column = {int(t): i for i, t in enumerate(self._track_ids)}
        self._spread = self._artist_spread(artist_tracks or {})
        self._excluded = frozenset(exclude_user_keys)
        self._cutoffs = dict(cutoffs or {})
        self._now = now or datetime.now(UTC)
        self._compact_every = compact_every
        self._users: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._buffered = 0
        self._sum: sp.csr_matrix | None = None  # compacted so far (raw signed sums)
        self._verdicts: dict[tuple[int, int], bool] = {}  # (user, column) → liked, last wins
        self.stats = {"rows": 0, "used": 0, "excluded": 0, "unknown_track": 0, "artist_rows": 0,
                      "ignored": 0}

    def _artist_spread(
        self, artist_tracks: Mapping[str, Sequence[tuple[int, float]]]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        spread = {}
        for artist, tracks in artist_tracks.items():
            known = [(self._column[t], max(float(p or 0.0), 0.0)) for t, p in tracks if t in self._column]
            if not known:
                continue
            known.sort(key=lambda cp: -cp[1])
            known = known[: self._conf.max_artist_tracks]
            cols = np.array([c for c, _ in known], dtype=np.int32)
            # Popularity + 1: unknown popularities (0) still get a share.
            weights = np.array([p + 1.0 for _, p in known], dtype=np.float64)
            spread[artist] = (cols, (weights / weights.sum()).astype(np.float32))
        return spread

    def _recency(self, at: datetime | None) -> float:
        if at is None:
            return self._conf.undated
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        age_days = max((self._now - at).total_seconds() / 86400.0, 0.0)
        return max(0.5 ** (age_days / self._conf.half_life_days), self._conf.recency_floor)

    def _user(self, key: str) -> int:
        index = self._users.get(key)
        if index is None:
            index = self._users[key] = len(self._users)
        return index

    def add(self, rows: Iterable[Row | Sequence[Any]]) -> None:
        """Add one chunk of rows (in id order: the like state depends on it)."""
        conf = self._conf
        us: list[int] = []
        cs: list[int] = []
        vs: list[float] = []
        for user_key, track_id, artist, outcome, weight, at in rows:
            self.stats["rows"] += 1
            if user_key in self._excluded:
                self.stats["excluded"] += 1
                continue
            cutoff = self._cutoffs.get(user_key)
            if cutoff is not None and (at is None or at >= cutoff):
                # Undated aggregates cannot be split by time: all of them are held out.
                self.stats["excluded"] += 1
                continue
            if outcome in ("like", "unlike"):
                column = self._column.get(int(track_id)) if track_id is not None else None
                if column is None:
                    self.stats["unknown_track"] += 1
                    continue
                self._verdicts[(self._user(user_key), column)] = outcome == "like"
                self.stats["used"] += 1
                continue
            value = conf.outcome(outcome)
            if not value:
                self.stats["ignored"] += 1
                continue
            value *= float(weight) * self._recency(at)
            if track_id is not None:
                column = self._column.get(int(track_id))
                if column is None:
                    self.stats["unknown_track"] += 1
                    continue
                us.append(self._user(user_key))
                cs.append(column)
                vs.append(value)
            else:
                spread = self._spread.get(artist)
                if spread is None:
                    self.stats["unknown_track"] += 1
                    continue
                self.stats["artist_rows"] += 1
                cols, shares = spread
                user = self._user(user_key)
                us.extend([user] * len(cols))
                cs.extend(cols.tolist())
                vs.extend((shares * (value * conf.artist_share)).tolist())
            self.stats["used"] += 1
        if us:
            self._rows.append(np.asarray(us, dtype=np.int32))
            self._cols.append(np.asarray(cs, dtype=np.int32))
            self._vals.append(np.asarray(vs, dtype=np.float32))
            self._buffered += len(us)
            if self._buffered >= self._compact_every:
                self._compact()

    def _compact(self, n_users: int | None = None) -> None:
        """Sum the buffered entries into the running CSR (duplicates add up)."""
        n_users = n_users if n_users is not None else max(len(self._users), 1)
        shape = (n_users, len(self._track_ids))
        if self._rows:
            chunk = sp.coo_matrix(
                (np.concatenate(self._vals), (np.concatenate(self._rows), np.concatenate(self._cols))),
                shape=shape,
            ).tocsr()
        else:
            chunk = sp.csr_matrix(shape, dtype=np.float32)
        self._rows, self._cols, self._vals, self._buffered = [], [], [], 0
        if self._sum is None:
            self._sum = chunk
        else:
            previous = self._sum
            previous.resize(shape)  # users seen since the last compaction
            self._sum = (previous + chunk).tocsr()

    def build(self) -> InteractionMatrix:
        n_users = max(len(self._users), 1)
        self._compact(n_users)
        assert self._sum is not None
        total = self._sum.tocoo()
        rows, cols, vals = total.row, total.col, total.data.astype(np.float32)
        if self._verdicts:
            liked = [(u, c) for (u, c), state in self._verdicts.items() if state]
            if liked:
                lu, lc = zip(*liked, strict=True)
                rows = np.concatenate([rows, np.asarray(lu, dtype=np.int32)])
                cols = np.concatenate([cols, np.asarray(lc, dtype=np.int32)])
                vals = np.concatenate([vals, np.full(len(liked), self._conf.like, dtype=np.float32)])
        summed = sp.coo_matrix((vals, (rows, cols)), shape=(n_users, len(self._track_ids))).tocsr()
        summed.sum_duplicates()
        summed.data = (np.sign(summed.data) * np.log2(1.0 + np.abs(summed.data))).astype(np.float32)
        summed.eliminate_zeros()
        self._sum = None
        users = [""] * len(self._users)
        for key, index in self._users.items():
            users[index] = key
        stats = dict(self.stats)
        stats.update(users=len(self._users), pairs=int(summed.nnz))
        return InteractionMatrix(summed.astype(np.float32), users, self._track_ids.copy(), stats)


"""Fold-in: a listener's collab vector solved from the item factors, the way ALS solves it.

An averaged item vector is a weak user vector: it ignores what the listener did NOT play
(ALS's zeros) and how sure each observation is. Given a model's item factors Y, ALS's user
step for one user with confidences c_i on observed items i is one least-squares solve
(implicit's ``least_squares``, which this mirrors exactly, so a fold-in of a trained user's
own row lands on that user's trained factor):

    (YᵀY + λI + Σ_i (c_i - 1) y_i y_iᵀ) x = Σ_{v_i > 0} c_i y_i,    c_i = alpha·|v_i|

where v_i is the signed, log-scaled value the matrix would hold (recsys.collab.matrix: a
negative value is "disliked, with this confidence": it adds confidence, no target). YᵀY is
the one expensive part: ``FoldIn`` computes it once per model (d x d), after which a user is
one d x d solve over their own rows, microseconds for d = 64.

Invariants: a FoldIn belongs to ONE model (``version``); callers fold in only vectors of that
model (two models' spaces are unrelated). It is built from the vectors the index holds
(L2-normalised rows), of warm tracks only: a cold track's vector is predicted from content,
not learned, and ALS never saw it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recsys.collab.matrix import Confidences
from recsys.collab.model import COLD_CONFIDENCE, CollabModel
from recsys.collab.train import TrainParams
from recsys.index.base import COLLAB_CONFIDENCE, COLLAB_VERSION, TrackIndex

_CONFIDENCES = Confidences()


def matrix_value(evidence: float) -> float:
    """A signed sum of evidence units → the value the matrix holds: sign · log2(1 + |s|)."""
    return math.copysign(math.log2(1.0 + abs(evidence)), evidence) if evidence else 0.0


def evidence_of(outcome: str, confidences: Confidences = _CONFIDENCES) -> float:
    """An outcome's evidence units as training counts them (like: the like state's value);
    0 for a bare play, an unlike or an unknown outcome."""
    if outcome == "like":
        return confidences.like
    return confidences.outcome(outcome) or 0.0


@dataclass(frozen=True, slots=True)
class FoldIn:
    """One model's fold-in: YᵀY + λI precomputed; ``user_vector`` solves one user."""

    version: str
    base: np.ndarray  # (d, d) float64: YᵀY + λI
    alpha: float

    @classmethod
    def from_vectors(
        cls, version: str, vectors: np.ndarray, params: TrainParams | None = None
    ) -> FoldIn:
        """From the item vectors of a model's warm tracks, (n, d)."""
        params = params or TrainParams()
        y = np.asarray(vectors, dtype=np.float64)
        if y.ndim != 2 or len(y) == 0:
            raise ValueError(f"fold-in needs a non-empty (n, d) matrix of item vectors, got {y.shape}")
        base = y.T @ y + params.regularization * np.eye(y.shape[1])
        return cls(version, base, params.alpha)

    @property
    def dim(self) -> int:
        return int(self.base.shape[0])

    def user_vector(
        self, items: np.ndarray | Sequence[np.ndarray], values: Sequence[float]
    ) -> np.ndarray | None:
        """The user factor for observed items (rows of ``items``) with matrix ``values``
        (signed, log-scaled); None without any positive value (ALS's answer would be 0)."""
        vals = np.asarray(values, dtype=np.float64)
        if not np.any(vals > 0):
            return None
        y = np.asarray(items, dtype=np.float64).reshape(len(vals), -1)
        if y.shape[1] != self.dim:
            raise ValueError(f"item vectors of dim {y.shape[1]}, the model's is {self.dim}")
        c = self.alpha * np.abs(vals)
        a = self.base + (y * (c - 1.0)[:, None]).T @ y
        b = ((np.where(vals > 0, c, 0.0))[:, None] * y).sum(axis=0)
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            x = np.linalg.lstsq(a, b, rcond=None)[0]
        return x.astype(np.float32)


def _is_warm(confidence: float) -> bool:
    # The payload holds a float32: 0.05 reads back as 0.0500000007.
    return confidence > COLD_CONFIDENCE + 1e-6


def model_fold_in(model: CollabModel, params: TrainParams | None = None) -> FoldIn | None:
    """The fold-in of a model in memory (the one this process just trained): the same warm
    tracks ``index_fold_in`` would read back from the index, without reading it."""
    warm = np.asarray([_is_warm(float(c)) for c in model.confidence], dtype=bool)
    if not warm.any():
        return None
    return FoldIn.from_vectors(model.version, model.vectors[warm], params)


async def index_fold_in(
    index: TrackIndex, ids: list[int], version: str, params: TrainParams | None = None, page: int = 256
) -> FoldIn | None:
    """The fold-in of the model ``version`` the index holds: its warm tracks' vectors (a cold
    track's vector is predicted from content, ALS never saw it); None without any. Read in
    small pages: each is one call on the index's single thread, which queries wait behind."""
    vectors: list[np.ndarray] = []
    for start in range(0, len(ids), page):
        points = await index.points(ids[start:start + page])
        for point in points.values():
            payload = point.payload
            if (
                point.collab is not None
                and payload.get(COLLAB_VERSION) == version
                and _is_warm(float(payload.get(COLLAB_CONFIDENCE) or 0.0))
            ):
                vectors.append(np.asarray(point.collab, dtype=np.float32))
    if not vectors:
        return None
    return FoldIn.from_vectors(version, np.stack(vectors), params)

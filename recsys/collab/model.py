"""The trained collaborative model as the index installs it, with the cold-track fallback.

- Warm tracks (someone has evidence on them) get their ALS item factors, with a confidence
  n / (n + CONFIDENCE_HALF) for n users with evidence: 1 user → 0.17, 5 → 0.5, 45 → 0.9.
  The engine's blend scales the collab similarity by it (recsys.index.base), so a vector
  learned from one listener barely moves a ranking and one learned from fifty does.
- Cold tracks (no evidence, e.g. added yesterday) get a vector PREDICTED from their content:
  a ridge regression from [text, audio] to the collab space, fitted on the well-supported
  warm tracks, with a low fixed confidence (COLD_CONFIDENCE). A new track then lands near
  the tracks that sound and read like it, and still gets recommended, mostly on content.
- Tracks with neither evidence nor content (not in the index) get no vector.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from recsys.collab.matrix import InteractionMatrix
from recsys.collab.train import TrainParams, normalise_rows, train_item_factors
from recsys.index.base import CollabVectors

CONFIDENCE_HALF = 5.0  # users of evidence at which a track's confidence is 0.5
COLD_CONFIDENCE = 0.05
RIDGE_MIN_SUPPORT = 3  # users with positive evidence for a track to teach the regression
RIDGE_LAMBDA = 1.0


class NotEnoughData(Exception):
    """Too little listening data to train anything meaningful."""


@dataclass(slots=True)
class CollabModel:
    """A trained model: one row per track that has a vector."""

    version: str
    dim: int
    track_ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32, L2-normalised rows
    confidence: np.ndarray  # (n,) float32 in [0, 1]
    stats: dict[str, Any] = field(default_factory=dict)

    def index_vectors(self) -> CollabVectors:
        return CollabVectors(self.version, self.track_ids, self.vectors, self.confidence)

    def vector(self, track_id: int) -> np.ndarray | None:
        hits = np.nonzero(self.track_ids == track_id)[0]
        return self.vectors[int(hits[0])] if len(hits) else None


def new_version(now: datetime | None = None, salt: str = "") -> str:
    """A sortable, index-safe version string: UTC time plus a short hash."""
    now = now or datetime.now(UTC)
    digest = hashlib.sha1(f"{now.isoformat()}{salt}{time.perf_counter_ns()}".encode()).hexdigest()[:6]
    return f"{now:%Y%m%dT%H%M%S}-{digest}"


def content_features(text: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """The regression's input: text (normalised) and audio (standardised), side by side."""
    return np.hstack([np.asarray(text, dtype=np.float32), np.asarray(audio, dtype=np.float32)])


def fit_ridge(x: np.ndarray, y: np.ndarray, lam: float = RIDGE_LAMBDA) -> np.ndarray:
    """W (d+1, k) with a bias row: min |[x 1] W - y|^2 + lam |W|^2 (closed form, float64)."""
    xb = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)]).astype(np.float64)
    gram = xb.T @ xb + lam * np.eye(xb.shape[1])
    return np.linalg.solve(gram, xb.T @ y.astype(np.float64))


def predict_ridge(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    xb = np.hstack([x, np.ones((len(x), 1), dtype=x.dtype)]).astype(np.float64)
    return (xb @ weights).astype(np.float32)


def fit_model(
    matrix: InteractionMatrix,
    content: Mapping[int, tuple[np.ndarray, np.ndarray]],
    params: TrainParams | None = None,
    version: str | None = None,
) -> CollabModel:
    """Train ALS on ``matrix`` and complete cold tracks from ``content`` (track id → (text,
    audio) vectors, as the index holds them)."""
    params = params or TrainParams()
    values = matrix.values
    if values.nnz == 0 or len(matrix.user_keys) < 2:
        raise NotEnoughData(f"{values.nnz} interactions from {len(matrix.user_keys)} users")
    started = time.perf_counter()
    factors = train_item_factors(values, params)
    trained_s = time.perf_counter() - started

    # Evidence per track: users with any non-zero value (a dislike is evidence too).
    evidence = np.diff(values.tocsc().indptr).astype(np.int64)
    positive = matrix.support()
    warm = evidence > 0
    confidence = (evidence / (evidence + CONFIDENCE_HALF)).astype(np.float32)

    ids = matrix.track_ids
    cold = [i for i in np.nonzero(~warm)[0] if int(ids[i]) in content]
    teachers = [i for i in np.nonzero(positive >= RIDGE_MIN_SUPPORT)[0] if int(ids[i]) in content]
    if len(teachers) < 2:  # too few: any warm track with content will do
        teachers = [i for i in np.nonzero(warm)[0] if int(ids[i]) in content]
    predicted = 0
    out_rows = list(np.nonzero(warm)[0])
    vectors = factors.copy()
    if cold and len(teachers) >= 2:
        x_teach = np.stack([content_features(*content[int(ids[i])]) for i in teachers])
        w = fit_ridge(x_teach, factors[teachers])
        x_cold = np.stack([content_features(*content[int(ids[i])]) for i in cold])
        vectors[cold] = normalise_rows(predict_ridge(w, x_cold))
        confidence[cold] = COLD_CONFIDENCE
        out_rows.extend(cold)
        predicted = len(cold)
    out_rows.sort()
    rows = np.asarray(out_rows, dtype=np.int64)
    stats: dict[str, Any] = dict(matrix.stats)
    stats.update(warm_tracks=int(warm.sum()), cold_predicted=predicted, teachers=len(teachers),
                 als_s=round(trained_s, 3))
    return CollabModel(
        version=version or new_version(),
        dim=int(factors.shape[1]),
        track_ids=ids[rows].astype(np.int64),
        vectors=np.ascontiguousarray(vectors[rows], dtype=np.float32),
        confidence=confidence[rows].astype(np.float32),
        stats=stats,
    )

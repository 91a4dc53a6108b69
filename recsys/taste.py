"""A listener's long-term taste: their whole history of outcomes, as per-vector centroids.

``build_taste`` is a pure function of rows (a track's named vectors, an outcome, its age in
days, a weight), so the server, the offline evaluation and the tests build it alike:
- an outcome has a signed weight (like +1, complete +0.6, skip -0.5, dislike -1: the live
  session's, recsys.session.ACTION_WEIGHTS), times ``1 + ln(plays)`` for a row that stands
  for several plays (an aggregated import: 1000 plays must not drown everything else), times
  ``0.5 ** (age_days / Tuning.taste_half_life_days)``;
- ``pull[name]`` is the weighted mean of the positive rows' vectors, for every named vector
  the rows carry ("text", "audio", and "collab" where the index has it), ``push[name]`` that of
  the negative rows; a name absent from some rows is averaged over the rows that have it;
- ``pull_strength`` / ``push_strength`` saturate with the evidence (``1 - exp(-total)``): a
  few old plays make a faint taste, a long history a full one;
- ``artists``: positive plays per artist (normalised name, a display name, the count),
  most first. Rows without vectors (an artist-level import) count toward artists only;
- collab vectors come from one model only (two models' spaces are unrelated): the model
  most rows carry (``TasteRow.collab_version``; ties: the newest version string), named in
  ``Taste.collab_version``; other rows' collab vectors are left out;
- ``collab_rows``: that model's vectors of the rows' tracks with the value the training matrix
  would give the listener on each (evidence units of recsys.collab.matrix.Confidences x plays
  x the taste's decay, summed per track, log-scaled): what a fold-in (recsys.collab.foldin)
  solves the listener's collab vector from. Given the model's ``FoldIn``, ``pull["collab"]``
  IS that solved vector (normalised) and ``push`` has no collab centroid: the solve already
  weighs skips and dislikes, and an average of item vectors is a weak user vector.
A history with no vectors and no artists has no taste: ``None``.

The taste steers a session as one pseudo-signal (recsys.session), weaker than a fresh like,
so what the listener does now soon outweighs what they did before.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recsys.collab.foldin import FoldIn, evidence_of, matrix_value
from recsys.index.base import normalise_name
from recsys.tuning import DEFAULT_TUNING, Tuning

# The outcomes a taste learns from and their signed weights (the live session's; a test keeps
# them equal to recsys.session.ACTION_WEIGHTS). A bare "play" says nothing yet.
OUTCOME_WEIGHTS: dict[str, float] = {"like": 1.0, "complete": 0.6, "skip": -0.5, "dislike": -1.0}
TOP_ARTISTS = 20


@dataclass(frozen=True, slots=True)
class TasteRow:
    """One past outcome. ``vectors`` is empty for an artist-level imported listen."""

    outcome: str
    age_days: float
    vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    artists: tuple[str, ...] = ()
    weight: float = 1.0  # how many plays the row stands for (aggregated imports: > 1)
    collab_version: str | None = None  # the model of vectors["collab"], where present


@dataclass(frozen=True, slots=True)
class Taste:
    pull: dict[str, np.ndarray]
    push: dict[str, np.ndarray]
    pull_strength: float
    push_strength: float
    artists: tuple[tuple[str, str, int], ...]  # (normalised name, display name, positive count)
    rows: int
    collab_version: str | None = None  # the model of pull/push["collab"]
    # (collab vector, matrix value) per track of that model: the fold-in's input.
    collab_rows: tuple[tuple[np.ndarray, float], ...] = ()

    def frequent_artist(self, names: Iterable[str], min_count: int) -> str | None:
        """The display name of the most played of ``names`` if played at least ``min_count``
        times (names compare normalised), else None."""
        wanted = {normalise_name(n) for n in names}
        for key, display, count in self.artists:  # most played first
            if count < min_count:
                return None
            if key in wanted:
                return display
        return None


def _saturation(total: float) -> float:
    return 1.0 - float(np.exp(-total))


Weighted = Sequence[tuple[float, Mapping[str, np.ndarray]]]


def _centroids(items: Weighted) -> tuple[dict[str, np.ndarray], float]:
    sums: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    total = 0.0
    for weight, vectors in items:
        total += weight
        for name, vector in vectors.items():
            v = np.asarray(vector, dtype=np.float64)
            sums[name] = sums[name] + weight * v if name in sums else weight * v
            weights[name] = weights.get(name, 0.0) + weight
    means = {name: (sums[name] / max(weights[name], 1e-12)).astype(np.float32) for name in sums}
    return means, total


def build_taste(
    rows: Iterable[TasteRow], tuning: Tuning = DEFAULT_TUNING, fold_in: FoldIn | None = None
) -> Taste | None:
    """The taste of a history (see the module docstring); unknown outcomes are ignored.
    ``fold_in``: the installed model's, used when it is the model the rows' collab vectors
    come from."""
    rows = list(rows)
    version = _collab_version(rows)
    positives: list[tuple[float, Mapping[str, np.ndarray]]] = []
    negatives: list[tuple[float, Mapping[str, np.ndarray]]] = []
    counts: dict[str, float] = {}
    display: dict[str, str] = {}
    seen = 0
    evidence: dict[bytes, tuple[np.ndarray, float]] = {}  # per track (its vector's bytes)
    for row in rows:
        base = OUTCOME_WEIGHTS.get(row.outcome)
        if base is None:
            continue
        seen += 1
        decay = 0.5 ** (max(row.age_days, 0.0) / tuning.taste_half_life_days)
        plays = max(row.weight, 0.0)
        weight = base * (1.0 + math.log(plays) if plays >= 1.0 else plays) * decay
        vectors = row.vectors
        if "collab" in vectors and row.collab_version != version:
            vectors = {name: v for name, v in vectors.items() if name != "collab"}
        if "collab" in vectors:
            units = evidence_of(row.outcome) * max(plays, 0.0) * decay
            vector = np.asarray(vectors["collab"], dtype=np.float32)
            track = vector.tobytes()
            evidence[track] = (vector, evidence.get(track, (vector, 0.0))[1] + units)
        if vectors and weight != 0.0:
            (positives if weight > 0 else negatives).append((abs(weight), vectors))
        if base > 0:
            for name in row.artists:
                key = normalise_name(name)
                if key:
                    counts[key] = counts.get(key, 0.0) + max(plays, 0.0)
                    display.setdefault(key, " ".join(name.split()))
    if not positives and not negatives and not counts:
        return None
    pull, pull_total = _centroids(positives)
    push, push_total = _centroids(negatives)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_ARTISTS]
    collab_rows = tuple((v, matrix_value(s)) for v, s in evidence.values() if s)
    if fold_in is not None and version is not None and fold_in.version == version and collab_rows:
        push.pop("collab", None)
        pull.pop("collab", None)
        user = fold_in.user_vector([v for v, _ in collab_rows], [s for _, s in collab_rows])
        norm = float(np.linalg.norm(user)) if user is not None else 0.0
        if user is not None and norm > 1e-9:
            pull["collab"] = (user / norm).astype(np.float32)
    return Taste(
        pull=pull,
        push=push,
        pull_strength=_saturation(pull_total),
        push_strength=_saturation(push_total),
        artists=tuple((key, display[key], round(n)) for key, n in top),
        rows=seen,
        collab_version=version if ("collab" in pull or "collab" in push) else None,
        collab_rows=collab_rows,
    )


def _collab_version(rows: Sequence[TasteRow]) -> str | None:
    """The model most rows' collab vectors come from (ties: the newest version string)."""
    counts: dict[str, int] = {}
    for row in rows:
        if "collab" in row.vectors and row.collab_version:
            counts[row.collab_version] = counts.get(row.collab_version, 0) + 1
    return max(counts, key=lambda v: (counts[v], v)) if counts else None

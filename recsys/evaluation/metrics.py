"""Ranking and session metrics, as plain functions over lists (binary relevance throughout)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def precision_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    """Share of the first k that are relevant; a list shorter than k counts its gaps as misses."""
    if k <= 0:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at(ranked: Sequence[object], relevant: Collection[object], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at(
    ranked: Sequence[object], relevant: Collection[object], k: int, ideal_hits: int | None = None
) -> float:
    """nDCG@k with gains 1/log2(rank+1). ``ideal_hits``: how many relevant items exist in
    total when ``relevant`` is not that set itself (tracks judged by artist: every track of a
    relevant artist counts), so the ideal list is as long as what could have been found."""
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    best = min(k, len(relevant) if ideal_hits is None else ideal_hits)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(best))
    return dcg / idcg if idcg > 0 else 0.0


def tracks_until_streak(accepted: Sequence[bool], streak: int = 3) -> int | None:
    """1-based position at which ``streak`` accepted tracks in a row are first complete, or None."""
    run = 0
    for position, ok in enumerate(accepted, start=1):
        run = run + 1 if ok else 0
        if run >= streak:
            return position
    return None


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else float((ordered[mid - 1] + ordered[mid]) / 2)

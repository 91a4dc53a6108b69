"""Choosing and ordering a list from a ranked candidate pool: diversity, artist spacing, flow.

Pure functions over Hits that carry their vectors (``search_blend`` results). The pools are
a few hundred rows at most, so the numpy here is small and runs inline. Everything is
deterministic: ties fall to the candidate ranked first (pools are sorted by score, then id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from recsys.features import audio_similarity, neutral_value
from recsys.index.base import Hit, stack_rows

NO_ARTIST: frozenset[str] = frozenset()


def artists_of(hit: Hit) -> frozenset[str]:
    return frozenset(hit.payload.get("artist") or ())


def energy_of(hit: Hit) -> float:
    value = hit.payload.get("energy")
    return float(value) if value is not None else neutral_value("energy")


def _stack_vectors(hits: Sequence[Hit]) -> tuple[np.ndarray, np.ndarray]:
    texts, audios = [], []
    for h in hits:
        if h.text is None or h.audio is None:
            raise ValueError("diversification needs hits with vectors (use search_blend)")
        texts.append(h.text)
        audios.append(h.audio)
    return stack_rows(texts), stack_rows(audios)


def similarities(texts: np.ndarray, audios: np.ndarray, text: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Half text cosine, half audio closeness, of every row of (texts, audios) to one track
    (``text``, ``audio``): (n,). The one similarity of two tracks that diversity, the group's
    satisfaction and the reasons ("because you liked ...") share; ``similarity_matrix`` is
    the same for many tracks at once."""
    distances = np.linalg.norm(audios - audio, axis=1)
    return 0.5 * (texts @ text) + 0.5 * np.asarray(audio_similarity(distances), dtype=np.float32)


def similarity_matrix(texts: np.ndarray, audios: np.ndarray, other_texts: np.ndarray,
                      other_audios: np.ndarray) -> np.ndarray:
    """``similarities`` of every row of (texts, audios) to every row of (other_texts,
    other_audios): (n, m), one matrix product instead of m calls. The audio distances are
    exact differences (not the |a|^2 + |b|^2 - 2ab shortcut, which loses near-duplicates to
    rounding). The server runs BLAS on one thread (cli/boot.py): a small matrix product there
    costs microseconds, where a woken thread pool would cost milliseconds."""
    differences = audios[:, None, :] - other_audios[None, :, :]
    distances = np.sqrt(np.einsum("ijk,ijk->ij", differences, differences))
    return 0.5 * (texts @ other_texts.T) + 0.5 * np.asarray(audio_similarity(distances), dtype=np.float32)


# Pools up to this size get their pairwise similarities in one matrix (at most ~1 MB); larger
# ones (a catalog with few artists grows its pool to MAX_POOL) one row per pick.
MMR_MATRIX_MAX = 512


def mmr(
    hits: Sequence[Hit],
    k: int,
    lam: float = 0.75,
    max_per_artist: int | None = None,
    relevance: np.ndarray | None = None,
) -> list[Hit]:
    """Maximal marginal relevance: k hits, each the best trade of relevance vs. redundancy.

    score_i = lam * relevance_i - (1 - lam) * max similarity to anything already chosen.
    ``relevance`` defaults to the hits' scores. At most ``max_per_artist`` per artist.
    """
    n = len(hits)
    if n == 0 or k <= 0:
        return []
    rel = np.array([h.score for h in hits], dtype=np.float32) if relevance is None else relevance
    texts, audios = _stack_vectors(hits)
    pairwise = similarity_matrix(texts, audios, texts, audios) if n <= MMR_MATRIX_MAX else None
    base = lam * rel
    scores = base.astype(np.float64)  # what each candidate scores now; -inf once taken
    redundancy = np.zeros(n, dtype=np.float32)
    per_artist: dict[str, int] = {}
    chosen: list[int] = []
    while len(chosen) < k:
        i = int(np.argmax(scores))
        if scores[i] == -np.inf:
            break  # nothing left
        scores[i] = -np.inf
        names = artists_of(hits[i])
        if max_per_artist is not None and any(per_artist.get(a, 0) >= max_per_artist for a in names):
            continue
        for a in names:
            per_artist[a] = per_artist.get(a, 0) + 1
        chosen.append(i)
        row = pairwise[i] if pairwise is not None else similarities(texts, audios, texts[i], audios[i])
        redundancy = np.maximum(redundancy, row)
        taken = scores == -np.inf
        scores = np.where(taken, -np.inf, base - (1 - lam) * redundancy)
    return [hits[i] for i in chosen]


Chooser = Callable[[int, list[Hit]], Hit]


def first_ranked(_position: int, candidates: list[Hit]) -> Hit:
    """Chooser for queues: keep the given order."""
    return candidates[0]


def sequence_with_spacing(
    chosen: Sequence[Hit],
    spare: Sequence[Hit],
    gap: int,
    history: Sequence[frozenset[str]] = (),
    choose: Chooser = first_ranked,
    count: int | None = None,
) -> list[Hit]:
    """Order ``chosen`` so that no artist appears twice within ``gap`` consecutive tracks.

    At each position ``choose`` picks among the candidates whose artists are not among the
    previous gap-1 tracks (``history`` holds the artists just played, oldest first). When no
    chosen track fits, a spare one (next best from the pool) takes the slot; only when
    neither fits (a catalog with too few artists) is the rule broken rather than the list
    cut short.
    """
    remaining = list(chosen)
    spares = list(spare)
    recent: list[frozenset[str]] = list(history)
    total = len(remaining) if count is None else count
    placed: list[Hit] = []
    for position in range(total):
        if not remaining and not spares:
            break
        blocked = frozenset().union(*recent[-(gap - 1) :]) if gap > 1 else NO_ARTIST
        pick = None
        for pool in (remaining, spares):
            fitting = [h for h in pool if not (artists_of(h) & blocked)]
            if fitting:
                pick = choose(position, fitting)
                pool.remove(pick)
                break
        if pick is None:
            pool = remaining or spares
            pick = choose(position, pool)
            pool.remove(pick)
        placed.append(pick)
        recent.append(artists_of(pick))
    return placed


def arc_targets(energies: Sequence[float]) -> list[float]:
    """The energies rearranged into a gentle arc: rising to the highest, then easing off.

    Sorted values dealt alternately to the way up and the way down ("organ pipe"), so
    neighbours are at most two steps apart in the sorted order: the smoothest rise-and-fall
    the set allows.
    """
    ordered = sorted(energies)
    up = ordered[0::2]
    down = ordered[1::2][::-1]
    return up + down


def energy_arc_chooser(targets: Sequence[float]) -> Chooser:
    """Chooser that fills each position with the candidate closest to its target energy."""

    energies: dict[int, float] = {}

    def energy(hit: Hit) -> float:
        if hit.id not in energies:
            energies[hit.id] = energy_of(hit)
        return energies[hit.id]

    def choose(position: int, candidates: list[Hit]) -> Hit:
        target = targets[min(position, len(targets) - 1)]
        return min(candidates, key=lambda h: (abs(energy(h) - target), h.id))

    return choose

"""Part 3: classic top-10 recommendation on HetRec listening histories, at the artist level.

Each user's catalog artists are split 80/20 (seeded); the 20% are hidden and must be found.
Only catalog artists count, on both sides, so every method sees the same information.
- engine: the user's training part is their imported history, i.e. their long-term taste
  (recsys.evaluation.tastes), and their most-played training artists also become "like"
  events (one track each, strongest last, since the session weighs recent events most) in a
  session without a mood, with the training artists filtered out; Engine.next_queue's
  tracks, folded to their artists in order, are the ranking. This is the live session's own
  ranking, over all three vectors when the index has the evaluation's collab model (trained
  on the training parts only: recsys.evaluation.collab_model).
- popularity: artists by number of training listeners.
- als: implicit-feedback matrix factorisation (the ``implicit`` package, CPU), BM25-
  weighted play counts, trained on every user's training part.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from recsys.engine import Engine
from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.hetrec import HetRec
from recsys.evaluation.metrics import mean, ndcg_at, precision_at, recall_at
from recsys.evaluation.tastes import history_taste
from recsys.index.base import TrackFilter

K = 10
TEST_SHARE = 0.2
MIN_ARTISTS = 5  # so that the 20% test part holds at least one artist
SEED_ARTISTS = 20  # training artists turned into session events (the profile keeps 64 events)
QUEUE = 60  # tracks asked of the engine; two per artist at most, so >= 30 artists
# ALS settings of implicit's own Last.fm example, not tuned on this split.
ALS_FACTORS, ALS_REGULARISATION, ALS_ALPHA, ALS_ITERATIONS = 64, 0.05, 2.0, 15


@dataclass(slots=True)
class Split:
    train: dict[int, dict[str, int]]  # user → catalog artist → play count
    test: dict[int, set[str]]  # evaluated users only

    def evaluable(self) -> list[int]:
        return sorted(self.test)


def split_histories(hetrec: HetRec, catalog: EvalCatalog, seed: int) -> Split:
    """Per user, a seeded 80/20 split of their catalog artists; users with fewer than
    MIN_ARTISTS keep everything for training (they still inform popularity and ALS)."""
    train: dict[int, dict[str, int]] = {}
    test: dict[int, set[str]] = {}
    for user in hetrec.users():
        plays = {k: n for k, n in hetrec.plays[user].items() if k in catalog.by_artist}
        if not plays:
            continue
        artists = sorted(plays)
        if len(artists) >= MIN_ARTISTS:
            random.Random(f"{seed}:history:{user}").shuffle(artists)
            n_test = max(1, round(TEST_SHARE * len(artists)))
            test[user] = set(artists[:n_test])
            train[user] = {a: plays[a] for a in artists[n_test:]}
        else:
            train[user] = plays
    return Split(train, test)


def _scores(ranked: Sequence[str], relevant: set[str], k: int) -> dict[str, float]:
    return {
        "p10": precision_at(ranked, relevant, k),
        "r10": recall_at(ranked, relevant, k),
        "ndcg10": ndcg_at(ranked, relevant, k),
    }


async def engine_ranking(
    engine: Engine, catalog: EvalCatalog, user: int, train: dict[str, int], seed: int, k: int = K
) -> list[str]:
    strongest = sorted(train, key=lambda a: (-train[a], a))[:SEED_ARTISTS]
    rng = random.Random(f"{seed}:seeds:{user}")
    seeds = [rng.choice(catalog.by_artist[a]) for a in reversed(strongest)]
    banned = sorted({name for a in train for name in catalog.payload_names.get(a, ())})
    taste = await history_taste(engine, catalog, train)
    profile = await engine.new_session(None, TrackFilter(artists_not=banned), taste=taste)
    await engine.points(seeds)  # one retrieve for all events
    for track_id in seeds:
        await engine.observe(profile, track_id, "like")
    queue = await engine.next_queue(profile, QUEUE)
    ranked: list[str] = []
    for scored in queue:
        artist = catalog.artist_of.get(scored.id)
        if artist is not None and artist not in train and artist not in ranked:
            ranked.append(artist)
    return ranked[:k]


def popularity_ranking(split: Split) -> list[str]:
    listeners = Counter(a for plays in split.train.values() for a in plays)
    return [a for a, _ in sorted(listeners.items(), key=lambda item: (-item[1], item[0]))]


def als_rankings(split: Split, users: Sequence[int], seed: int, k: int = K) -> dict[int, list[str]]:
    """Top-k artists per user from ALS, already-known artists filtered out."""
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import bm25_weight
    from threadpoolctl import threadpool_limits

    items = sorted({a for plays in split.train.values() for a in plays})
    item_index = {a: i for i, a in enumerate(items)}
    user_list = sorted(split.train)
    user_index = {u: i for i, u in enumerate(user_list)}
    rows, cols, values = [], [], []
    for u in user_list:
        for a, n in split.train[u].items():
            rows.append(user_index[u])
            cols.append(item_index[a])
            values.append(float(n))
    plays = sparse.csr_matrix((values, (rows, cols)), shape=(len(user_list), len(items)), dtype=np.float32)
    weighted = bm25_weight(plays, K1=100, B=0.8).tocsr().astype(np.float32)
    # implicit runs its own threads; BLAS threads on top of them only fight on 2 cores (and
    # implicit warns about it when the model is made, so the limit starts before that).
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=ALS_FACTORS,
            regularization=ALS_REGULARISATION,
            alpha=ALS_ALPHA,
            iterations=ALS_ITERATIONS,
            random_state=seed,
            use_gpu=False,
            num_threads=1,
        )
        model.fit(weighted, show_progress=False)
        ids = np.array([user_index[u] for u in users], dtype=np.int64)
        found, _ = model.recommend(ids, weighted[ids], N=k, filter_already_liked_items=True)
    return {u: [items[int(i)] for i in row if i >= 0] for u, row in zip(users, found, strict=True)}


async def evaluate_histories(
    engine: Engine, catalog: EvalCatalog, split: Split, users: Sequence[int], seed: int, k: int = K
) -> dict[str, Any]:
    popular = popularity_ranking(split)
    als = als_rankings(split, users, seed, k)
    per_method: dict[str, list[dict[str, float]]] = {"engine": [], "popularity": [], "als": []}
    for user in users:
        relevant = split.test[user]
        train = split.train[user]
        per_method["engine"].append(
            _scores(await engine_ranking(engine, catalog, user, train, seed, k), relevant, k)
        )
        per_method["popularity"].append(_scores([a for a in popular if a not in train][:k], relevant, k))
        per_method["als"].append(_scores(als[user], relevant, k))
    return {
        "k": k,
        "users": len(users),
        "artists": len({a for plays in split.train.values() for a in plays}),
        **{
            m: {name: mean([s[name] for s in scores]) for name in ("p10", "r10", "ndcg10")}
            for m, scores in per_method.items()
        },
    }

"""Fold-in solves a listener's collab vector as ALS's user step does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.collab.foldin import FoldIn, evidence_of, matrix_value
from recsys.collab.train import TrainParams


def _clustered_matrix(seed: int = 0) -> sp.csr_matrix:
    """60 users x 90 items in three taste clusters; each user plays some of their cluster's
    items (log-scaled counts) and skips a few of another's (negative values)."""
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    for user in range(60):
        cluster = user % 3
        own = rng.choice(np.arange(cluster * 30, cluster * 30 + 30), size=12, replace=False)
        for item in own:
            rows.append(user)
            cols.append(int(item))
            vals.append(matrix_value(float(rng.integers(1, 20))))
        other = (cluster + 1) % 3
        for item in rng.choice(np.arange(other * 30, other * 30 + 30), size=2, replace=False):
            rows.append(user)
            cols.append(int(item))
            vals.append(matrix_value(-0.5))
    return sp.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)), shape=(60, 90))


def test_a_user_folded_in_from_their_own_row_lands_on_their_trained_factor() -> None:
    implicit_als = pytest.importorskip("implicit.cpu.als")
    params = TrainParams(factors=8, iterations=20, threads=1)
    values = _clustered_matrix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = implicit_als.AlternatingLeastSquares(
            factors=params.factors, regularization=params.regularization, alpha=params.alpha,
            iterations=params.iterations, num_threads=1, random_state=0, dtype=np.float32,
            calculate_training_loss=False,
        )
        model.fit(values, show_progress=False)
    items = np.asarray(model.item_factors)
    trained = np.asarray(model.user_factors)
    fold = FoldIn.from_vectors("v1", items, params)
    for user in (0, 1, 2, 17, 59):
        row = values.getrow(user)
        folded = fold.user_vector(items[row.indices], row.data)
        assert folded is not None
        cosine = float(folded @ trained[user] / (np.linalg.norm(folded) * np.linalg.norm(trained[user])))
        assert cosine > 0.99, (user, cosine)
        assert np.linalg.norm(folded - trained[user]) < 0.1 * np.linalg.norm(trained[user])


def test_a_folded_in_user_is_closest_to_their_own_cluster_and_a_skip_alone_gives_nothing() -> None:
    rng = np.random.default_rng(1)
    centres = np.eye(3, 6)
    items = np.vstack([centres[i // 20] + 0.1 * rng.standard_normal(6) for i in range(60)])
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    fold = FoldIn.from_vectors("v1", items, TrainParams())
    user = fold.user_vector(items[[0, 3, 7, 25]], [2.0, 1.0, 1.0, -1.0])  # cluster 0, a skip in 1
    assert user is not None
    scores = items @ user
    assert np.mean(scores[:20]) > np.mean(scores[20:40]) and np.mean(scores[:20]) > np.mean(scores[40:])
    assert fold.user_vector(items[[25]], [-1.0]) is None
    with pytest.raises(ValueError):
        fold.user_vector(np.ones((1, 4)), [1.0])


def test_evidence_follows_training_confidences() -> None:
    assert evidence_of("like") == 4.0 and evidence_of("complete") == 1.0
    assert evidence_of("skip") < 0 and evidence_of("dislike") < evidence_of("skip")
    assert evidence_of("play") == 0.0 and evidence_of("unlike") == 0.0
    assert matrix_value(1.0) == 1.0 and matrix_value(-3.0) == -2.0 and matrix_value(0.0) == 0.0


def _model_items() -> np.ndarray:
    """Three co-listening groups of 20 items in a 6-dim space, rows L2-normalised."""
    rng = np.random.default_rng(2)
    items = np.vstack([np.eye(3, 6)[i // 20] + 0.1 * rng.standard_normal(6) for i in range(60)])
    return (items / np.linalg.norm(items, axis=1, keepdims=True)).astype(np.float32)


def test_a_session_with_the_models_fold_in_targets_the_solved_vector_not_the_average() -> None:
    from recsys.features import AUDIO_DIM
    from recsys.session import SessionProfile

    items = _model_items()
    fold = FoldIn.from_vectors("m1", items)
    silent = np.zeros(AUDIO_DIM, dtype=np.float32)
    text = np.ones(4, dtype=np.float32) / 2.0

    def session(fold_in: FoldIn | None, version: str = "m1") -> SessionProfile:
        profile = SessionProfile(fold_in=fold_in)
        for track, action in ((0, "like"), (5, "complete"), (30, "skip")):
            profile.observe(track, action, (text, silent), {"collab_version": version},
                            {"collab": items[track]})
        return profile

    folded = session(fold).targets()
    assert folded.collab_version == "m1"
    # Each track's strongest outcome at its training evidence and recency (the skip is newest).
    decay = [0.5 ** (age / 8.0) for age in (2, 1, 0)]
    expected = fold.user_vector(
        items[[0, 5, 30]],
        [matrix_value(4.0 * decay[0]), matrix_value(1.0 * decay[1]), matrix_value(-0.5 * decay[2])],
    )
    assert expected is not None
    np.testing.assert_allclose(folded.extra["collab"], expected / np.linalg.norm(expected), atol=1e-5)
    averaged = session(None).targets()
    assert not np.allclose(averaged.extra["collab"], folded.extra["collab"], atol=1e-3)
    # Another model's fold-in is never applied to this model's vectors.
    other = session(FoldIn.from_vectors("m2", items)).targets()
    np.testing.assert_allclose(other.extra["collab"], averaged.extra["collab"], atol=1e-6)


def test_a_taste_with_the_models_fold_in_pulls_toward_the_solved_vector() -> None:
    from recsys.session import SessionProfile
    from recsys.taste import TasteRow, build_taste

    items = _model_items()
    fold = FoldIn.from_vectors("m1", items)
    rows = [
        TasteRow("complete", 0.0, {"collab": items[i]}, ("a",), 3.0, "m1") for i in (1, 2, 3)
    ] + [TasteRow("dislike", 0.0, {"collab": items[45]}, ("b",), 1.0, "m1")]
    taste = build_taste(rows, fold_in=fold)
    plain = build_taste(rows)
    assert taste is not None and plain is not None
    assert taste.collab_version == "m1" and "collab" not in taste.push and "collab" in plain.push
    assert len(taste.collab_rows) == 4 and len(plain.collab_rows) == 4
    expected = fold.user_vector(items[[1, 2, 3, 45]], [matrix_value(3.0)] * 3 + [matrix_value(-3.0)])
    assert expected is not None
    np.testing.assert_allclose(taste.pull["collab"], expected / np.linalg.norm(expected), atol=1e-5)
    # A returning listener's first queue (no session event yet) aims at that same vector,
    # whether or not the taste itself was built with the fold-in.
    for built in (taste, plain):
        start = SessionProfile(taste=built, fold_in=fold).targets()
        np.testing.assert_allclose(start.extra["collab"], taste.pull["collab"], atol=1e-5)


def test_the_fold_in_of_a_model_in_memory_uses_its_warm_tracks_only() -> None:
    from recsys.collab.foldin import model_fold_in
    from recsys.collab.model import COLD_CONFIDENCE, CollabModel

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(6, 4)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Two cold tracks: content-predicted vectors that ALS never saw (a float32 0.05 included).
    confidence = np.array([1.0, 0.7, COLD_CONFIDENCE, 0.4, COLD_CONFIDENCE, 0.9], dtype=np.float32)
    model = CollabModel("m1", 4, np.arange(1, 7, dtype=np.int64), vectors, confidence)

    fold = model_fold_in(model)

    assert fold is not None and fold.version == "m1"
    expected = FoldIn.from_vectors("m1", vectors[[0, 1, 3, 5]])
    assert np.allclose(fold.base, expected.base)
    all_cold = CollabModel("m2", 4, np.arange(1, 3, dtype=np.int64), vectors[:2],
                           np.full(2, COLD_CONFIDENCE, dtype=np.float32))
    assert model_fold_in(all_cold) is None

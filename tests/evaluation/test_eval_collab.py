"""The evaluation's collab model sees only what it may, and the returning part runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.evaluation.cli import main
from recsys.evaluation.collab_model import model_version, training_rows
from recsys.evaluation.dataset import build_catalog
from recsys.evaluation.hetrec import load_hetrec
from recsys.evaluation.histories import split_histories
from recsys.evaluation.tastes import history_tracks
from recsys.importers.lastfm import load_artist_profiles


def test_training_rows_hold_no_held_out_artist_and_no_simulated_listener(
    tiny_data: tuple[Path, Path],
) -> None:
    lastfm, spotify = tiny_data
    hetrec = load_hetrec(lastfm)
    catalog = build_catalog(spotify, load_artist_profiles(lastfm))
    split = split_histories(hetrec, catalog, 3)
    listeners = split.evaluable()[:5]
    rows = training_rows(split, listeners)
    assert rows and all(r[1] is None and r[3] == "complete" for r in rows)  # artist-level listens
    users = {int(r[0].removeprefix("hetrec:")) for r in rows}
    assert not users & set(listeners)
    for user, held_out in split.test.items():
        seen = {r[2] for r in rows if r[0] == f"hetrec:{user}"}
        assert not seen & held_out, user
    # Every artist a row names is in the catalog (it can be spread over its tracks).
    assert {r[2] for r in rows} <= set(catalog.by_artist)
    # The version names the inputs: other rows, another model (and another cached index).
    assert model_version(rows, "c") == model_version(list(rows), "c")
    assert model_version(rows[1:], "c") != model_version(rows, "c")
    assert model_version(rows, "d") != model_version(rows, "c")
    artist = next(iter(catalog.by_artist))
    tracks = history_tracks(catalog, artist)
    assert tracks and set(tracks) <= set(catalog.by_artist[artist])


def test_returning_part_on_the_tiny_set(
    tiny_data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lastfm, spotify = tiny_data
    argv = [
        "--lastfm-dir", str(lastfm), "--spotify-dir", str(spotify),
        "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
        "--users", "6", "--no-optimize", "--seed", "3", "--parts", "returning", "--no-charts",
    ]  # fmt: skip
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "4. Returning listeners" in stdout
    assert "BENCH returning_skip_rate_first5 " in stdout and "BENCH returning_first5_vs_new " in stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    back = results["returning"]
    assert back["listeners"] == 6 and set(back["policies"]) == {"live", "returning"}
    assert 0.0 <= back["skip_rate_first5"] <= 1.0 and 0.0 <= back["skip_rate_first5_new"] <= 1.0
    assert "live" not in results  # only the part asked for
    collab = results["collab"]
    assert collab["excluded_listeners"] == 6 and collab["rows"] > 0
    assert collab["fold_in"] is True  # the engine solved its collab targets with the model's fold-in
    assert back["ratio_first5"] is None or back["ratio_first5"] >= 0.0


async def test_the_index_fold_in_uses_the_models_warm_tracks_only(tmp_path: Path) -> None:
    import numpy as np

    from recsys.collab.foldin import index_fold_in
    from recsys.collab.model import COLD_CONFIDENCE
    from recsys.features import AUDIO_DIM
    from recsys.index.base import CollabVectors, IndexPoint
    from recsys.index.edge import EdgeIndex

    rng = np.random.default_rng(0)
    index = EdgeIndex(tmp_path / "qdrant-edge" / "tracks")
    await index.ensure()
    try:
        text = rng.normal(size=(6, 384)).astype(np.float32)
        text /= np.linalg.norm(text, axis=1, keepdims=True)
        await index.upsert([
            IndexPoint(i + 1, text[i], np.zeros(AUDIO_DIM, dtype=np.float32), {"title": f"t{i}"})
            for i in range(6)
        ])
        vectors = np.eye(6, 4, dtype=np.float32)[:5] + 0.01  # track 5: a cold, predicted vector
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        confidence = np.array([0.5, 0.5, 0.2, 0.9, COLD_CONFIDENCE], dtype=np.float32)
        await index.replace_collab(CollabVectors("m1", np.arange(1, 6, dtype=np.int64), vectors, confidence))
        fold = await index_fold_in(index, list(range(1, 7)), "m1")
        assert fold is not None and fold.version == "m1" and fold.dim == 4
        warm = vectors[:4].astype(np.float64)
        np.testing.assert_allclose(fold.base, warm.T @ warm + np.eye(4), atol=1e-5)
        assert await index_fold_in(index, list(range(1, 7)), "another") is None
    finally:
        await index.close()

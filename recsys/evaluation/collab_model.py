"""The evaluation's collaborative model: ALS (recsys.collab) on what the engine may see.

The engine evaluated here gets a collab vector per catalog track, trained ONLY on:
- the HetRec listeners' TRAINING parts (recsys.evaluation.histories.split_histories): each
  evaluated user's held-out 20% of catalog artists never reaches the matrix (users with too
  few artists to be evaluated keep all of theirs, as in the ALS baseline);
- minus every simulated listener of the live and returning parts, entirely (their hidden
  half is what they judge by, and their visible half is what a returning listener imports:
  neither may shape the item factors the engine meets them with).
HetRec knows artists, not tracks, so each (user, artist, plays) becomes one artist-level
``complete`` row with the play count as weight, spread by recsys.collab.matrix over the
artist's catalog tracks by popularity, exactly as ``musicrec train`` treats an imported
artist-level listen. Cold tracks get recsys.collab's content-predicted vectors.

The engine gets the model's fold-in (recsys.collab.foldin) built from the vectors the index
holds (``index_fold_in``: warm tracks of that version), so the same model is what both the
index and the listener's solved collab vector come from, cached index or not.

The model's version is a hash of its inputs (rows, catalog, training settings), so the
cached index holding it is keyed by the model (recsys.evaluation.index_cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import numpy as np

from recsys.collab import CollabModel, MatrixBuilder, TrainParams, fit_model
from recsys.collab.matrix import Row
from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.histories import Split

# Two solver threads: the evaluation has the machine to itself (the server trains with one).
PARAMS = TrainParams(threads=2)
FORMAT = 1  # bump when the rows or the training change in a way the hash cannot see


def training_rows(split: Split, excluded_users: Iterable[int]) -> list[Row]:
    """One artist-level complete row per (user, training artist); excluded users left out."""
    excluded = set(excluded_users)
    rows: list[Row] = []
    for user in sorted(split.train):
        if user in excluded:
            continue
        for artist, plays in sorted(split.train[user].items()):
            rows.append((f"hetrec:{user}", None, artist, "complete", float(plays), None))
    return rows


def artist_tracks(catalog: EvalCatalog) -> dict[str, list[tuple[int, float]]]:
    """Artist key → [(track id, popularity)]: where an artist-level row is spread."""
    return {a: [(t, catalog.popularity(t)) for t in ids] for a, ids in catalog.by_artist.items()}


def model_version(rows: list[Row], catalog_key: str, params: TrainParams = PARAMS) -> str:
    """A version string naming the model by its inputs (the index cache keys on it)."""
    digest = hashlib.sha256(f"{FORMAT}:{catalog_key}:{json.dumps(params.as_dict(), sort_keys=True)}".encode())
    for row in rows:
        digest.update(f"{row[0]}\t{row[2]}\t{row[3]}\t{row[4]}\n".encode())
    return f"eval-{digest.hexdigest()[:16]}"


def train_model(
    rows: list[Row],
    catalog: EvalCatalog,
    content: Mapping[int, tuple[np.ndarray, np.ndarray]],
    version: str,
    params: TrainParams = PARAMS,
) -> CollabModel:
    """ALS on ``rows`` over the catalog's tracks, cold tracks completed from ``content``."""
    builder = MatrixBuilder(catalog.ids, artist_tracks(catalog))
    builder.add(rows)
    return fit_model(builder.build(), content, params, version=version)



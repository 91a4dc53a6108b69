"""Collaborative vectors: what listeners do, turned into a third vector per track.

- ``matrix``: listening rows (events and imported listens, in chunks) → a sparse user x track
  confidence matrix (the confidences and why are in that module and docs/learning.md);
- ``train``: ALS (``implicit``) on that matrix → L2-normalised item factors;
- ``model``: the ``CollabModel`` the index installs, cold tracks given a vector predicted
  from their content (text + audio) with a low confidence.

A leaf like the rest of recsys: no database, no server; the service (app/collab_training.py)
reads the rows and writes the model into the index.
"""

from __future__ import annotations

from recsys.collab.matrix import Confidences, InteractionMatrix, MatrixBuilder, Row
from recsys.collab.model import CollabModel, NotEnoughData, fit_model
from recsys.collab.train import TrainParams, train_item_factors

__all__ = [
    "CollabModel",
    "Confidences",
    "InteractionMatrix",
    "MatrixBuilder",
    "NotEnoughData",
    "Row",
    "TrainParams",
    "fit_model",
    "train_item_factors",
]

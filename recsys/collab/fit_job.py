"""Fit a collab model in a child process of the server (app/collab_training.py).

    python -m recsys.collab.fit_job INPUT.pkl OUTPUT.pkl

INPUT holds ``FitInput`` (the interaction matrix, the content vectors as one matrix per side,
the parameters), OUTPUT gets ``("model", CollabModel)`` or ``("not enough data", message)``.
Both files are the server's own, in a directory only it writes: pickle is safe here.
Why a child: the fit's Python work holds the GIL, and in a thread of the server it held live
pushes 30-53 ms (recsys/background.py).
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recsys.collab.matrix import InteractionMatrix
from recsys.collab.model import CollabModel, NotEnoughData, fit_model
from recsys.collab.train import TrainParams


@dataclass(frozen=True, slots=True)
class FitInput:
    matrix: InteractionMatrix
    content_ids: np.ndarray  # (n,) int64
    content_text: np.ndarray  # (n, text dim)
    content_audio: np.ndarray  # (n, audio dim)
    params: TrainParams


def fit(job: FitInput) -> CollabModel:
    content = {int(t): (job.content_text[i], job.content_audio[i]) for i, t in enumerate(job.content_ids)}
    return fit_model(job.matrix, content, job.params)


def write(path: Path, value: Any) -> None:
    with path.open("wb") as out:
        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)


def read(path: Path) -> Any:
    with path.open("rb") as source:
        return pickle.load(source)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    job = read(Path(argv[0]))
    try:
        result: tuple[str, Any] = ("model", fit(job))
    except NotEnoughData as exc:
        result = ("not enough data", str(exc))
    write(Path(argv[1]), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

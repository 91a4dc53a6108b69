"""Build a Qdrant Edge shard with a new collab model, in a child process of the server.

    python -m recsys.index.edge_collab_build SOURCE TARGET MODEL.npz MAX_SEARCH_THREADS

SOURCE is a flushed copy of the live shard (ShardLifecycle._snapshot), TARGET the new
shard's directory, MODEL.npz the model (edge_lifecycle.save_collab_vectors). Every point of
SOURCE is written to TARGET with the model's collab vector where it has one (with_model: no
field of an earlier model survives), the shard is optimized, and the model's version and dim
are written inside it. The serving process then replays the writes it took meanwhile and
swaps TARGET in.

Why a child: Edge holds the GIL while it writes, so writing tens of thousands of points in
the server stopped its event loop for seconds. The server starts it at the lowest CPU
priority (recsys/background.py), so that serving keeps its share of the cores.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from recsys.index.base import AUDIO, TEXT, point_id, with_model
from recsys.index.edge_shard import (
    COLLAB_META,
    COPY_PAGE,
    create_shard,
    load_collab_vectors,
    load_shard,
    upsert_op,
)


def build(source: Path, target: Path, model_file: Path, max_search_threads: int | None) -> int:
    """Write TARGET from SOURCE and the model; returns the number of points written."""
    from qdrant_edge import ScrollRequest

    model = load_collab_vectors(model_file)
    rows = model.rows()
    old, _ = load_shard(source, max_search_threads)
    new = create_shard(target, model.dim, max_search_threads)
    written = 0
    try:
        offset: Any = None
        while True:
            page: tuple[list[Any], Any] = old.scroll(
                ScrollRequest(offset=offset, limit=COPY_PAGE, with_payload=True, with_vector=True))
            records, offset = page
            points = [with_model(point_id(r.id), r.payload, r.vector[TEXT], r.vector[AUDIO], model, rows)
                      for r in records]
            if points:
                upsert_op(points)(new, model.dim)
                written += len(points)
            if offset is None:
                break
        new.optimize()
        new.flush()
    finally:
        new.close()
        old.close()
    (target / COLLAB_META).write_text(json.dumps({"version": model.version, "dim": model.dim}))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    source, target, model_file, threads = argv
    build(Path(source), Path(target), Path(model_file), int(threads) or None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

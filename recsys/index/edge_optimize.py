"""Optimize a copy of the live Edge shard (build its HNSW), in a child process of the server.

    python -m recsys.index.edge_optimize SHARD

SHARD is a flushed copy of the live shard (ShardLifecycle._snapshot); the serving process
swaps it in once this exits with 0. Nothing but qdrant_edge is imported: the child's start
is part of what the server's cores pay for.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    from qdrant_edge import EdgeShard

    shard = EdgeShard.load(argv[0])
    shard.optimize()
    shard.flush()
    shard.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

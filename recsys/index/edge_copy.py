"""Copy a flushed Edge shard's directory, in a child process of the server.

    python -m recsys.index.edge_copy SOURCE TARGET

TARGET must not exist. Why a child: ``shutil.copytree``'s Python work between its system
calls holds the GIL, and in a thread of the server it held live pushes ~25 ms while a
snapshot was taken (docs/benchmarks.md, "The Edge host"); the server starts it at a lower
CPU priority (edge_lifecycle's ``_run_child``).
"""

from __future__ import annotations

import shutil
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    shutil.copytree(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Copy a flushed Edge shard's directory, in a child process of the server.

    python -m recsys.index.edge_copy SOURCE TARGET

TARGET must not exist. Why a child: ``shutil.copytree``'s Python work between its system
calls holds the GIL, and in a thread of the server it held live pushes ~25 ms while a
snapshot was taken (recsys/background.py).

Why not a plain copy: Edge preallocates its files sparse (a 2,000-track shard: 11 MB of data
in 247 MB of files). A plain copy writes the holes out as zeros, and flushing those hundreds
of megabytes to disk held PostgreSQL's commits (every feedback's event) behind them. Here
only the data is written; the holes stay holes (``copy_sparse``).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys

CHUNK = 1 << 20


def copy_sparse(source: str, target: str) -> str:
    """``shutil.copy2``, writing only the source's data regions (SEEK_DATA / SEEK_HOLE); where
    the system or the file system cannot tell data from holes, a plain copy."""
    if not hasattr(os, "SEEK_DATA"):
        return str(shutil.copy2(source, target))
    try:
        _copy_data(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
            raise
        return str(shutil.copy2(source, target))
    shutil.copystat(source, target)
    return target


def _copy_data(source: str, target: str) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        offset = 0
        while offset < size:
            try:
                start = os.lseek(src.fileno(), offset, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # no data after offset: the rest is a hole
                    break
                raise
            end = os.lseek(src.fileno(), start, os.SEEK_HOLE)
            src.seek(start)
            dst.seek(start)
            left = end - start
            while left > 0 and (chunk := src.read(min(left, CHUNK))):
                dst.write(chunk)
                left -= len(chunk)
            offset = end
        dst.truncate(size)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    shutil.copytree(argv[0], argv[1], copy_function=copy_sparse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

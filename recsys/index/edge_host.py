"""The Edge host: a child process of the server that holds the live Qdrant Edge shard.

    python -m recsys.index.edge_host

It answers requests from its stdin on its stdout, one at a time, in the order they came:
each a frame of a 4-byte big-endian length and a msgpack body ``[id, op, args]``, answered by
``[id, true, result]`` or ``[id, false, "what went wrong"]``. The first request is ``open``.
Qdrant Edge holds the GIL for the whole of every call, a load or a close included (measured:
~0.45 s to load a 41k-track shard, ~35 ms to close one, and no other thread of the process
runs meanwhile); here that stops only this process, never the server's event loop. The
server's side of the pipe, and why swaps start a second host, is
recsys/index/edge_remote.py and edge_lifecycle.py.

Ending: ``close`` flushes and closes the shard, then the process exits; so does the end of
stdin (the server went away). A host the server retires after a swap is killed instead: its
files were flushed and moved away, and nothing more may be written to them.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from recsys.index.base import (
    AUDIO,
    TEXT,
    BlendQuery,
    Hit,
    IndexPoint,
    as_array,
    collab_of,
    point_id,
)
from recsys.index.edge_mirror import Gathered, Mirror
from recsys.index.edge_shard import (
    blend_query_from_wire,
    create_shard,
    edge_filter,
    filter_from_wire,
    load_shard,
    point_from_wire,
    point_to_wire,
    upsert_op,
    vector_from_wire,
    wire_default,
)
from recsys.pick import PickSpec, pick

HEADER = struct.Struct(">I")
MIRROR_SIZE = 50_000  # points (~2 KB each), as the server's memo (recsys/index/edge.py)


class Host:
    """The open shard and the requests on it, and a mirror of its stored rows that ``pick``
    ranks candidates on (recsys/index/edge_mirror.py; exact: every write to this shard is a
    request to this host, and updates it)."""

    def __init__(self) -> None:
        self.shard: Any = None
        self.collab_dim: int | None = None
        self.mirror = Mirror(MIRROR_SIZE)

    def handle(self, op: str, args: list[Any]) -> Any:
        handler: Callable[..., Any] | None = getattr(self, f"op_{op}", None)
        if handler is None:
            raise ValueError(f"unknown request {op!r}")
        if op != "open" and self.shard is None:
            raise RuntimeError("no shard is open")
        return handler(*args)

    def op_open(self, path: str, max_search_threads: int, create: bool) -> list[Any] | None:
        """Load the shard at ``path``, or create an empty one; returns its collab (version, dim)."""
        threads = max_search_threads or None
        if create:
            self.shard, collab = create_shard(Path(path), None, threads), None
        else:
            self.shard, collab = load_shard(Path(path), threads)
        self.collab_dim = collab[1] if collab else None
        return list(collab) if collab else None

    def op_count(self, exact: bool) -> int:
        from qdrant_edge import CountRequest

        return int(self.shard.count(CountRequest(exact=exact)))

    def op_rank(self, query: list[Any], flt: Any) -> list[Any]:
        """A blended search's best ``limit`` by ``BlendQuery``'s exact ranking: their ids and
        scores, best first."""
        hits = self._ranked(blend_query_from_wire(query), edge_filter(filter_from_wire(flt)))
        return [[h.id for h in hits], [h.score for h in hits]]

    def op_pick(self, query: list[Any], flt: Any, spec: list[Any]) -> list[Any]:
        """recsys.pick.pick over this shard's blended search (``op_rank``'s ranking): the pool's
        ids and scores in rank order, the chosen ids in order, and the ids only there because
        the artist cap was relaxed."""
        shaped = blend_query_from_wire(query)
        conditions = edge_filter(filter_from_wire(flt))

        def search(limit: int) -> list[Hit]:
            return self._ranked(replace(shaped, limit=limit), conditions)

        picked = pick(search, PickSpec.from_wire(spec))
        return [[h.id for h in picked.pool], [h.score for h in picked.pool], [h.id for h in picked.chosen],
                sorted(picked.over_cap)]

    def _ranked(self, query: BlendQuery, conditions: Any) -> list[Hit]:
        sides = query.sides()
        ids = self._candidates(sides, query.per_side, query.candidates(len(sides)), conditions)
        held, payloads, texts, audios, collabs = self._mirrored(ids)
        return query.rank(held, payloads, texts, audios, collabs) if held else []

    def _mirrored(self, ids: Sequence[int]) -> Gathered:
        """``Mirror.gather`` of ``ids``, those not mirrored yet read from the shard first
        (converting a retrieved point's floats is the slow part: each is read once)."""
        missing = [point for point in ids if point not in self.mirror]
        if missing:
            for r in self.shard.retrieve(missing, with_payload=True, with_vector=True):
                vectors = r.vector
                self.mirror.put(point_id(r.id), r.payload, as_array(vectors[TEXT]), as_array(vectors[AUDIO]),
                                collab_of(vectors))
        return self.mirror.gather(ids)

    def _candidates(self, sides: Sequence[tuple[str, list[float]]], per_side: int, limit: int,
                    conditions: Any) -> list[int]:
        from qdrant_edge import Fusion, Prefetch, Query, QueryRequest

        queries = [Query.Nearest(vector, using=name) for name, vector in sides]
        if len(queries) >= 2:
            request = QueryRequest(
                limit=limit,
                prefetches=[Prefetch(limit=per_side, query=q) for q in queries],
                query=Fusion.Rrf(k=60),  # type: ignore[arg-type]  # the stub omits Fusion.Rrf
                filter=conditions,
                with_payload=False,
                with_vector=False,
            )
        else:
            request = QueryRequest(limit=per_side, query=queries[0], filter=conditions,
                                   with_payload=False, with_vector=False)
        return [point_id(p.id) for p in self.shard.query(request)]

    def op_nearest(self, using: str, vector: bytes, flt: Any, limit: int) -> list[list[Any]]:
        from qdrant_edge import Query, QueryRequest

        nearest = Query.Nearest(vector_from_wire(vector).tolist(), using=using)
        request = QueryRequest(limit=limit, query=nearest, filter=edge_filter(filter_from_wire(flt)),
                               with_payload=True)
        return [[point_id(p.id), float(p.score), p.payload] for p in self.shard.query(request)]

    def op_recommend(self, using: str, positives: list[bytes], negatives: list[bytes], flt: Any,
                     limit: int) -> list[list[Any]]:
        from qdrant_edge import Query, QueryRequest, RecommendQuery

        query = RecommendQuery([vector_from_wire(v).tolist() for v in positives],
                               [vector_from_wire(v).tolist() for v in negatives])
        request = QueryRequest(limit=limit, query=Query.RecommendBestScore(query, using=using),
                               filter=edge_filter(filter_from_wire(flt)), with_payload=True)
        return [[point_id(p.id), float(p.score), p.payload] for p in self.shard.query(request)]

    def op_retrieve(self, ids: list[int]) -> list[list[Any]]:
        """Every stored point of ``ids`` (absent ones left out), payload and vectors, from the
        mirror (a pool the server asks for was just ranked here)."""
        held, payloads, texts, audios, collabs = self._mirrored(list(dict.fromkeys(ids)))
        return [point_to_wire(IndexPoint(point, texts[i], audios[i], payloads[i], collabs[i]))
                for i, point in enumerate(held)]

    def op_upsert(self, points: list[list[Any]]) -> list[list[Any]]:
        """Write the points; returns them as stored (payload flags as 0/1, a held collab kept)."""
        written = upsert_op([point_from_wire(p) for p in points])(self.shard, self.collab_dim)
        for p in written:
            self.mirror.put(int(p.id), p.payload, p.text, p.audio, p.collab)
        return [point_to_wire(p) for p in written]

    def op_delete(self, ids: list[int]) -> None:
        from qdrant_edge import UpdateOperation

        for point in ids:  # first: a failed delete may have removed some
            self.mirror.drop(int(point))
        self.shard.update(UpdateOperation.delete_points(list(ids)))

    def op_flush(self) -> None:
        self.shard.flush()

    def op_close(self) -> None:
        self.close()

    def close(self) -> None:
        if self.shard is not None:
            shard, self.shard = self.shard, None
            try:
                shard.flush()
            finally:
                shard.close()


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    host = Host()
    try:
        while True:
            header = _read_exactly(requests, HEADER.size)
            if header is None:
                break  # the server went away
            body = _read_exactly(requests, HEADER.unpack(header)[0])
            if body is None:
                break
            rid, op, args = msgpack.unpackb(body, raw=False, strict_map_key=False)
            try:
                reply = [rid, True, host.handle(op, args)]
            except Exception as exc:  # the server raises it as TrackIndexError
                reply = [rid, False, f"{type(exc).__name__}: {exc}"]
            out = msgpack.packb(reply, use_bin_type=True, default=wire_default)
            replies.write(HEADER.pack(len(out)) + out)
            replies.flush()
            if op == "close":
                return
    finally:
        host.close()


def main() -> int:
    # The replies get stdout's descriptor to themselves; anything a library prints goes to
    # stderr, where it cannot break a frame.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

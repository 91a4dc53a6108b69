from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from recsys.encoder import AsyncEncoder, OnnxMiniLM, TextEncoder, encode_deduplicated, load_encoder


def test_onnx_vectors(onnx_model: OnnxMiniLM) -> None:
    lines = [
        "calm acoustic guitar for a rainy morning",
        "soft acoustic songs for a grey day",
        "hard techno rave",
    ]
    vecs = onnx_model.encode(lines)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    # Padding inside a batch must not change a line's vector.
    alone = onnx_model.encode([lines[2]])[0]
    assert float(alone @ vecs[2]) > 0.9999
    assert onnx_model.encode([]).shape == (0, 384)


def test_deduplicates_and_sorts_by_length() -> None:
    seen: list[list[str]] = []

    def fake(batch: list[str]) -> np.ndarray:
        seen.append(batch)
        return np.array([[len(s), 1.0] for s in batch], dtype=np.float32)

    out = encode_deduplicated(["ccc", "a", "ccc", "bb", "a"], fake, 2, batch_size=2)
    assert seen == [["a", "bb"], ["ccc"]]
    assert out[:, 0].tolist() == [3, 1, 3, 2, 1]


class _Counting:
    dim = 4

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()

    def encode(self, lines: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.threads.add(threading.get_ident())
        return np.ones((len(lines), 4), dtype=np.float32) / 2


async def test_async_encoder_cache_and_thread() -> None:
    fake = _Counting()
    assert isinstance(fake, TextEncoder)
    enc = AsyncEncoder(fake, cache_size=2)
    try:
        a, b = await asyncio.gather(enc.encode_query("Rainy  Day"), enc.encode_query("rainy day"))
        assert a is b and fake.calls == 1  # same key, encoded once even when concurrent
        assert not a.flags.writeable
        assert threading.get_ident() not in fake.threads  # never on the event loop
        await enc.encode_query("x")
        await enc.encode_query("y")  # evicts "rainy day" (LRU of 2)
        await enc.encode_query("rainy day")
        assert fake.calls == 4
        bulk = await enc.encode(["p", "q"])
        assert bulk.shape == (2, 4)
    finally:
        enc.close()


async def test_lazy_factory_loads_in_worker() -> None:
    loaded_on: list[int] = []

    def factory() -> TextEncoder:
        loaded_on.append(threading.get_ident())
        return _Counting()

    enc = AsyncEncoder(factory, dim=4)
    try:
        await enc.warm_up()
        assert loaded_on and loaded_on[0] != threading.get_ident()
    finally:
        enc.close()


def test_unknown_backend() -> None:
    with pytest.raises(ValueError):
        load_encoder("tf")  # type: ignore[arg-type]


def test_torch_agrees_with_onnx(onnx_model: OnnxMiniLM) -> None:
    lines = ["upbeat summer pop", "Still Water by Hush Ensemble. genre: ambient. mood: calm, acoustic"]
    torch_model = load_encoder("torch", threads=1)
    a, b = onnx_model.encode(lines), torch_model.encode(lines)
    assert b.shape == (2, 384)
    assert np.all((a * b).sum(axis=1) > 0.99)


class _Slow(_Counting):
    def encode(self, lines: Sequence[str]) -> np.ndarray:
        import time

        time.sleep(0.02)
        return super().encode(lines)


async def test_queries_interleave_with_bulk_encodes() -> None:
    enc = AsyncEncoder(_Slow())
    try:
        lines = [f"line {i}" for i in range(AsyncEncoder.BULK_CHUNK * 6)]
        bulk = asyncio.create_task(enc.encode(lines))
        await asyncio.sleep(0.03)  # the bulk job is under way
        await enc.encode_query("a listener's mood")
        assert not bulk.done()  # the query did not wait for the whole import
        out = await bulk
        assert out.shape == (len(lines), 4)
    finally:
        enc.close()


async def test_bulk_matches_direct(encoder: AsyncEncoder, onnx_model: OnnxMiniLM) -> None:
    lines = [
        "a much longer line about quiet piano music at night",
        "short",
        "a much longer line about quiet piano music at night",
    ]
    bulk = await encoder.encode(lines)
    assert np.array_equal(bulk[0], bulk[2])
    direct = onnx_model.encode(lines)
    assert np.allclose(bulk, direct, atol=1e-5)

"""Training the collaborative model from PostgreSQL and installing it in the index.

One training (``train``):
1. takes a PostgreSQL advisory lock (``pg_try_advisory_lock`` on a connection held for the
   whole run): one instance trains at a time; another gets None back at once;
2. notes the high-water ids of listening_events and imported_listens (the next retrain
   counts what arrives after them), reads the catalog (ids, artists, popularity) and both
   tables in chunks by id (keyset pagination, ``chunk`` rows at a time: memory is bounded by
   the matrix, not by the history), feeding each chunk to recsys.collab.MatrixBuilder in a
   worker thread;
3. fits ALS + the cold-track regression in a child process at the lowest CPU priority
   (recsys/collab/fit_job.py, recsys/background.py): in a thread, its Python work held the
   GIL and with it the event loop;
4. installs the model whole with ``index.replace_collab`` (the swap: see recsys/index) and
   records it in collab_models.

The background retrainer (``CollabRetrainer``, started with the app) checks every
``retrain_check_s`` whether ``retrain_min_events`` new rows arrived since the last model, or
whether the index lacks the latest model (after an ``index rebuild``), and trains then. It
is a task on the event loop that only awaits: queries and sockets never wait on it; it is
cancelled on shutdown (the fit's child is killed then; rows already in the training thread
finish and are discarded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from app.store import collab_models, events, imported_listens
from app.store.db import Database
from recsys.background import run_background
from recsys.collab import CollabModel, MatrixBuilder, NotEnoughData, TrainParams, fit_job
from recsys.collab.fit_job import FitInput
from recsys.collab.foldin import index_fold_in, model_fold_in
from recsys.collab.matrix import Row as MatrixRow
from recsys.index.base import TrackIndex, normalise_name, stack_rows

if TYPE_CHECKING:
    from quart import Quart

    from app.state import AppState

log = logging.getLogger("musicrec.collab")

_LOCK_KEY = 0x636F6C6C6162  # "collab"
# Rows per read: asyncpg decodes a whole chunk on the event loop before the fetch returns, so
# each chunk is a stall of the live sessions (50,000 rows stopped the loop ~0.3 s; 5,000 still
# held pushes ~45 ms during a retrain). 1,000 keeps it to a few milliseconds; the extra round
# trips cost the training little next to the fit.
CHUNK = 1_000
# Content vectors are read in small pages: each page is one call on the index's single
# thread, and live queries wait behind it (2,000 per page held it ~35 ms at a time).
VECTOR_CHUNK = 256
# The training thread's Python work (rows into the matrix) holds the GIL, and the event loop
# waits for it each time it wakes: up to the interpreter's switch interval (5 ms) per wake-up,
# several per push, so one 5,000-row chunk held live pushes 45-51 ms. Rows are therefore taken
# PACE_ROWS at a time (about a millisecond of work), each slice followed by a sleep that hands
# the GIL straight back. It costs the training's wall time, not CPU.
PACE_ROWS = 250
PACE_SLEEP_S = 0.0005
_TASK = "collab_retrainer"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: CollabModel
    row: collab_models.CollabModelRow


async def _catalog(db: Database) -> tuple[list[int], dict[str, list[tuple[int, float]]]]:
    """Every track's id, and each artist's tracks with their popularity (read in chunks; each
    chunk's rows are turned into these in the training thread, off the event loop)."""
    track_ids: list[int] = []
    by_artist: dict[str, list[tuple[int, float]]] = {}
    last = 0
    while True:
        rows = await db.fetch(
            "SELECT id, artists, popularity FROM tracks WHERE id > $1 ORDER BY id LIMIT $2", last, CHUNK
        )
        if not rows:
            return track_ids, by_artist
        await _in_training_thread(_add_tracks, rows, track_ids, by_artist)
        last = int(rows[-1]["id"])


def _add_tracks(rows: Sequence[Any], track_ids: list[int],
                by_artist: dict[str, list[tuple[int, float]]]) -> None:
    for start, r in enumerate(rows):
        track = int(r["id"])
        track_ids.append(track)
        for artist in r["artists"] or []:
            by_artist.setdefault(normalise_name(artist), []).append((track, float(r["popularity"] or 0.0)))
        if start % PACE_ROWS == PACE_ROWS - 1:
            time.sleep(PACE_SLEEP_S)


async def _content(index: TrackIndex, track_ids: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The content vectors of the tracks the index holds: their ids, text rows, audio rows."""
    ids: list[np.ndarray] = []
    texts: list[np.ndarray] = []
    audios: list[np.ndarray] = []
    for start in range(0, len(track_ids), VECTOR_CHUNK):
        found = await index.vectors(track_ids[start : start + VECTOR_CHUNK])
        if found:
            ids.append(np.fromiter(found, dtype=np.int64, count=len(found)))
            texts.append(stack_rows([v[0] for v in found.values()]))
            audios.append(stack_rows([v[1] for v in found.values()]))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    return await asyncio.to_thread(lambda: (np.concatenate(ids), np.concatenate(texts),
                                            np.concatenate(audios)))


async def _fit(job: FitInput) -> CollabModel:
    """``fit_model`` in a child process at the lowest CPU priority (recsys/collab/fit_job.py:
    in a thread here, its Python work held the GIL and with it the event loop); the input and
    the model go through a private temporary directory."""
    work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="musicrec-fit-"))
    try:
        await asyncio.to_thread(fit_job.write, work / "input.pkl", job)
        await run_background("the collab fit", "recsys.collab.fit_job", str(work / "input.pkl"),
                             str(work / "output.pkl"))
        kind, value = await asyncio.to_thread(fit_job.read, work / "output.pkl")
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    if kind != "model":
        raise NotEnoughData(str(value))
    model: CollabModel = value
    return model


def _lower_priority() -> None:
    # Linux schedules threads one by one: nice 10 on this thread alone lets the event loop's
    # thread win the cores while a training runs (the ALS solver releases the GIL, so it
    # rarely holds what the loop needs). Elsewhere, or without permission, it runs as is.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


# The training's CPU work runs here: one thread, at a lower priority than serving.
_TRAINING_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-train",
                                    initializer=_lower_priority)


async def _in_training_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_TRAINING_POOL, fn, *args)


async def _feed(
    builder: MatrixBuilder, until: int,
    fetch: Callable[[int, int], Awaitable[Sequence[Any]]], row: Callable[[Any], MatrixRow],
) -> int:
    """Rows with ids up to ``until``, a chunk at a time (bounded memory); returns how many."""
    last, read = 0, 0
    while last < until:
        rows = await fetch(last, until)
        if not rows:
            break
        await _in_training_thread(_add_rows, builder, rows, row)
        read += len(rows)
        last = int(rows[-1]["id"])
    return read


def _add_rows(builder: MatrixBuilder, rows: Sequence[Any], row: Callable[[Any], MatrixRow]) -> None:
    for start in range(0, len(rows), PACE_ROWS):
        builder.add([row(r) for r in rows[start : start + PACE_ROWS]])
        time.sleep(PACE_SLEEP_S)


def _event_row(e: Any) -> MatrixRow:
    """An events.chunk_after record as a matrix row."""
    return (f"u:{e['user_id']}", e["track_id"], "", e["action"], 1.0, e["at"])


def _import_row(r: Any) -> MatrixRow:
    """An imported_listens.iter_chunks record as a matrix row."""
    key = f"u:{r['user_id']}" if r["user_id"] is not None else str(r["listener"])
    return (key, r["track_id"], r["artist"], r["outcome"], float(r["weight"]), r["listened_at"])


async def train(
    db: Database,
    index: TrackIndex,
    params: TrainParams | None = None,
    exclude_user_keys: Iterable[str] = (),
    cutoffs: Mapping[str, datetime] | None = None,
) -> TrainResult | None:
    """Train, install and record a model. None when another instance is training now.

    Raises NotEnoughData when there is too little to learn from (nothing is changed then).
    """
    params = params or TrainParams()
    async with db.pool.acquire() as lock_conn:
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
            return None
        try:
            return await _train_locked(db, index, params, exclude_user_keys, cutoffs)
        finally:
            await lock_conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _train_locked(
    db: Database,
    index: TrackIndex,
    params: TrainParams,
    exclude_user_keys: Iterable[str],
    cutoffs: Mapping[str, datetime] | None,
) -> TrainResult:
    started = time.perf_counter()
    last_event, last_import = await collab_models.high_water(db)
    track_ids, by_artist = await _catalog(db)
    builder = MatrixBuilder(track_ids, by_artist, exclude_user_keys=exclude_user_keys, cutoffs=cutoffs)
    def imports(after: int, until: int) -> Awaitable[Sequence[Any]]:
        return imported_listens.iter_chunks(db, after, CHUNK, until)

    def listened(after: int, until: int) -> Awaitable[Sequence[Any]]:
        return events.chunk_after(db, after, until, CHUNK)

    read = await _feed(builder, last_import, imports, _import_row)
    read += await _feed(builder, last_event, listened, _event_row)
    matrix = await _in_training_thread(builder.build)
    content_ids, content_text, content_audio = await _content(index, track_ids)
    model = await _fit(FitInput(matrix, content_ids, content_text, content_audio, params))
    await index.replace_collab(model.index_vectors())
    duration = time.perf_counter() - started
    row = await collab_models.record(
        db,
        version=model.version,
        last_event_id=last_event,
        last_import_id=last_import,
        rows_read=read,
        users=len(matrix.user_keys),
        tracks=len(model.track_ids),
        warm_tracks=int(model.stats.get("warm_tracks", 0)),
        interactions=int(matrix.values.nnz),
        dim=model.dim,
        params=params.as_dict(),
        stats={k: v for k, v in model.stats.items() if isinstance(v, int | float | str)},
        duration_s=duration,
    )
    log.info("collab model %s: %d users, %d tracks (%d warm), %d rows, %.1f s", model.version,
             row.users, row.tracks, row.warm_tracks, read, duration)
    return TrainResult(model, row)


async def retrain_due(db: Database, index: TrackIndex, min_events: int) -> bool:
    """True when enough arrived since the last model, or the index lacks the latest model."""
    latest = await collab_models.latest(db)
    if latest is None:
        return await collab_models.new_since(db, 0, 0, min_events) >= min_events
    version, _ = await index.collab_info()
    if version != latest.version:
        return True  # the index was rebuilt (or another instance's swap failed): train again
    return await collab_models.new_since(db, latest.last_event_id, latest.last_import_id,
                                         min_events) >= min_events


async def refresh_fold_in(state: AppState, trained: CollabModel | None = None) -> None:
    """Give the engine the fold-in of the collab model the index holds now (recsys.collab.foldin:
    a listener's collab target solved the way ALS solves a user, not averaged), unless it has
    it already. After a training here, or a swap by another instance, sessions pick it up at
    their next queue; until then they keep using the model they were built from.

    ``trained``: the model this process just installed; when the index holds it, the fold-in
    comes from it in memory rather than from reading every track back from the index."""
    engine, index = state.engine, state.index
    if engine is None or index is None:
        return
    version, _ = await index.collab_info()
    current = engine.fold_in.version if engine.fold_in is not None else None
    if version is None or version == current:
        return
    if trained is not None and trained.version == version:
        engine.use_fold_in(await asyncio.to_thread(model_fold_in, trained))
    else:
        track_ids, _ = await _catalog(state.db)
        engine.use_fold_in(await index_fold_in(index, track_ids, version))
    log.info("collab model %s: fold-in ready for live sessions", version)


class CollabRetrainer:
    """The background retrain loop of a serving instance."""

    def __init__(self, state: AppState) -> None:
        self._state = state

    async def run(self) -> None:
        settings = self._state.settings
        with contextlib.suppress(Exception):  # a missing model or a busy index: the loop retries
            await refresh_fold_in(self._state)
        while True:
            await asyncio.sleep(settings.retrain_check_s)
            index = self._state.index
            if index is None:
                continue
            try:
                due = settings.retrain_enabled and await retrain_due(self._state.db, index,
                                                                      settings.retrain_min_events)
                result = await train(self._state.db, index) if due else None
                await refresh_fold_in(self._state, result.model if result is not None else None)
            except asyncio.CancelledError:
                raise
            except NotEnoughData as exc:
                log.info("no collab model yet: %s", exc)
            except Exception:
                log.exception("background collab training failed; the current model stays")


async def _start(state: AppState) -> None:
    # Always started: with retraining off it still keeps the engine's fold-in on the model the
    # index holds (one another instance trained, or `musicrec train` while this one was down).
    state.extras[_TASK] = asyncio.create_task(CollabRetrainer(state).run(), name="collab-retrain")


async def _stop(state: AppState) -> None:
    task = state.extras.pop(_TASK, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def install(app: Quart) -> None:
    """Start the retrainer with the app and cancel it at shutdown (factory hooks)."""
    app.extensions.setdefault("musicrec_startup", []).append(_start)
    app.extensions.setdefault("musicrec_shutdown", []).append(_stop)

"""Audio features for library songs that have none: the start of each song's stream, analysed
in the background with the folder import's analysis (recsys.importers.audio_features).

A song that matched no public data becomes a track with metadata only, placed by its text.
This gives it energy, tempo, valence and the rest, from its own sound.

Invariants:
- Never on a request path, never on the event loop: a feeder task reads waiting songs from
  PostgreSQL (``libraries.songs_to_analyse``: the database is the queue of record, so work
  left by a restart or by a CLI sync in another process is found again) into a bounded
  ``asyncio.Queue``; ``workers`` tasks each fetch one song's head at a time and decode and
  analyse it in a process pool of the same size (librosa holds the GIL for long stretches).
- Memory is bounded: at most ``max_bytes`` of a stream are fetched (a Range request, and the
  read stops there), at most ``queue_size`` songs are queued, and results are written every
  ``FLUSH_EVERY`` songs.
- A result lands in one transaction (features only on tracks that still have none, the song
  marked done or failed, the catalog version bumped), then those tracks are re-indexed in one
  batch. A song that cannot be decoded or analysed is marked failed with its reason and not
  tried again until the server says it changed. A library that cannot be reached is skipped
  (its songs stay waiting) until the next wake-up: a sync, or every ``POLL_S``.
- ``stop`` cancels everything; an analysis already running in a worker process finishes
  there and is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from app.library_board import BOARD
from app.state import AppState
from app.store import libraries, tracks
from app.store.db import Database
from app.store.libraries import AnalysisJob
from recsys.encoder import AsyncEncoder
from recsys.importers.audio_folder import pool_context
from recsys.importers.stream_analysis import HeadAnalysis, analyse_head
from recsys.importers.subsonic import LibraryError, SubsonicClient, read_head
from recsys.index.base import TrackIndex
from recsys.index.builder import index_tracks

log = logging.getLogger("musicrec.library")

FLUSH_EVERY = 16
POLL_S = 300.0  # waiting songs are looked for at least this often (a CLI sync, a library back)
_KEY = "library_analysis"

ClientFor = Callable[[int], Awaitable[SubsonicClient]]
OnOffline = Callable[[int, str], Awaitable[None]]
Progress = Callable[["AnalysisCounts"], None]


@dataclass(slots=True)
class AnalysisCounts:
    done: int = 0
    failed: int = 0
    skipped: int = 0  # the library could not be reached: still waiting


class AudioAnalysis:
    """The bounded background queue (see the module docstring)."""

    def __init__(self, db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None,
                 client_for: ClientFor, *, workers: int = 1, queue_size: int = 32,
                 max_bytes: int = 12 * 1024 * 1024, on_offline: OnOffline | None = None) -> None:
        self._db = db
        self._index = index
        self._encoder = encoder
        self._client_for = client_for
        self._workers = max(1, workers)
        self._max_bytes = max_bytes
        self._on_offline = on_offline
        self._queue: asyncio.Queue[AnalysisJob] = asyncio.Queue(maxsize=queue_size)
        self._batch = queue_size
        self._wake = asyncio.Event()
        self._skip: set[int] = set()  # libraries unreachable since the last wake-up
        self._results: list[tuple[AnalysisJob, HeadAnalysis]] = []
        self._flush_lock = asyncio.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.counts = AnalysisCounts()
        self.on_progress: Progress | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """In the server: feed and work until ``stop``."""
        self._start_workers()
        self._tasks.append(asyncio.create_task(self._feed(until_empty=False), name="library-analysis"))

    async def run_until_empty(self) -> AnalysisCounts:
        """In the CLI: analyse every waiting song of the reachable libraries, then return."""
        self._start_workers()
        try:
            await self._feed(until_empty=True)
        finally:
            await self.stop()
        return self.counts

    def wake(self) -> None:
        """New songs may be waiting (a sync finished), or a library came back."""
        self._wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _start_workers(self) -> None:
        self._tasks += [asyncio.create_task(self._work(), name=f"library-analysis-{i}")
                        for i in range(self._workers)]

    async def _feed(self, until_empty: bool) -> None:
        while True:
            skip = sorted(self._skip | BOARD.offline())
            try:
                jobs = await libraries.songs_to_analyse(self._db, skip, self._batch)
            except Exception:  # the database away for a moment: try again later
                log.exception("songs waiting for analysis could not be read")
                jobs = []
            if jobs:
                for job in jobs:
                    await self._queue.put(job)  # waits while the queue is full
                # One batch at a time: the next read cannot hand out a song still in flight.
                await self._queue.join()
                try:
                    await self._flush()
                except Exception:  # not written: those songs are still waiting, tried again
                    log.exception("analysis results could not be written")
                    await asyncio.sleep(5.0)
                continue
            if until_empty:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self._wake.clear()
            self._skip.clear()

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._analyse(job)
            except Exception:  # one song must not stop the queue
                log.exception("analysis of library %d song %s failed", job.library_id, job.song_id)
            finally:
                self._queue.task_done()

    async def _analyse(self, job: AnalysisJob) -> None:
        if job.library_id in self._skip:
            return
        try:
            client = await self._client_for(job.library_id)
            response = await client.open_stream(job.song_id, f"bytes=0-{self._max_bytes - 1}")
            data = await read_head(response, self._max_bytes)
        except LibraryError as exc:
            if exc.kind == "not_found":  # the song is gone: the next sync retires it
                await self._add(job, HeadAnalysis(None, error=exc.message))
                return
            # Unreachable, refused or broken: the songs wait, the library is left alone a while.
            self._skip.add(job.library_id)
            self.counts.skipped += 1
            if exc.kind == "offline" and self._on_offline is not None:
                await self._on_offline(job.library_id, exc.message)
            log.warning("library %d: analysis paused: %s", job.library_id, exc.message)
            return
        result = await self._in_pool(data)
        await self._add(job, result)

    async def _in_pool(self, data: bytes) -> HeadAnalysis:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=pool_context())
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, analyse_head, data)
        except BrokenProcessPool:
            # A decoder that kills its process takes the pool with it; a fresh one serves the rest.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            return HeadAnalysis(None, error="analysis process crashed")

    async def _add(self, job: AnalysisJob, result: HeadAnalysis) -> None:
        self._results.append((job, result))
        if len(self._results) >= FLUSH_EVERY:
            await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            results, self._results = self._results, []
            if not results:
                return
            good = [(j, r) for j, r in results if r.audio is not None]
            bad = [(j, r.error or "no features") for j, r in results if r.audio is None]
            async with self._db.transaction() as conn:
                written = await tracks.set_audio_features(
                    conn, [(j.track_id, r.audio or {}, r.descriptors) for j, r in good])
                await libraries.record_analysis(conn, [j for j, _ in good], bad)
                if written:
                    await tracks.bump_catalog_version(conn)
            self.counts.done += len(good)
            self.counts.failed += len(bad)
            for job, error in bad:
                log.info("library %d song %s not analysed: %s", job.library_id, job.song_id, error)
            if written and self._index is not None and self._encoder is not None:
                found = await tracks.get_many(self._db, written)
                await index_tracks(self._index, list(found.values()), self._encoder)
            if self.on_progress is not None:
                self.on_progress(self.counts)


# -- in the server ---------------------------------------------------------------------------

def start(state: AppState, client_for: ClientFor, on_offline: OnOffline | None = None) -> None:
    """Start the background analysis with the app (app/library_status.py), unless
    ``library_analysis_workers`` is 0."""
    settings = state.settings
    if settings.library_analysis_workers <= 0:
        return
    analysis = AudioAnalysis(state.db, state.index, state.encoder, client_for,
                             workers=settings.library_analysis_workers,
                             queue_size=settings.library_analysis_queue,
                             max_bytes=settings.library_analysis_max_bytes, on_offline=on_offline)
    state.extras[_KEY] = analysis
    analysis.start()


def wake(state: AppState) -> None:
    analysis: AudioAnalysis | None = state.extras.get(_KEY)
    if analysis is not None:
        analysis.wake()


async def stop(state: AppState) -> None:
    analysis: AudioAnalysis | None = state.extras.pop(_KEY, None)
    if analysis is not None:
        await analysis.stop()


def progress_json(counts: dict[str, int] | None) -> dict[str, Any]:
    """The ``analysis`` object of a Library in the API."""
    counts = counts or {}
    return {"pending": counts.get("pending", 0), "done": counts.get("done", 0),
            "failed": counts.get("failed", 0)}

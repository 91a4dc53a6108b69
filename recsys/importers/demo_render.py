"""Rebuilding the demo catalog's shipped files from music21's corpus, resumably.

`python -m recsys.importers.demo_music21 --render-midi` parses every selected piece once, in
worker processes (2 by default), and from that one parse takes both its features (into
`demo_catalog.json.gz`) and its MIDI (into `demo_midi.zip`); see `demo_media` for the archive.

Rules:
- a piece gets TIME_LIMIT_S of CPU time (a busy machine must not change what ships), and
  WALL_LIMIT_FACTOR times that of wall time; a worker past either is killed, because music21
  cannot be interrupted, and the piece is left out ("time limit");
- a piece whose MIDI lasts more than MAX_DURATION_MS is left out ("longer than the limit");
- a piece music21 cannot read or render is left out ("unreadable score"); a worker that dies
  costs its piece ("worker died").

Resumable: every finished piece (rendered or left out) is appended to
`<work dir>/progress.jsonl`, after its MIDI is written to `<work dir>/midi/`; a restart skips
those (`retry_failed` tries the left-out ones again, except the too-long). The work dir is
stamped with RENDER_VERSION and music21's version; a mismatch starts afresh. The shipped
files are written only once every piece is done, each atomically.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from recsys.importers.demo_cache import CACHE_PATH, Entry, write_cache
from recsys.importers.demo_corpus import Piece, select_pieces
from recsys.importers.demo_media import ARCHIVE_PATH, MAX_DURATION_MS, member_name, write_archive

# Bump when parsing or rendering changes, so a resumed rebuild does not mix old and new output.
RENDER_VERSION = 2
TIME_LIMIT_S = 90.0
WALL_LIMIT_FACTOR = 4.0
# Scratch space in the checkout (build/ is git-ignored); the rebuild is a developer step.
DEFAULT_WORK_DIR = Path(__file__).resolve().parents[2] / "build" / "demo-midi"

TOO_LONG = "longer than the limit"
TIME_LIMIT = "time limit"
UNREADABLE = "unreadable score"
WORKER_DIED = "worker died"

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RebuildOptions:
    archive: Path = ARCHIVE_PATH
    cache: Path = CACHE_PATH
    work_dir: Path = DEFAULT_WORK_DIR
    workers: int = 2
    time_limit_s: float = TIME_LIMIT_S
    retry_failed: bool = False


# --- worker side -----------------------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """A worker: import music21 once, say so, then analyse and render pieces until told to stop."""
    import signal

    # Ctrl-C is the parent's to handle: it kills the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from recsys.importers.demo_music21 import analyse_and_render

    conn.send(("ready", None))
    while True:
        task = conn.recv()
        if task is None:
            return
        ref, collection = task
        try:
            entry, midi = analyse_and_render(ref, collection)
            conn.send(("ok", (entry, midi)))
        except Exception as error:  # one bad score is one left-out piece, not a failed rebuild
            conn.send(("error", f"{type(error).__name__}: {str(error)[:160]}"))


# --- parent side -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    piece: Piece | None = None
    started: float = 0.0  # wall clock at assignment
    cpu_at_start: float = 0.0


def _cpu_seconds(pid: int | None) -> float:
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.Error, ValueError):
        return 0.0
    return float(times.user + times.system)


class _Pool:
    """Long-lived workers (music21 takes seconds to import) that can be killed one at a time."""

    def __init__(self, size: int) -> None:
        # Not fork: a forked copy of a parent holding threads or big parsed scores is fragile.
        self._context: SpawnContext | ForkServerContext = (
            multiprocessing.get_context("forkserver")
            if "forkserver" in multiprocessing.get_all_start_methods()
            else multiprocessing.get_context("spawn")
        )
        self.workers = [self._start() for _ in range(max(1, size))]

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child,), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def replace(self, worker: _Worker) -> None:
        self._stop(worker, kill=True)
        self.workers[self.workers.index(worker)] = self._start()

    def assign(self, worker: _Worker, piece: Piece) -> None:
        worker.piece, worker.started = piece, time.monotonic()
        worker.cpu_at_start = _cpu_seconds(worker.process.pid)
        worker.conn.send((piece.ref, piece.collection))

    def _stop(self, worker: _Worker, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                worker.process.kill()
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()

    def close(self, kill: bool) -> None:
        for worker in self.workers:
            self._stop(worker, kill=kill or worker.piece is not None)


@dataclass(slots=True)
class _Progress:
    """The work dir: what is finished so far, appended to as pieces finish."""

    work_dir: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def midi_dir(self) -> Path:
        return self.work_dir / "midi"

    @property
    def log_path(self) -> Path:
        return self.work_dir / "progress.jsonl"

    def open(self, music21_version: str) -> None:
        stamp = {"render_version": RENDER_VERSION, "music21": music21_version}
        stamp_path = self.work_dir / "stamp.json"
        try:
            same = json.loads(stamp_path.read_text()) == stamp
        except (OSError, ValueError):
            same = False
        if not same and self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        self.midi_dir.mkdir(parents=True, exist_ok=True)
        stamp_path.write_text(json.dumps(stamp))
        if self.log_path.exists():
            for line in self.log_path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill: that piece is simply done again
                if record.get("status") == "ok" and not (self.midi_dir / record["member"]).is_file():
                    continue
                self.records[record["ref"]] = record

    def add(self, record: dict[str, Any], midi: bytes | None = None) -> None:
        if midi is not None:
            path = self.midi_dir / record["member"]
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(midi)
            tmp.replace(path)
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.records[record["ref"]] = record


def _todo(pieces: list[Piece], progress: _Progress, retry_failed: bool) -> list[Piece]:
    def done(piece: Piece) -> bool:
        record = progress.records.get(piece.ref)
        if record is None:
            return False
        return not (retry_failed and record["status"] != "ok" and record.get("reason") != TOO_LONG)

    from recsys.importers.demo_music21 import estimated_cost

    # Largest first, so a minute-long quartet does not start last and leave the other worker idle.
    return sorted((p for p in pieces if not done(p)), key=estimated_cost, reverse=True)


def _finish(piece: Piece, outcome: str, payload: Any, seconds: float) -> tuple[dict[str, Any], bytes | None]:
    record: dict[str, Any] = {"ref": piece.ref, "collection": piece.collection, "seconds": round(seconds, 1)}
    if outcome != "ok":
        record.update(status="left_out", reason=outcome, detail=payload)
        return record, None
    entry, midi = payload
    record["duration_ms"] = entry["duration_ms"]
    if entry["duration_ms"] > MAX_DURATION_MS:
        record.update(status="left_out", reason=TOO_LONG,
                      detail=f"{entry['duration_ms'] / 60000:.1f} min > {MAX_DURATION_MS / 60000:.0f} min")
        return record, None
    record.update(status="ok", member=member_name(piece.ref), entry=entry)
    return record, midi


def _run_pool(todo: list[Piece], progress: _Progress, options: RebuildOptions, log: Log) -> None:
    queue = deque(todo)
    total, done = len(todo), 0
    pool = _Pool(min(options.workers, max(1, total)))
    clean = False

    def record(worker: _Worker, outcome: str, payload: Any) -> None:
        nonlocal done
        assert worker.piece is not None
        seconds = time.monotonic() - worker.started
        entry, midi = _finish(worker.piece, outcome, payload, seconds)
        progress.add(entry, midi)
        done += 1
        what = f"{entry['duration_ms'] / 1000:.0f} s of music" if "duration_ms" in entry else ""
        status = "ok" if entry["status"] == "ok" else f"LEFT OUT ({entry['reason']}: {entry.get('detail')})"
        log(f"[{done}/{total}] {worker.piece.ref}: {status} {what} in {seconds:.1f} s")
        worker.piece = None

    try:
        while queue or any(w.piece is not None for w in pool.workers):
            for worker in pool.workers:
                if worker.ready and worker.piece is None and queue:
                    pool.assign(worker, queue.popleft())
            for conn in wait([w.conn for w in pool.workers], timeout=1.0):
                worker = next(w for w in pool.workers if w.conn is conn)
                try:
                    kind, payload = worker.conn.recv()
                except (EOFError, OSError):
                    if not worker.ready:
                        # Dying before its first piece is not the piece's fault: respawning
                        # would only loop, so the rebuild stops.
                        raise RuntimeError("a render worker died while starting") from None
                    if worker.piece is not None:
                        record(worker, WORKER_DIED, f"exit code {worker.process.exitcode}")
                    pool.replace(worker)
                    continue
                if kind == "ready":
                    worker.ready = True
                else:
                    record(worker, "ok" if kind == "ok" else UNREADABLE, payload)
            now = time.monotonic()
            for worker in list(pool.workers):
                if worker.piece is None:
                    continue
                cpu = _cpu_seconds(worker.process.pid) - worker.cpu_at_start
                wall = now - worker.started
                if cpu > options.time_limit_s or wall > WALL_LIMIT_FACTOR * options.time_limit_s:
                    record(worker, TIME_LIMIT, f"{cpu:.0f} s CPU, {wall:.0f} s wall")
                    pool.replace(worker)
        clean = True
    finally:
        pool.close(kill=not clean)


def rebuild(options: RebuildOptions = RebuildOptions(), log: Log = print) -> str:
    """Render what is not done yet, then write the archive and the feature cache; a summary."""
    import music21

    started = time.perf_counter()
    pieces = list(select_pieces())
    progress = _Progress(options.work_dir)
    progress.open(str(music21.__version__))
    todo = _todo(pieces, progress, options.retry_failed)
    log(f"{len(pieces)} pieces selected, {len(pieces) - len(todo)} already done, {len(todo)} to render "
        f"with {options.workers} workers, {options.time_limit_s:.0f} s CPU each at most")
    _run_pool(todo, progress, options, log)

    records = [progress.records[p.ref] for p in pieces]
    rendered = [r for r in records if r["status"] == "ok"]
    midi = {r["ref"]: (progress.midi_dir / r["member"]).read_bytes() for r in rendered}
    durations = {r["ref"]: int(r["duration_ms"]) for r in rendered}
    left_out = {r["ref"]: f"{r['reason']}: {r.get('detail')}" for r in records if r["status"] != "ok"}
    write_archive(options.archive, midi, durations, left_out, str(music21.__version__))
    entries: dict[str, Entry] = {r["ref"]: r["entry"] for r in rendered}
    write_cache(entries, options.cache)

    reasons = Counter(r["reason"] for r in records if r["status"] != "ok")
    lines = [
        f"{len(rendered)} pieces rendered, {sum(reasons.values())} left out"
        + "".join(f"; {count} {reason}" for reason, count in reasons.most_common()),
        f"{options.archive}: {options.archive.stat().st_size / 1e6:.2f} MB "
        f"({sum(len(m) for m in midi.values()) / 1e6:.1f} MB of MIDI)",
        f"{options.cache}: {options.cache.stat().st_size / 1e3:.0f} kB",
        *(f"  left out: {ref}: {why}" for ref, why in sorted(left_out.items())),
        f"this run: {time.perf_counter() - started:.0f} s",
    ]
    return "\n".join(lines)

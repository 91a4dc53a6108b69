"""Importer for a local folder of audio files (mp3, flac, ogg, m4a, wav).

Each file yields one record: metadata from its tags (`audio_tags`), features computed from
the sound (`audio_features`, whose docstring documents the mapping onto Spotify's scales)
over an excerpt of at most `ANALYSIS_SECONDS` taken from the middle of long tracks, where the
music is rather than the intro. media_kind is "audio", media_ref the absolute path and
external_id the path relative to the folder (stable when the folder is moved).

A file that cannot be decoded (corrupt, truncated, a codec without a decoder: m4a/AAC needs
ffmpeg, which librosa reaches through audioread) is skipped with its reason in the report.

Analysis costs about a quarter second per excerpt-minute of CPU plus a few seconds of
one-time warm-up per process (librosa/numba), so `read_audio_folder` can fan out over a
process pool. Workers are started with "forkserver" (or "spawn") rather than "fork", which is
unsafe in a process that already runs threads, such as the web server.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recsys.catalog import TrackRecord
from recsys.importers.audio_features import SAMPLE_RATE, analyse_signal
from recsys.importers.audio_tags import read_tags
from recsys.importers.merge import add_unique
from recsys.importers.report import ImportReport, RowError

SOURCE = "audio"
ANALYSIS_SECONDS = 75.0
MAX_OFFSET_SECONDS = 30.0
CONTENT_TYPES: dict[str, str] = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".wav": "audio/wav",
}
AUDIO_SUFFIXES = frozenset(CONTENT_TYPES)

# on_progress(files_done, files_total)
FileProgress = Callable[[int, int], None]


def content_type_for(path: str | Path) -> str:
    """The HTTP Content-Type for an audio file, by extension."""
    return CONTENT_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def find_audio_files(folder: str | Path) -> list[Path]:
    """Audio files under `folder`, recursively, in a stable order; hidden entries skipped."""
    root = Path(folder)
    found: list[Path] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        found.extend(
            Path(directory) / name
            for name in sorted(names)
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES
        )
    return found


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What analysing one file produced; plain data so it crosses process boundaries."""

    path: str
    record: TrackRecord | None
    reason: str | None = None  # the specific message, shown as an example
    kind: str | None = None  # the bucket it is counted under in the report
    warning: str | None = None


def _excerpt_offset(duration_s: float | None) -> float:
    if not duration_s or duration_s <= ANALYSIS_SECONDS:
        return 0.0
    return min((duration_s - ANALYSIS_SECONDS) / 2.0, MAX_OFFSET_SECONDS)


def _decode(path: Path, duration_s: float | None) -> np.ndarray:
    import librosa

    with warnings.catch_warnings():
        # librosa warns when it falls back from soundfile to audioread; the outcome (decoded
        # or an exception) is what matters.
        warnings.simplefilter("ignore")
        signal, _ = librosa.load(
            path, sr=SAMPLE_RATE, mono=True, offset=_excerpt_offset(duration_s), duration=ANALYSIS_SECONDS
        )
    return np.asarray(signal, dtype=np.float32)


def analyse_file(path: str | Path, root: str | Path) -> FileOutcome:
    """One file → record, or the reason it was skipped. Never raises (runs in workers)."""
    path, root = Path(path).resolve(), Path(root).resolve()
    try:
        tags = read_tags(path, root)
        try:
            signal = _decode(path, tags.duration_ms / 1000 if tags.duration_ms else None)
        except Exception as error:
            return FileOutcome(str(path), None, _decode_reason(path, error), "cannot decode audio")
        try:
            features = analyse_signal(signal)
        except ValueError as error:
            return FileOutcome(str(path), None, str(error), str(error))
        duration_ms = tags.duration_ms or _sound_duration_ms(path)
        record = TrackRecord(
            source=SOURCE,
            external_id=path.relative_to(root).as_posix(),
            title=tags.title,
            artists=tags.artists,
            album=tags.album,
            genres=tags.genres,
            year=tags.year,
            duration_ms=duration_ms,
            audio=features.audio,
            media_kind="audio",
            media_ref=str(path),
        )
        add_unique(record.descriptors, features.descriptors)
        return FileOutcome(str(path), record, warning=tags.warning)
    except Exception as error:  # last line of defence: one odd file must not end an import
        reason = f"analysis failed ({type(error).__name__}: {error})"
        return FileOutcome(str(path), None, reason, "analysis failed")


def _decode_reason(path: Path, error: Exception) -> str:
    name = type(error).__name__
    if name == "NoBackendError":
        suffix = path.suffix.lower() or "file"
        return f"cannot decode {suffix}: not a readable audio file, or no decoder for it (ffmpeg)"
    return f"cannot decode audio ({name}: {str(error)[:120]})"


def _sound_duration_ms(path: Path) -> int | None:
    try:
        import soundfile

        info = soundfile.info(str(path))
        return round(info.frames / info.samplerate * 1000) if info.samplerate else None
    except Exception:
        return None


def pool_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def read_audio_folder(
    folder: str | Path,
    report: ImportReport,
    workers: int | None = 1,
    on_progress: FileProgress | None = None,
    only: Collection[Path] | None = None,
) -> Iterator[TrackRecord]:
    """Records for every audio file under `folder` (or only those of ``only`` among them: a
    rescan of what changed), in completion order.

    workers: 1 analyses in this process; n > 1 uses a pool of n processes; None uses one per
    CPU core.
    """
    root = Path(folder).resolve()
    files = find_audio_files(root)
    if only is not None:
        wanted = {Path(p).resolve() for p in only}
        files = [f for f in files if f.resolve() in wanted]
    if not report.source:
        report.source = str(root)
    workers = (os.cpu_count() or 1) if workers is None else max(1, workers)
    outcomes = _serial(files, root) if workers == 1 or len(files) < 2 else _parallel(files, root, workers)
    for done, outcome in enumerate(outcomes, start=1):
        report.rows_seen += 1
        relative = Path(outcome.path).relative_to(root).as_posix()
        if outcome.warning:
            report.warn(f"{relative}: {outcome.warning}")
        if outcome.record is None:
            report.skip(done, RowError(f"{relative}: {outcome.reason}", outcome.kind))
        else:
            report.imported += 1
            yield outcome.record
        if on_progress:
            on_progress(done, len(files))


def _serial(files: list[Path], root: Path) -> Iterator[FileOutcome]:
    for path in files:
        yield analyse_file(path, root)


def _parallel(files: list[Path], root: Path, workers: int) -> Iterator[FileOutcome]:
    pool = ProcessPoolExecutor(max_workers=min(workers, len(files)), mp_context=pool_context())
    try:
        futures: dict[Future[FileOutcome], Path] = {
            pool.submit(analyse_file, path, root): path for path in files
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                # A decoder that kills its process takes the pool with it; the files still
                # queued cannot be told apart from the culprit, so all are reported.
                crashed = "analysis process crashed"
                yield FileOutcome(str(futures[future]), None, crashed, crashed)
    finally:
        # A consumer that stops early must not wait for the rest of the library.
        pool.shutdown(wait=True, cancel_futures=True)

"""The built-in demo catalog: ~1,100 public-domain pieces from music21's corpus, as MIDI.

Which pieces: `demo_corpus`. What a score says: `demo_score`; how that becomes Spotify-style
features: `demo_features` and `demo_forms`; titles and albums: `demo_titles`.

Parsing and rendering all pieces takes many CPU-minutes (a Beethoven quartet movement alone
takes up to a minute), too slow for a first start or a play request, so both ship
precomputed next to this module: the features in `demo_catalog.json.gz` (`demo_cache`) and
the MIDI in `demo_midi.zip` (`demo_media`). One rebuild step writes both from one parse per
piece (`python -m recsys.importers.demo_music21 --render-midi`, see `demo_render`).

Invariants: `demo_records()` yields only pieces whose MIDI is in the archive, and a record's
duration is its MIDI's length (tempo map applied), never the score's estimate. Pieces the
archive lacks are left out, never rendered at run time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from recsys.catalog import TrackRecord
from recsys.importers.abc_index import AbcTune, find_tune
from recsys.importers.demo_cache import CACHE_PATH, Entry, load_cache
from recsys.importers.demo_corpus import (
    COLLECTION_BY_NAME,
    Collection,
    Piece,
    corpus_root,
    select_pieces,
    split_ref,
)
from recsys.importers.demo_features import descriptors_for, features_from_facts
from recsys.importers.demo_media import ARCHIVE_PATH, load_manifest
from recsys.importers.demo_parse import midi_bytes, midi_duration_ms, parent_title, parse_ref
from recsys.importers.demo_score import _text_bpm, region_word, score_facts
from recsys.importers.demo_titles import album_for, movement_label, piece_title
from recsys.importers.report import ImportReport, RowError

SOURCE = "demo"

PieceProgress = Callable[[int, int], None]  # (pieces done, pieces total)


def _collection_for(ref: str) -> Collection | None:
    lookup = {piece.ref: piece.collection for piece in select_pieces()}
    name = lookup.get(ref)
    return COLLECTION_BY_NAME[name] if name else None


def _tune(ref: str) -> AbcTune | None:
    path, number = split_ref(ref)
    return find_tune(corpus_root() / path, number) if number is not None else None


def _hint_texts(score: Any, ref: str, tune: AbcTune | None) -> list[str]:
    metadata = getattr(score, "metadata", None)
    texts = [Path(split_ref(ref)[0]).stem]
    if tune is not None:
        texts.append(tune.hint_text)
    for attribute in ("title", "movementName"):
        value = getattr(metadata, attribute, None) if metadata is not None else None
        if value:
            texts.append(str(value))
    return texts


def _composer(score: Any) -> str:
    metadata = getattr(score, "metadata", None)
    composer = str(getattr(metadata, "composer", "") or "").split("\n")[0].strip()
    if not composer or composer.lower().startswith("anonym"):
        return "Anonymous"
    return composer


def analyse_and_render(ref: str, collection_name: str) -> tuple[Entry, bytes]:
    """The cache entry of one piece and its MIDI, from one parse, so what is measured is what
    is heard; the entry's duration_ms is the MIDI's length."""
    collection = COLLECTION_BY_NAME[collection_name]
    score = parse_ref(ref)
    tune = _tune(ref)
    path = split_ref(ref)[0]
    facts, default_bpm = score_facts(
        score, collection.kind, _hint_texts(score, ref, tune), collection.kind == "dance_tune"
    )
    if facts.seconds <= 0 or facts.onsets == 0:
        raise ValueError("score has no notes")
    audio = features_from_facts(facts, collection.kind)
    entry: Entry = {
        "collection": collection.name,
        "title": piece_title(score, collection, path, movement_label(collection, path)),
        "artists": [collection.artist or _composer(score)],
        "album": album_for(collection, path, parent_title(score)),
        "genres": list(collection.genres),
        "descriptors": descriptors_for(audio, facts, collection, region_word(tune)),
        "duration_ms": 0,  # set below, from the MIDI
        "audio": audio,
    }
    data = _midi_with_tempo(score, default_bpm)
    entry["duration_ms"] = midi_duration_ms(data)
    return entry, data


def analyse_piece(ref: str, collection_name: str) -> Entry:
    """The cache entry of one piece (title, artists, album, genres, descriptors, features)."""
    return analyse_and_render(ref, collection_name)[0]


def _analyse_safely(ref: str, collection_name: str) -> tuple[str, Entry | None, str | None]:
    try:
        return ref, analyse_piece(ref, collection_name), None
    except Exception as error:  # a piece music21 cannot read is skipped, not fatal
        return ref, None, f"{type(error).__name__}: {str(error)[:160]}"


def entry_to_record(ref: str, entry: Entry) -> TrackRecord:
    return TrackRecord(
        source=SOURCE,
        external_id=ref,
        title=entry["title"],
        artists=list(entry["artists"]),
        album=entry.get("album"),
        genres=list(entry.get("genres", [])),
        duration_ms=entry.get("duration_ms"),
        audio={name: float(value) for name, value in entry.get("audio", {}).items()},
        descriptors=list(entry.get("descriptors", [])),
        media_kind="midi",
        media_ref=ref,
    )


def estimated_cost(piece: Piece) -> int:
    path, number = split_ref(piece.ref)
    # One tune of an ABC opus is tiny whatever the file size; whole files cost their size.
    return 1 if number is not None else (corpus_root() / path).stat().st_size


def analyse_pieces(
    pieces: list[Piece], workers: int | None = None, on_progress: PieceProgress | None = None
) -> Iterator[tuple[str, Entry | None, str | None]]:
    """(ref, entry or None, error) for each piece, in completion order."""
    workers = (os.cpu_count() or 1) if workers is None else max(1, workers)
    total = len(pieces)
    if workers == 1 or total < 4:
        for done, piece in enumerate(pieces, start=1):
            yield _analyse_safely(piece.ref, piece.collection)
            if on_progress:
                on_progress(done, total)
        return
    # Largest first, so a 10-second quartet does not start last and leave the other workers idle.
    ordered = sorted(pieces, key=estimated_cost, reverse=True)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures = [pool.submit(_analyse_safely, piece.ref, piece.collection) for piece in ordered]
        for done, future in enumerate(as_completed(futures), start=1):
            yield future.result()
            if on_progress:
                on_progress(done, total)
    finally:
        # A consumer that stops early must not wait for hundreds of queued parses.
        pool.shutdown(wait=True, cancel_futures=True)


def demo_records(
    workers: int | None = None,
    report: ImportReport | None = None,
    on_progress: PieceProgress | None = None,
    cache_path: Path = CACHE_PATH,
    archive_path: Path = ARCHIVE_PATH,
) -> Iterator[TrackRecord]:
    """The demo catalog: the selected pieces the MIDI archive holds, cached ones first
    (instantly), then any the feature cache lacks as parsed."""
    report = report if report is not None else ImportReport(source="music21 demo corpus")
    cache = load_cache(cache_path)
    manifest = load_manifest(archive_path)
    selected = list(select_pieces())
    # Left out on purpose at the rebuild (too long, unreadable) is no news; a selected piece the
    # rebuild never saw means the archive is older than the corpus or the selection.
    unrendered = [p for p in selected if p.ref not in manifest.pieces and p.ref not in manifest.left_out]
    if unrendered:
        report.warn(f"{len(unrendered)} demo pieces have no MIDI in {archive_path.name} and are left out; "
                    "rebuild it with `python -m recsys.importers.demo_music21 --render-midi`")
    pieces = [piece for piece in selected if piece.ref in manifest.pieces]
    missing = [piece for piece in pieces if piece.ref not in cache]
    for piece in pieces:
        if piece.ref in cache:
            report.rows_seen += 1
            report.imported += 1
            yield entry_to_record(piece.ref, cache[piece.ref])
    if missing:
        report.warn(f"{len(missing)} demo pieces were not in the feature cache and were parsed now")
    for index, (ref, entry, error) in enumerate(analyse_pieces(missing, workers, on_progress), start=1):
        report.rows_seen += 1
        if entry is None:
            report.skip(index, RowError(f"{ref}: {error}", "unreadable score"))
            continue
        report.imported += 1
        yield entry_to_record(ref, entry)


def render_midi(media_ref: str) -> bytes:
    """Standard MIDI File bytes of one piece (starts with b"MThd").

    A score without any tempo mark gets the tempo its features were computed with, so the
    playback speed matches the catalog's tempo and duration.
    """
    score = parse_ref(media_ref)
    collection = _collection_for(media_ref)
    default_bpm = None
    if collection is not None:
        tune = _tune(media_ref)
        _, default_bpm = score_facts(
            score, collection.kind, _hint_texts(score, media_ref, tune), collection.kind == "dance_tune"
        )
    return _midi_with_tempo(score, default_bpm)


def _midi_with_tempo(score: Any, default_bpm: float | None) -> bytes:
    """MIDI at the tempo the features assumed: a word-only mark ("Slowly") gets the number the
    features read into it, and a score with no numbered mark gets the default tempo. (MIDI
    export skips number-less marks, so such a piece would otherwise play at 120 bpm.)"""
    from music21 import tempo

    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    for mark in marks:
        if mark.number is None and (bpm := _text_bpm(mark.text)):
            mark.number = round(bpm)
    if default_bpm is not None and all(mark.number is None for mark in marks):
        # The export lets a number-less mark shadow one added at the same offset, so the
        # marks that are there get the number too.
        for mark in marks:
            mark.number = round(default_bpm)
        score.insert(0, tempo.MetronomeMark(number=round(default_bpm)))
    return midi_bytes(score)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--render-midi",
        "--rebuild-cache",
        dest="rebuild",
        action="store_true",
        help="parse and render every piece; rewrite demo_midi.zip and demo_catalog.json.gz (resumable)",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: 2 for the rebuild)")
    parser.add_argument("--cache", type=Path, default=CACHE_PATH)
    parser.add_argument("--archive", type=Path, default=ARCHIVE_PATH)
    parser.add_argument("--work-dir", type=Path, default=None, help="rebuild's resumable scratch folder")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per piece at the rebuild")
    parser.add_argument("--retry-failed", action="store_true", help="rebuild: try left-out pieces again")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"  {done}/{total} pieces, {time.perf_counter() - started:.0f} s", flush=True)

    if args.rebuild:
        from recsys.importers import demo_render

        options = demo_render.RebuildOptions(
            archive=args.archive,
            cache=args.cache,
            work_dir=args.work_dir or demo_render.DEFAULT_WORK_DIR,
            workers=args.workers or 2,
            time_limit_s=args.time_limit or demo_render.TIME_LIMIT_S,
            retry_failed=args.retry_failed,
        )
        print(demo_render.rebuild(options, log=lambda line: print(line, flush=True)))
    else:
        report = ImportReport(source="music21 demo corpus")
        count = sum(1 for _ in demo_records(args.workers, report, progress, args.cache, args.archive))
        print(f"{count} records")
        print(report.summary())
    print(f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

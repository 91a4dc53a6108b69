"""The built-in demo catalog: ~1,100 public-domain pieces from music21's corpus, as MIDI.

Which pieces: `demo_corpus`. What a score says: `demo_score`; how that becomes Spotify-style
features: `demo_features` and `demo_forms`; titles and albums: `demo_titles`.

Parsing all pieces takes several CPU-minutes (a Beethoven quartet alone takes ~10 s), too slow
for a first start, so the features ship precomputed in `demo_catalog.json.gz` next to this
module (regenerate with `python -m recsys.importers.demo_music21 --rebuild-cache`). At run
time `demo_records()` reads that cache and parses only the selected pieces missing from it
(a newer music21 corpus, or a changed selection), in a process pool.

`render_midi(ref)` turns one piece into Standard MIDI File bytes for playback, with the same
default tempo the features assumed when the score has no tempo mark of its own.
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
from recsys.importers.demo_cache import CACHE_PATH, Entry, load_cache, write_cache
from recsys.importers.demo_corpus import (
    COLLECTION_BY_NAME,
    Collection,
    Piece,
    corpus_root,
    select_pieces,
    split_ref,
)
from recsys.importers.demo_features import descriptors_for, features_from_facts
from recsys.importers.demo_parse import midi_bytes, parent_title, parse_ref
from recsys.importers.demo_score import region_word, score_facts
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


def analyse_piece(ref: str, collection_name: str) -> Entry:
    """The cache entry of one piece (title, artists, album, genres, descriptors, features)."""
    collection = COLLECTION_BY_NAME[collection_name]
    score = parse_ref(ref)
    tune = _tune(ref)
    path = split_ref(ref)[0]
    facts, _ = score_facts(
        score, collection.kind, _hint_texts(score, ref, tune), collection.kind == "dance_tune"
    )
    if facts.seconds <= 0 or facts.onsets == 0:
        raise ValueError("score has no notes")
    audio = features_from_facts(facts, collection.kind)
    return {
        "collection": collection.name,
        "title": piece_title(score, collection, path, movement_label(collection, path)),
        "artists": [collection.artist or _composer(score)],
        "album": album_for(collection, path, parent_title(score)),
        "genres": list(collection.genres),
        "descriptors": descriptors_for(audio, facts, collection, region_word(tune)),
        "duration_ms": round(facts.seconds * 1000),
        "audio": audio,
    }


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


def _estimated_cost(piece: Piece) -> int:
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
    ordered = sorted(pieces, key=_estimated_cost, reverse=True)
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
) -> Iterator[TrackRecord]:
    """The demo catalog: cached pieces first (instantly), then any missing ones as parsed."""
    report = report if report is not None else ImportReport(source="music21 demo corpus")
    cache = load_cache(cache_path)
    pieces = list(select_pieces())
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


def rebuild_cache(
    path: Path = CACHE_PATH, workers: int | None = None, on_progress: PieceProgress | None = None
) -> ImportReport:
    """Parse every selected piece and write the cache (run once per corpus/feature change)."""
    report = ImportReport(source="music21 demo corpus (cache rebuild)")
    entries: dict[str, Entry] = {}
    for index, (ref, entry, error) in enumerate(
        analyse_pieces(list(select_pieces()), workers, on_progress), 1
    ):
        report.rows_seen += 1
        if entry is None:
            report.skip(index, RowError(f"{ref}: {error}", "unreadable score"))
        else:
            report.imported += 1
            entries[ref] = entry
    write_cache(entries, path)
    return report


def render_midi(media_ref: str) -> bytes:
    """Standard MIDI File bytes of one piece (starts with b"MThd").

    A score without any tempo mark gets the tempo its features were computed with, so the
    playback speed matches the catalog's tempo and duration.
    """
    from music21 import tempo

    score = parse_ref(media_ref)
    collection = _collection_for(media_ref)
    if collection is not None and not score.recurse().getElementsByClass(tempo.MetronomeMark):
        tune = _tune(media_ref)
        _, default_bpm = score_facts(
            score, collection.kind, _hint_texts(score, media_ref, tune), collection.kind == "dance_tune"
        )
        score.insert(0, tempo.MetronomeMark(number=round(default_bpm)))
    return midi_bytes(score)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild-cache", action="store_true", help="parse all pieces and rewrite the cache")
    parser.add_argument("--workers", type=int, default=None, help="parser processes (default: CPU count)")
    parser.add_argument("--cache", type=Path, default=CACHE_PATH)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            print(f"  {done}/{total} pieces, {time.perf_counter() - started:.0f} s", flush=True)

    if args.rebuild_cache:
        report = rebuild_cache(args.cache, args.workers, progress)
    else:
        report = ImportReport(source="music21 demo corpus")
        count = sum(1 for _ in demo_records(args.workers, report, progress, args.cache))
        print(f"{count} records")
    print(report.summary())
    print(f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The music21 demo catalog: selection, shipped cache, fresh parses, MIDI rendering.

The shipped MIDI archive and the media route that serves it: test_demo_media.py."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from recsys.importers.demo_cache import CACHE_PATH, load_cache, write_cache
from recsys.importers.demo_corpus import COLLECTION_BY_NAME, corpus_root, select_pieces, split_ref
from recsys.importers.demo_media import load_manifest
from recsys.importers.demo_music21 import analyse_piece, demo_records, render_midi
from recsys.importers.demo_parse import parse_ref
from recsys.importers.report import ImportReport

# Quick to parse, and between them: a folk song, a fiddle tune without tempo mark, a chorale
# with lyrics, an ABC file of voices merged into one score, a piano rag, a mass movement.
SAMPLE = (
    "essenFolksong/han1.abc#",
    "ryansMammoth/AlhambraReel.abc",
    "bach/bwv101.7.mxl",
    "josquin/milleRegrets.abc",
    "joplin/maple_leaf_rag.mxl",
    "palestrina/Agnus_17.krn",
)


def _sample_pieces() -> dict[str, str]:
    chosen: dict[str, str] = {}
    for prefix in SAMPLE:
        piece = next(p for p in select_pieces() if p.ref.startswith(prefix))
        chosen[piece.ref] = piece.collection
    return chosen


def test_selection_is_varied_and_on_disk() -> None:
    pieces = select_pieces()
    refs = [p.ref for p in pieces]
    assert 300 <= len(refs) <= 1500 and len(set(refs)) == len(refs)
    counts = Counter(p.collection for p in pieces)
    assert set(counts) == set(COLLECTION_BY_NAME)
    assert max(counts.values()) <= 0.25 * len(refs)  # no collection dominates
    root = corpus_root()
    assert all((root / split_ref(ref)[0]).is_file() for ref in refs)


def test_shipped_cache_covers_the_archive() -> None:
    assert CACHE_PATH.stat().st_size < 1_000_000
    cache = load_cache()
    missing = [ref for ref in load_manifest().pieces if ref not in cache]
    assert not missing, f"cache lacks {len(missing)} pieces, e.g. {missing[:3]}; run --render-midi"


def test_demo_records_from_cache_are_sane() -> None:
    started = time.perf_counter()
    report = ImportReport()
    records = list(demo_records(report=report))
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"cached load took {elapsed:.1f} s"
    assert len(records) == len(load_manifest().pieces) == report.imported and not report.warnings
    for record in records:
        assert (
            record.source == "demo" and record.media_kind == "midi" and record.media_ref == record.external_id
        )
        assert record.title and record.artists and record.album and record.genres and record.descriptors
        assert record.duration_ms is not None and record.duration_ms > 1000
        audio = record.audio
        for name in (
            "danceability",
            "energy",
            "speechiness",
            "acousticness",
            "instrumentalness",
            "liveness",
            "valence",
        ):
            assert 0.0 <= audio[name] <= 1.0, (record.external_id, name)
        assert -60.0 <= audio["loudness"] <= 0.0 and 60.0 <= audio["tempo"] <= 200.0
        assert audio.get("mode", 1.0) in (0.0, 1.0) and audio.get("key", 0.0) in {float(k) for k in range(12)}
    by_genre = Counter(g for r in records for g in r.genres)
    assert by_genre["folk"] > 300 and by_genre["chorale"] > 50 and by_genre["string quartet"] > 20


def test_fresh_parse_matches_cache() -> None:
    """A handful of pieces parse to sane records, identical to what the cache holds (so the
    committed cache is in step with the feature code)."""
    cache = load_cache()
    for ref, collection in _sample_pieces().items():
        entry = analyse_piece(ref, collection)
        assert entry == cache[ref], ref
    reel = cache[next(r for r in _sample_pieces() if r.startswith("ryansMammoth"))]
    assert "reel" in reel["descriptors"] and reel["audio"]["danceability"] > 0.7
    assert reel["artists"] == ["Traditional"] and reel["genres"] == ["folk", "celtic"]
    chorale = cache["bach/bwv101.7.mxl"]
    assert chorale["audio"]["instrumentalness"] < 0.5 and chorale["title"].endswith("(BWV 101.7)")
    mass = cache[next(r for r in _sample_pieces() if r.startswith("palestrina"))]
    assert mass["album"].startswith("Missa")


def test_missing_pieces_are_parsed(tmp_path: Path) -> None:
    cache = load_cache()
    dropped = list(_sample_pieces())[:2]
    partial = tmp_path / "partial.json.gz"
    write_cache({ref: entry for ref, entry in cache.items() if ref not in dropped}, partial)
    report = ImportReport()
    records = {r.external_id: r for r in demo_records(workers=1, report=report, cache_path=partial)}
    assert set(dropped) <= set(records) and len(records) == len(load_manifest().pieces)
    assert report.warnings == ["2 demo pieces were not in the feature cache and were parsed now"]


def test_render_midi() -> None:
    reel = next(r for r in _sample_pieces() if r.startswith("ryansMammoth"))
    data = render_midi(reel)
    assert data.startswith(b"MThd") and b"MTrk" in data
    # No tempo in the ABC: the features' default (reel, quarter = 224) is written as a
    # set-tempo meta event of 60e6 / 224 microseconds per quarter.
    assert b"\xff\x51\x03" + round(60_000_000 / 224).to_bytes(3, "big") in data
    assert render_midi("bach/bwv101.7.mxl").startswith(b"MThd")
    # Tunes whose scores music21's MIDI export rejects (a time signature found twice; a part
    # without measures) are exported from a flattened copy.
    for ref in ("oneills1850/0301-0350.abc#345", "miscFolk/americanfifeopus.abc#8"):
        assert render_midi(ref).startswith(b"MThd"), ref


def test_unknown_ref_fails_loudly() -> None:
    from music21.exceptions21 import Music21Exception

    with pytest.raises(Music21Exception):
        render_midi("nosuchcomposer/nothing.mxl")


def test_unopened_repeats_repeat_their_own_section() -> None:
    # O'Neill's "The Gold Ring": seven parts, each `|| ... :|` without a `|:`. Each part is
    # played twice (168 written quarters, 336 played), not the whole tune again at every `:|`
    # as music21 reads it (6,096 quarters: 35 minutes).
    assert float(parse_ref("oneills1850/0701-0720.abc#708").highestTime) == 336.0

"""The real public files in /work/shared/data (skipped where they are absent)."""

from __future__ import annotations

import copy
import time

import pytest
from importers_helpers import HIT_PREDICTOR, LASTFM, needs_hit_predictor, needs_lastfm

from recsys.catalog import TrackRecord
from recsys.importers.lastfm import enrich, load_artist_profiles, match_rate
from recsys.importers.report import ImportReport
from recsys.importers.spotify_csv import read_spotify_csv


@pytest.fixture(scope="module")
def hit_predictor() -> tuple[list[TrackRecord], ImportReport, float]:
    report = ImportReport()
    started = time.perf_counter()
    records = list(read_spotify_csv(HIT_PREDICTOR, report))
    return records, report, time.perf_counter() - started


@needs_hit_predictor
def test_all_hit_predictor_rows(hit_predictor: tuple[list[TrackRecord], ImportReport, float]) -> None:
    records, report, elapsed = hit_predictor
    rate = report.rows_seen / elapsed
    print(f"\nHit Predictor: {report.rows_seen} rows in {elapsed:.2f} s = {rate:,.0f} rows/s")
    assert report.rows_seen == 41_106
    assert report.skipped_total == 0
    assert len(records) == 40_560 == report.imported
    assert report.merged == 41_106 - 40_560
    assert len({r.external_id for r in records}) == len(records)
    assert all(r.year in {1960, 1970, 1980, 1990, 2000, 2010} for r in records)
    assert sum("billboard hit" in r.descriptors for r in records) > 20_000


@needs_hit_predictor
@needs_lastfm
def test_lastfm_match_rate_on_hit_predictor(
    hit_predictor: tuple[list[TrackRecord], ImportReport, float],
) -> None:
    started = time.perf_counter()
    profiles = load_artist_profiles(LASTFM)
    loaded = time.perf_counter() - started
    records = hit_predictor[0]
    rate = match_rate(records, profiles)
    print(f"\nLast.fm profiles: {len(profiles)} in {loaded:.2f} s; {rate}")
    assert len(profiles) > 17_000
    assert rate.artist_rate > 0.25 and rate.track_rate > 0.45
    sample = [copy.deepcopy(r) for r in records[:2000]]  # the fixture is shared: enrich copies
    enriched = [r for r in sample if enrich(r, profiles)]
    assert enriched and all(0 <= (r.popularity or 0) <= 100 for r in enriched)
    assert sum(bool(r.genres) for r in enriched) > 0.8 * len(enriched)

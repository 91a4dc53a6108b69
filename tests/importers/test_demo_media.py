"""The shipped MIDI archive of the demo catalog, and the media route that serves it.

The archive is committed, so these tests run against the real file: every demo record has a
member whose MIDI lasts the record's duration, nothing is over the length limit, the manifest
and the members agree, and the play request answers from the archive without music21.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import mido
import pytest

from recsys.catalog import TrackRecord
from recsys.importers.demo_corpus import select_pieces
from recsys.importers.demo_media import (
    ARCHIVE_PATH,
    MANIFEST_MEMBER,
    MAX_DURATION_MS,
    MidiArchive,
    load_manifest,
    member_name,
    write_archive,
)
from recsys.importers.demo_music21 import demo_records
from recsys.importers.report import ImportReport

# The two pieces whose listed lengths exposed misread repeats (35:00 and 59:53).
GOLD_RING = "oneills1850/0701-0720.abc#708"
OP18_NO4 = "beethoven/opus18no4.mxl"


def _length_ms(data: bytes) -> float:
    return float(mido.MidiFile(file=io.BytesIO(data)).length) * 1000


def test_archive_is_small_and_its_manifest_matches_its_members() -> None:
    assert ARCHIVE_PATH.stat().st_size < 10_000_000
    manifest = load_manifest()
    assert len(manifest.pieces) > 900, "the archive should hold most of the demo catalog"
    with zipfile.ZipFile(ARCHIVE_PATH) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        assert set(infos) == {MANIFEST_MEMBER} | {e.member for e in manifest.pieces.values()}
        for ref, entry in manifest.pieces.items():
            info = infos[entry.member]
            assert entry.member == member_name(ref) and re.fullmatch(r"[A-Za-z0-9._-]+\.mid", entry.member)
            assert info.file_size == entry.size and info.compress_type == zipfile.ZIP_DEFLATED
            assert 0 < entry.duration_ms <= MAX_DURATION_MS, ref
    selected = {piece.ref for piece in select_pieces()}
    # Every selected piece is either shipped or left out with a stated reason, never both.
    assert set(manifest.pieces) | set(manifest.left_out) == selected
    assert not set(manifest.pieces) & set(manifest.left_out)
    assert all(manifest.left_out.values())


def test_every_demo_record_plays_its_listed_duration() -> None:
    report = ImportReport()
    records: list[TrackRecord] = list(demo_records(report=report))
    manifest = load_manifest()
    assert not report.warnings
    assert {r.external_id for r in records} == set(manifest.pieces)
    archive = MidiArchive(ARCHIVE_PATH)
    for record in records:
        data = archive.read(record.media_ref or "")
        assert data is not None and data.startswith(b"MThd"), record.external_id
        assert record.duration_ms is not None and record.duration_ms <= MAX_DURATION_MS
        assert record.duration_ms == manifest.pieces[record.external_id].duration_ms
        assert abs(_length_ms(data) - record.duration_ms) <= 1000, record.external_id


def test_misread_repeats_no_longer_inflate_durations() -> None:
    manifest = load_manifest()
    # A seven-part reel of ~1 minute written out, 2 minutes with its repeats (was 35:00).
    assert 60_000 < manifest.pieces[GOLD_RING].duration_ms < 180_000
    # A whole quartet in one file: its finale's unopened repeats no longer replay the first
    # three movements (it was listed 59:53 and took over 10 minutes to convert).
    assert 10 * 60_000 < manifest.pieces[OP18_NO4].duration_ms <= MAX_DURATION_MS
    # Longer whole quartets are left out, each with its reason.
    assert "beethoven/opus18no3.mxl" in manifest.left_out


def test_archive_roundtrip_is_deterministic(tmp_path: Path) -> None:
    midi = {"a/b c.abc#3": b"MThd one", "x/y.mxl": b"MThd two"}
    durations = {"a/b c.abc#3": 1000, "x/y.mxl": 2000}
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"
    write_archive(first, midi, durations, {"z.mxl": "time limit"}, "10")
    write_archive(second, dict(reversed(midi.items())), durations, {"z.mxl": "time limit"}, "10")
    assert first.read_bytes() == second.read_bytes()
    archive = MidiArchive(first)
    assert archive.read("a/b c.abc#3") == b"MThd one" and archive.read("z.mxl") is None
    assert archive.manifest.pieces["x/y.mxl"].member == "x_y.mxl.mid"
    assert member_name("a/b c.abc#3") == "a_b_c.abc-3.mid"
    with pytest.raises(ValueError, match="limit"):
        write_archive(tmp_path / "long.zip", {"l": b"MThd"}, {"l": MAX_DURATION_MS + 1}, {}, "10")
    assert MidiArchive(tmp_path / "absent.zip").read("a/b c.abc#3") is None


def _no_music21(*_: Any, **__: Any) -> Any:
    raise AssertionError("the play request must not parse or render a score")


async def test_media_route_serves_demo_midi_from_the_archive(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recsys.importers.demo_music21 as demo_music21
    import recsys.importers.demo_parse as demo_parse
    from app.store import tracks

    for module, name in (
        (demo_parse, "parse_ref"),
        (demo_music21, "parse_ref"),
        (demo_music21, "render_midi"),
    ):
        monkeypatch.setattr(module, name, _no_music21)
    state = app.app.extensions["musicrec"]
    piece = GOLD_RING
    records = [
        TrackRecord(source="demo", external_id=ref, title=ref, artists=["Traditional"], media_kind="midi",
                    media_ref=ref)
        for ref in (piece, "nosuchcomposer/nothing.mxl")
    ]
    async with state.db.transaction() as conn:
        shipped_id, missing_id = await tracks.upsert_batch(conn, records)
    client = app.test_client()

    whole = await client.get(f"/api/tracks/{shipped_id}/media")
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/midi"
    data = await whole.get_data()
    assert data.startswith(b"MThd") and data == MidiArchive(ARCHIVE_PATH).read(piece)

    part = await client.get(f"/api/tracks/{shipped_id}/media", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and await part.get_data() == b"MThd"
    assert part.headers["Content-Range"] == f"bytes 0-3/{len(data)}"
    etag = whole.headers["ETag"]
    again = await client.get(f"/api/tracks/{shipped_id}/media", headers={"If-None-Match": etag})
    assert again.status_code == 304

    missing = await client.get(f"/api/tracks/{missing_id}/media")
    assert missing.status_code == 404
    assert (await missing.get_json())["error"]["code"] == "media_missing"

"""Local audio folder: tags, features from synthetic sound, broken files, parallel path."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recsys.catalog import TrackRecord
from recsys.importers import detect_format
from recsys.importers.audio_folder import content_type_for, find_audio_files, read_audio_folder
from recsys.importers.report import ImportReport

SR = 22050
UNIT = ("danceability", "energy", "acousticness", "instrumentalness", "valence")


def _melody(bpm: float, midi_notes: list[int], seconds: float) -> np.ndarray:
    """Plucked sine notes, one per beat: a clear pulse and a clear key."""
    signal = np.zeros(int(seconds * SR))
    beat = int(SR * 60 / bpm)
    t = np.arange(beat) / SR
    for index, start in enumerate(range(0, signal.size - beat, beat)):
        freq = 440.0 * 2 ** ((midi_notes[index % len(midi_notes)] - 69) / 12)
        signal[start : start + beat] = 0.3 * np.sin(2 * np.pi * freq * t) * np.exp(-3 * t)
    return signal.astype(np.float32)


def _clicks(bpm: float, seconds: float) -> np.ndarray:
    signal = np.zeros(int(seconds * SR), dtype=np.float32)
    burst = np.random.default_rng(0).uniform(-0.8, 0.8, 200).astype(np.float32)
    for start in range(0, signal.size - 200, int(SR * 60 / bpm)):
        signal[start : start + 200] = burst
    return signal


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("music")
    c_major = [60, 64, 67, 72, 67, 64, 62, 65, 69, 67, 64, 60]
    album = root / "The Band" / "First Album"
    album.mkdir(parents=True)
    sf.write(album / "01 - Opening.wav", _melody(120, c_major, 12), SR)
    sf.write(root / "clicks.flac", _clicks(100, 12), SR)
    # libsndfile's Vorbis encoder can crash on one large write; feed it in blocks.
    with sf.SoundFile(root / "melody.ogg", "w", SR, 1, format="OGG", subtype="VORBIS") as ogg:
        melody = _melody(120, c_major, 8)
        for start in range(0, melody.size, 4096):
            ogg.write(melody[start : start + 4096])
    sf.write(root / "tagged.flac", _melody(96, c_major, 8), SR)
    from mutagen.flac import FLAC

    tags = FLAC(root / "tagged.flac")
    tags.update(
        {
            "title": "Tagged Song",
            "artist": "Lead feat. Guest",
            "album": "Tags",
            "genre": "Hip Hop; Jazz",
            "date": "1999-02-03",
        }
    )
    tags.save()
    (root / "garbage.mp3").write_bytes(os.urandom(4000))
    whole = (root / "clicks.flac").read_bytes()
    (root / "truncated.flac").write_bytes(whole[: len(whole) // 4])
    (root / "silence.wav").write_bytes(b"")  # zero bytes: unreadable
    sf.write(root / "short.wav", np.zeros(SR // 2, dtype=np.float32), SR)
    (root / ".hidden.wav").write_bytes(b"ignored")
    (root / "notes.txt").write_text("not audio")
    return root


def test_find_and_content_types(library: Path) -> None:
    names = [p.name for p in find_audio_files(library)]
    assert ".hidden.wav" not in names and "notes.txt" not in names and len(names) == 8
    assert content_type_for("a.MP3") == "audio/mpeg"
    assert [content_type_for(f"x.{ext}") for ext in ("flac", "ogg", "m4a", "wav")] == [
        "audio/flac",
        "audio/ogg",
        "audio/mp4",
        "audio/wav",
    ]
    assert detect_format(library) == "audio_folder"


@pytest.fixture(scope="module")
def serial(library: Path) -> tuple[dict[str, TrackRecord], ImportReport, list[tuple[int, int]]]:
    report = ImportReport()
    progress: list[tuple[int, int]] = []
    found = read_audio_folder(library, report, workers=1, on_progress=lambda *a: progress.append(a))
    return {r.external_id: r for r in found}, report, progress


def test_serial_import(serial: tuple[dict[str, TrackRecord], ImportReport, list[tuple[int, int]]]) -> None:
    records, report, progress = serial
    assert set(records) == {
        "The Band/First Album/01 - Opening.wav",
        "clicks.flac",
        "melody.ogg",
        "tagged.flac",
    }
    assert report.rows_seen == 8 and report.imported == 4 and report.skipped_total == 4
    assert progress[-1] == (8, 8)
    reasons = " | ".join(reason for _, reason in report.examples)
    for name in ("garbage.mp3", "truncated.flac", "silence.wav", "short.wav"):
        assert name in reasons

    for record in records.values():
        assert record.source == "audio" and record.media_kind == "audio"
        assert (
            record.media_ref is not None
            and Path(record.media_ref).is_absolute()
            and Path(record.media_ref).exists()
        )
        audio = record.audio
        assert all(0.0 <= audio[name] <= 1.0 for name in UNIT)
        assert -60.0 <= audio["loudness"] <= 0.0 and 60.0 <= audio["tempo"] <= 200.0
        assert set(audio) <= {
            "danceability",
            "energy",
            "key",
            "loudness",
            "mode",
            "acousticness",
            "instrumentalness",
            "valence",
            "tempo",
        }

    opening = records["The Band/First Album/01 - Opening.wav"]
    assert (opening.title, opening.artists, opening.album) == ("Opening", ["The Band"], "First Album")
    assert opening.duration_ms == 12000
    assert abs(opening.audio["tempo"] - 120) / 120 < 0.05
    assert (opening.audio["key"], opening.audio["mode"]) == (0.0, 1.0)  # C major
    assert abs(records["clicks.flac"].audio["tempo"] - 100) / 100 < 0.05
    assert "key" not in records["clicks.flac"].audio  # no pitch, no key claimed
    assert records["clicks.flac"].audio["acousticness"] < opening.audio["acousticness"]

    tagged = records["tagged.flac"]
    assert (tagged.title, tagged.artists, tagged.album, tagged.year) == (
        "Tagged Song",
        ["Lead", "Guest"],
        "Tags",
        1999,
    )
    assert tagged.genres == ["hip-hop", "jazz"]


def test_parallel_import_matches_serial(
    library: Path, tmp_path: Path, serial: tuple[dict[str, TrackRecord], ImportReport, list[tuple[int, int]]]
) -> None:
    for name in ("clicks.flac", "melody.ogg", "garbage.mp3"):
        (tmp_path / name).write_bytes((library / name).read_bytes())
    report = ImportReport()
    records = {r.external_id: r for r in read_audio_folder(tmp_path, report, workers=2)}
    assert set(records) == {"clicks.flac", "melody.ogg"}
    assert report.skipped_total == 1 and "garbage.mp3" in report.examples[0][1]
    assert records["melody.ogg"].audio == serial[0]["melody.ogg"].audio


def test_id3_tags_in_mp3_and_wav(tmp_path: Path) -> None:
    from mutagen.id3 import TCON, TDRC, TIT2, TPE1
    from mutagen.mp3 import EasyMP3
    from mutagen.wave import WAVE

    from recsys.importers.audio_tags import read_tags

    silence = np.zeros(SR, dtype=np.float32)
    sf.write(tmp_path / "a.mp3", silence, SR, format="MP3")
    mp3 = EasyMP3(tmp_path / "a.mp3")
    mp3.add_tags()
    mp3.update({"title": "MP3 Title", "artist": ["One", "Two feat. Three"], "genre": "Rock", "date": "2001"})
    mp3.save()
    sf.write(tmp_path / "b.wav", silence, SR)
    wav = WAVE(tmp_path / "b.wav")
    wav.add_tags()
    assert wav.tags is not None
    for frame in (TIT2(text="Wav Title"), TPE1(text="Wav Artist"), TCON(text="(17)"), TDRC(text="1988-05")):
        wav.tags.add(frame)
    wav.save()

    mp3_tags = read_tags(tmp_path / "a.mp3", tmp_path)
    assert (mp3_tags.title, mp3_tags.artists, mp3_tags.genres, mp3_tags.year) == (
        "MP3 Title",
        ["One", "Two", "Three"],
        ["rock"],
        2001,
    )
    wav_tags = read_tags(tmp_path / "b.wav", tmp_path)
    # ID3v1 genre number 17 is "Rock".
    assert (wav_tags.title, wav_tags.artists, wav_tags.genres, wav_tags.year) == (
        "Wav Title",
        ["Wav Artist"],
        ["rock"],
        1988,
    )
    assert wav_tags.duration_ms == 1000

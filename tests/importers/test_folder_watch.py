"""Watching an audio folder: only what was added or changed is analysed again, and a changed
file updates its track (same external id) instead of adding one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from recsys.importers.audio_folder import read_audio_folder
from recsys.importers.folder_watch import changes, look
from recsys.importers.report import ImportReport


def tone(path: Path, hz: float, seconds: float = 2.5, rate: int = 22050) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, 0.3 * np.sin(2 * np.pi * hz * t), rate)
    return path


def test_a_look_sees_added_changed_and_removed_files(tmp_path: Path) -> None:
    a, b = tone(tmp_path / "a.wav", 220), tone(tmp_path / "b.wav", 330)
    before = look(tmp_path)
    assert not changes(before, look(tmp_path)), "nothing moved: nothing to do"

    (tmp_path / "sub").mkdir()
    c = tone(tmp_path / "sub" / "c.wav", 440)
    tone(a, 262, seconds=3.5)  # rewritten: another size
    os.utime(a, ns=(before[a][0] + 5_000_000_000, before[a][0] + 5_000_000_000))
    b.unlink()
    found = changes(before, look(tmp_path))
    assert found.added == [c] and found.changed == [a] and found.removed == [b]
    assert found.to_import == [c, a]


def test_a_rescan_of_what_changed_analyses_only_those_and_keeps_their_ids(tmp_path: Path) -> None:
    tone(tmp_path / "one.wav", 220)
    tone(tmp_path / "two.wav", 330)
    first = {r.external_id: r for r in read_audio_folder(tmp_path, ImportReport(), workers=1)}
    before = look(tmp_path)
    tone(tmp_path / "two.wav", 660, seconds=4.0)
    tone(tmp_path / "three.wav", 440)
    found = changes(before, look(tmp_path))

    report = ImportReport()
    again = {r.external_id: r for r in read_audio_folder(tmp_path, report, workers=1, only=found.to_import)}
    assert set(again) == {"two.wav", "three.wav"} and report.rows_seen == 2
    assert again["two.wav"].duration_ms is not None and first["two.wav"].duration_ms is not None
    assert again["two.wav"].duration_ms > first["two.wav"].duration_ms  # the new sound, same track key

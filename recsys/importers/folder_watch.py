"""Watching an audio folder: what changed between two looks at it.

A look is each audio file's modification time and size (``stat``, no reading); a file is
analysed again only when one of them moved, so a watch costs next to nothing while nothing
changes. Tracks are keyed by their path inside the folder (recsys.importers.audio_folder), so
importing a changed file updates its track instead of adding another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recsys.importers.audio_folder import find_audio_files

Look = dict[Path, tuple[int, int]]  # file -> (mtime in ns, size in bytes)


def look(folder: Path) -> Look:
    seen: Look = {}
    for path in find_audio_files(folder):
        try:
            stat = path.stat()
        except OSError:  # removed between the listing and the stat
            continue
        seen[path] = (stat.st_mtime_ns, stat.st_size)
    return seen


@dataclass(frozen=True, slots=True)
class Changes:
    added: list[Path]
    changed: list[Path]
    removed: list[Path]

    @property
    def to_import(self) -> list[Path]:
        return self.added + self.changed

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def changes(before: Look, after: Look) -> Changes:
    return Changes(
        added=sorted(p for p in after if p not in before),
        changed=sorted(p for p in after if p in before and after[p] != before[p]),
        removed=sorted(p for p in before if p not in after),
    )

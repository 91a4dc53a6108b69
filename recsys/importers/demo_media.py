"""The shipped MIDI of the demo catalog: `demo_midi.zip` next to this module.

One ZIP (deflate, level 9) holding a Standard MIDI File per piece plus `manifest.json`:
{"version", "music21", "max_duration_ms",
 "pieces": {ref: {"member", "duration_ms", "bytes"}}, "left_out": {ref: reason}}.

Invariants:
- every manifest piece has its member, of exactly "bytes" bytes, lasting "duration_ms" (its
  tempo map applied) and no longer than MAX_DURATION_MS; nothing else is in the archive;
- member names are `member_name(ref)`: ASCII letters, digits, ".", "-", "_" only, no folders;
- written with sorted members, a fixed timestamp and sorted JSON, so a rebuild that changes
  nothing leaves the committed file byte-identical.

Reading needs neither music21 nor mido (the play request never converts anything); writing
is `demo_render`'s job at rebuild time.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ARCHIVE_PATH = Path(__file__).with_name("demo_midi.zip")
MANIFEST_MEMBER = "manifest.json"
# Bump when the layout changes: an archive of another version reads as empty.
ARCHIVE_VERSION = 1
# A listening session moves on long before this: a longer piece (a whole quartet in one file)
# is left out of the demo catalog rather than played for half an hour.
MAX_DURATION_MS = 20 * 60 * 1000
# 1980-01-01, the earliest ZIP date: member timestamps must not change between rebuilds.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class MediaEntry:
    member: str
    duration_ms: int
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    pieces: dict[str, MediaEntry] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # ref → why it is not in the archive
    music21: str = ""


def member_name(ref: str) -> str:
    """The archive member of a ref: "essenFolksong/han1.abc#12" → "essenFolksong_han1.abc-12.mid"."""
    path, _, number = ref.partition("#")
    stem = _UNSAFE.sub("_", path.replace("/", "_")).strip("._") or "piece"
    return f"{stem}-{number}.mid" if number else f"{stem}.mid"


def _parse_manifest(raw: bytes) -> Manifest:
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != ARCHIVE_VERSION:
        return Manifest()
    pieces = {
        ref: MediaEntry(str(item["member"]), int(item["duration_ms"]), int(item["bytes"]))
        for ref, item in data.get("pieces", {}).items()
    }
    left_out = {str(ref): str(reason) for ref, reason in data.get("left_out", {}).items()}
    return Manifest(pieces, left_out, str(data.get("music21", "")))


def load_manifest(path: Path = ARCHIVE_PATH) -> Manifest:
    """The archive's manifest; empty when the file is missing, unreadable or of another version."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _parse_manifest(archive.read(MANIFEST_MEMBER))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return Manifest()


class MidiArchive:
    """The archive opened once: manifest in memory, members decompressed on demand.

    `read` is blocking (a few ms for a quartet movement): call it from a worker thread.
    zipfile shares one file handle between readers; the lock keeps them from interleaving.
    """

    def __init__(self, path: Path = ARCHIVE_PATH) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
            self.manifest = _parse_manifest(self._zip.read(MANIFEST_MEMBER))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            self._zip, self.manifest = None, Manifest()

    def read(self, ref: str) -> bytes | None:
        """The MIDI bytes of a ref, or None when the archive does not hold it."""
        entry = self.manifest.pieces.get(ref)
        if entry is None or self._zip is None:
            return None
        with self._lock:
            return self._zip.read(entry.member)


@cache
def shipped_archive() -> MidiArchive:
    """The package's archive, opened on first use and kept for the process's life."""
    return MidiArchive(ARCHIVE_PATH)


def write_archive(
    path: Path,
    midi: dict[str, bytes],
    durations: dict[str, int],
    left_out: dict[str, str],
    music21_version: str,
) -> Manifest:
    """Write the archive atomically (a reader never sees half a file) and return its manifest."""
    members: dict[str, str] = {}
    for ref in sorted(midi):
        name = member_name(ref)
        if name in members:
            raise ValueError(f"refs {members[name]!r} and {ref!r} map to one member {name!r}")
        if durations[ref] > MAX_DURATION_MS:
            raise ValueError(f"{ref} lasts {durations[ref]} ms, over the {MAX_DURATION_MS} ms limit")
        members[name] = ref
    pieces = {ref: MediaEntry(member_name(ref), durations[ref], len(midi[ref])) for ref in sorted(midi)}
    manifest = {
        "version": ARCHIVE_VERSION,
        "music21": music21_version,
        "max_duration_ms": MAX_DURATION_MS,
        "pieces": {ref: {"member": e.member, "duration_ms": e.duration_ms, "bytes": e.size}
                   for ref, e in pieces.items()},
        "left_out": dict(sorted(left_out.items())),
    }
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False)
        archive.writestr(_info(MANIFEST_MEMBER), text, compresslevel=9)
        for name in sorted(members):
            archive.writestr(_info(name), midi[members[name]], compresslevel=9)
    tmp.replace(path)
    return Manifest(pieces, dict(left_out), music21_version)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info

"""Where listens are read from: a file, or the members of a zip (Spotify ships one).

A `Source` opens a fresh binary stream each time, so the reader can check a file in one
pass and parse it in a second without holding it in memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from recsys.importers.listens.records import ListensFileError

ZIP_MAGIC = b"PK\x03\x04"
# Members of an export that are never listens (Spotify's zip holds a PDF and other JSON).
_LISTEN_SUFFIXES = (".json", ".jsonl", ".csv", ".txt")


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    opener: Callable[[], BinaryIO]
    size: int

    @contextmanager
    def text(self) -> Iterator[io.TextIOWrapper]:
        """UTF-8, with or without a BOM; newline="" so quoted CSV line breaks survive."""
        raw = self.opener()
        try:
            yield io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        except UnicodeDecodeError as exc:
            raise ListensFileError(f"{self.name}: not UTF-8 text ({exc.reason})") from None
        finally:
            raw.close()

    def head(self, size: int = 65_536) -> str:
        with self.opener() as raw:
            data = raw.read(size)
        return data.decode("utf-8-sig", errors="ignore")


def file_source(path: Path) -> Source:
    return Source(path.name, lambda: path.open("rb"), path.stat().st_size)


def is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def zip_sources(path: Path) -> list[Source]:
    """The members that may hold listens, in name order (Spotify numbers its files)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (info for info in archive.infolist()
                 if not info.is_dir() and info.filename.lower().endswith(_LISTEN_SUFFIXES)
                 and not Path(info.filename).name.startswith(".")),
                key=lambda info: info.filename,
            )
    except zipfile.BadZipFile as exc:
        raise ListensFileError(f"{path.name}: a broken zip ({exc})") from None
    return [Source(info.filename, _member_opener(path, info.filename), info.file_size) for info in members]


def _member_opener(path: Path, member: str) -> Callable[[], BinaryIO]:
    def open_member() -> BinaryIO:
        archive = zipfile.ZipFile(path)
        try:
            stream = archive.open(member)
        except Exception:
            archive.close()
            raise
        return _ClosingMember(stream, archive)

    return open_member


class _ClosingMember(io.BufferedReader):
    """A zip member that closes its archive with it."""

    def __init__(self, stream: IO[bytes], archive: zipfile.ZipFile) -> None:
        super().__init__(stream)  # type: ignore[arg-type]
        self._archive = archive

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._archive.close()

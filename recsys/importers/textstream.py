"""Opening a text table whose encoding nobody wrote down, without reading it into memory.

Public CSVs come as UTF-8, UTF-8 with a BOM (Excel), UTF-16 (Excel "Unicode text"), or as
Windows-1252 / Latin-1 when someone re-saved them. The encoding is settled *before* the first
row is parsed, by one streaming pass over the bytes: a decode error on row 90,000 must not
happen after 89,999 records have already been handed out.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Encoding:
    name: str
    warning: str | None = None


def sniff_encoding(path: Path) -> Encoding:
    """The first of utf-8(-sig) / utf-16 / cp1252 / latin-1 that decodes the whole file."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16")
    else:
        candidates = ["utf-8"]
    candidates += ["cp1252"]
    for name in candidates:
        if _decodes(path, name):
            if name.startswith("utf-8"):
                return Encoding(name)
            return Encoding(name, f"{path.name}: not valid UTF-8, decoded as {name} (Windows-1252)")
    # Latin-1 maps every byte, so it cannot fail; it is the last resort, said so in the report.
    return Encoding("latin-1", f"{path.name}: not valid UTF-8, decoded as latin-1")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


class ByteCounter:
    """How far into the file the text layer has read (for a progress bar), in bytes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    @property
    def done(self) -> int:
        # The buffered reader's position is what the text wrapper has pulled in so far; it runs
        # at most one chunk ahead of the parser, which is precise enough for a bar.
        return self._raw.tell()


@contextmanager
def open_text(path: Path, encoding: Encoding) -> Iterator[tuple[io.TextIOWrapper, ByteCounter]]:
    """A text stream for the csv module (newline="" so quoted line breaks survive)."""
    raw = path.open("rb")
    try:
        text = io.TextIOWrapper(raw, encoding=encoding.name, newline="")
        yield text, ByteCounter(raw)
    finally:
        raw.close()

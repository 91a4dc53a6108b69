"""Streaming JSON: the values of a JSON array, or of JSON lines, one at a time.

Memory is one chunk plus the value being read, whatever the file's size. In an array a broken
value ends the file (there is no reliable place to start again), so it raises
`ListensFileError`; in JSON lines a broken line is one bad row, handed to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from recsys.importers.listens.records import Listen, ListensFileError
from recsys.importers.listens.sources import Source
from recsys.importers.report import ImportReport, RowError

_CHUNK = 1 << 16
# One listen is a few hundred bytes; a "value" larger than this is not a listen.
MAX_VALUE_CHARS = 1 << 20
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


class BadLine:
    """A JSON line that does not parse: one skipped row."""

    def __init__(self, message: str) -> None:
        self.message = message


def iter_json_values(text: TextIO, name: str) -> Iterator[tuple[int, object]]:
    """(row number, value) for each element of a top-level array or each non-blank line.

    A `BadLine` stands in for a JSON line that does not parse. A single top-level object is
    one value.
    """
    first = ""
    while not first:
        chunk = text.read(_CHUNK)
        if not chunk:
            return
        first = chunk.lstrip(_SPACE)
    if first[0] == "[":
        yield from _array(text, first[1:], name)
    else:
        yield from _lines(text, first, name)


def _array(text: TextIO, buffer: str, name: str) -> Iterator[tuple[int, object]]:
    pos, row, eof, expect_value = 0, 0, False, True
    while True:
        while pos < len(buffer) and buffer[pos] in _SPACE:
            pos += 1
        if pos >= len(buffer) - 1 and not eof:
            # Keep at least the next character in view before deciding what comes.
            more = text.read(_CHUNK)
            eof = not more
            buffer, pos = buffer[pos:] + more, 0
            continue
        if pos >= len(buffer):
            raise ListensFileError(f"{name}: the JSON array ends early (file cut short?) after row {row}")
        char = buffer[pos]
        if char == "]" and (not expect_value or row == 0):
            _expect_end(text, buffer[pos + 1:], name)
            return
        if not expect_value:
            if char != ",":
                raise ListensFileError(f"{name}: broken JSON after row {row} (expected ',' or ']')")
            pos, expect_value = pos + 1, True
            continue
        try:
            value, end = _DECODER.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if eof or len(buffer) - pos > MAX_VALUE_CHARS:
                raise ListensFileError(f"{name}: broken JSON in row {row + 1} ({exc.msg})") from None
            more = text.read(_CHUNK)
            eof = not more
            buffer, pos = buffer[pos:] + more, 0
            continue
        if end >= len(buffer) and not eof:
            # A number or literal may continue in the next chunk: read on and decode again.
            more = text.read(_CHUNK)
            if more:
                buffer, pos = buffer[pos:] + more, 0
                continue
            eof = True
        row += 1
        yield row, value
        pos, expect_value = end, False


def _expect_end(text: TextIO, rest: str, name: str) -> None:
    while True:
        if rest.strip(_SPACE):
            raise ListensFileError(f"{name}: unexpected text after the JSON array")
        rest = text.read(_CHUNK)
        if not rest:
            return


def _lines(text: TextIO, start: str, name: str) -> Iterator[tuple[int, object]]:
    row = 0
    pending = start
    while True:
        newline = pending.find("\n")
        while newline < 0:
            more = text.read(_CHUNK)
            if not more:
                break
            if len(pending) > MAX_VALUE_CHARS:
                raise ListensFileError(f"{name}: a line longer than {MAX_VALUE_CHARS:,} characters")
            pending += more
            newline = pending.find("\n")
        if newline < 0:
            line, pending = pending, ""
        else:
            line, pending = pending[:newline], pending[newline + 1:]
        if line.strip():
            row += 1
            try:
                yield row, json.loads(line)
            except json.JSONDecodeError as exc:
                yield row, BadLine(f"line {row} is not JSON ({exc.msg})")
        if newline < 0:
            return


def json_object(value: object) -> dict[str, Any]:
    """A row of a JSON history as an object, or the RowError that skips it."""
    if isinstance(value, BadLine):
        raise RowError(value.message, "not JSON")
    if not isinstance(value, dict):
        raise RowError("a row that is not a JSON object", "not an object")
    return value


def read_rows(
    source: Source, report: ImportReport, parse: Callable[[object], Listen]
) -> Iterator[Listen]:
    """The listens of a JSON history, each row parsed by ``parse``; bad rows are counted in the
    report with their reason and skipped."""
    with source.text() as stream:
        for row, value in iter_json_values(stream, source.name):
            report.rows_seen += 1
            try:
                listen = parse(value)
            except RowError as error:
                report.skip(row, error)
                continue
            report.imported += 1
            yield listen

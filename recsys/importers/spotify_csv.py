"""Importer for the public Spotify audio-feature CSV tables.

Supported (recognised from the header, see `spotify_schemas`): the Spotify Hit Predictor
decade files, the 114k-row Spotify Tracks Dataset and TidyTuesday's spotify_songs.

Streaming with de-duplication: a track listed several times (one row per genre, playlist or
decade) must become one record, but holding 100k records until the end would cost far more
memory than the file. So the reader makes two passes: the first only counts how often each
track id occurs, the second parses rows and hands a record out as soon as its *last* listing
has been read. Memory is one counter per distinct id plus the few tracks whose listings are
still open. Records therefore come out in order of their last listing, not their first.

`read_spotify_csv` checks encoding and header eagerly (so a wrong file fails before any
progress bar starts) and returns a lazy iterator; the report's totals are complete once the
iterator is exhausted.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from recsys.catalog import TrackRecord
from recsys.importers.fields import parse_spotify_id
from recsys.importers.merge import merge_into
from recsys.importers.report import ImportReport, RowError
from recsys.importers.spotify_rows import CONVERTERS, ID_COLUMN, RowContext, decade_from_file_name
from recsys.importers.spotify_schemas import SchemaName, column_index, detect_schema
from recsys.importers.textstream import Encoding, open_text, sniff_encoding

# on_progress(rows_parsed, bytes_done, bytes_total). Each byte is read twice (id pass, then
# parse pass), so bytes_total is twice the files' size: the bar then moves evenly.
ProgressCallback = Callable[[int, int, int], None]
_PROGRESS_EVERY = 2000
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True, slots=True)
class CsvFile:
    """A checked input file: how to decode and split it, and which table it is."""

    path: Path
    encoding: Encoding
    delimiter: str
    schema: SchemaName
    header: list[str]


def csv_paths(path: str | Path) -> list[Path]:
    """A CSV file itself, or the CSV files directly inside a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    return [path]


def inspect_csv(path: str | Path) -> CsvFile:
    """Encoding, delimiter and schema of one file; raises SchemaError for an unknown header."""
    path = Path(path)
    encoding = sniff_encoding(path)
    with open_text(path, encoding) as (text, _):
        first_line = text.readline()
    delimiter = max(_DELIMITERS, key=first_line.count)
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    return CsvFile(path, encoding, delimiter, detect_schema(header), header)


def read_spotify_csv(
    path: str | Path, report: ImportReport, on_progress: ProgressCallback | None = None
) -> Iterator[TrackRecord]:
    """Records from one CSV, or from every CSV in a folder (merged across files)."""
    return read_spotify_csvs(csv_paths(path), report, on_progress)


def read_spotify_csvs(
    paths: Iterable[str | Path], report: ImportReport, on_progress: ProgressCallback | None = None
) -> Iterator[TrackRecord]:
    """Records from several CSVs at once, so a track listed in two files is one record."""
    files = [inspect_csv(path) for path in paths]
    if not report.source:
        report.source = ", ".join(f.path.name for f in files)
    for file in files:
        if file.encoding.warning:
            report.warn(file.encoding.warning)
    return _stream(files, report, on_progress)


def _stream(
    files: list[CsvFile], report: ImportReport, on_progress: ProgressCallback | None
) -> Iterator[TrackRecord]:
    progress = _Progress(on_progress, 2 * sum(f.path.stat().st_size for f in files))
    remaining = _count_ids(files, progress)
    open_records: dict[str, TrackRecord] = {}
    for file in files:
        for track_id, record in _parse_file(file, report, progress, named=len(files) > 1):
            if record is not None:
                kept = open_records.get(track_id)
                if kept is None:
                    open_records[track_id] = record
                else:
                    merge_into(kept, record)
                    report.merged += 1
            remaining[track_id] -= 1
            if remaining[track_id] == 0:
                del remaining[track_id]
                done = open_records.pop(track_id, None)
                if done is not None:
                    report.imported += 1
                    yield done
    # Listings stay open only if a file changed between the two passes; never lose them.
    for record in open_records.values():
        report.imported += 1
        yield record
    progress.finish()


def _rows(file: CsvFile, progress: _Progress) -> Iterator[tuple[int, list[str] | csv.Error]]:
    """(line number, row) for each data row; a csv.Error is yielded in place of its row."""
    with open_text(file.path, file.encoding) as (text, counter):
        reader = csv.reader(text, delimiter=file.delimiter)
        start = progress.bytes_done
        next(reader, None)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield reader.line_num, error
                continue
            if row:
                yield reader.line_num, row
                progress.at_bytes(start + counter.done)
        progress.at_bytes(start + file.path.stat().st_size)


def _count_ids(files: list[CsvFile], progress: _Progress) -> Counter[str]:
    counts: Counter[str] = Counter()
    for file in files:
        id_position = column_index(file.header)[ID_COLUMN[file.schema]]
        for _, row in _rows(file, progress):
            if isinstance(row, list) and id_position < len(row):
                try:
                    counts[parse_spotify_id(row[id_position])] += 1
                except RowError:
                    continue
    return counts


def _parse_file(
    file: CsvFile, report: ImportReport, progress: _Progress, named: bool
) -> Iterator[tuple[str, TrackRecord | None]]:
    """(track id, record or None when the row was skipped) for each row with a readable id.

    Skip examples carry the line number in the file, and the file name when there are several.
    """

    def skip(line: int, error: RowError) -> None:
        report.skip(line, RowError(f"{file.path.name}: {error.reason}", error.kind) if named else error)

    columns = column_index(file.header)
    decade = decade_from_file_name(file.path) if file.schema == "hit_predictor" else None
    context = RowContext(columns, report, decade)
    convert = CONVERTERS[file.schema]
    id_position = columns[ID_COLUMN[file.schema]]
    width = len(file.header)
    for line, row in _rows(file, progress):
        report.rows_seen += 1
        progress.row()
        if isinstance(row, csv.Error):
            skip(line, RowError(f"unparseable CSV line: {row}", "unparseable CSV line"))
            continue
        try:
            track_id = parse_spotify_id(row[id_position] if id_position < len(row) else "")
        except RowError as error:
            skip(line, error)
            continue
        try:
            _check_width(row, width)
            yield track_id, convert(row, context)
        except RowError as error:
            skip(line, error)
            yield track_id, None


def _check_width(row: list[str], width: int) -> None:
    # A shifted row (an unquoted comma in a title) would put text into number columns or,
    # worse, numbers into the wrong feature; better to drop it than to guess.
    if len(row) < width or any(cell.strip() for cell in row[width:]):
        raise RowError(f"row has {len(row)} fields, the header has {width}", "wrong number of fields")


class _Progress:
    """Rate-limited calls of the caller's progress callback."""

    def __init__(self, callback: ProgressCallback | None, bytes_total: int) -> None:
        self._callback = callback
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.rows = 0
        self._calls = 0

    def at_bytes(self, done: int) -> None:
        self.bytes_done = done
        self._calls += 1
        if self._callback and self._calls % _PROGRESS_EVERY == 0:
            self._callback(self.rows, min(self.bytes_done, self.bytes_total), self.bytes_total)

    def row(self) -> None:
        self.rows += 1

    def finish(self) -> None:
        if self._callback:
            self._callback(self.rows, self.bytes_total, self.bytes_total)

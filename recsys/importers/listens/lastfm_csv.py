"""Last.fm scrobble exports as CSV.

Two shapes: headerless ``artist,album,track,date`` rows with dates like ``31 Jan 2021 14:05``
(lastfm-to-csv by benjaminbenben and its copies), or a header naming the columns (``artist``,
``album``, ``track``/``title``/``name``, ``uts``/``timestamp``/``date``/``utc_time``; the
ghan.nl exporter writes ``uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid``).
The first row decides: it is a header when it names an artist and a track column. Times are
UTC; a unix time column wins over a written date. Scrobbles carry no play length: complete.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from recsys.importers.listens.records import (
    Format,
    Listen,
    ListensFileError,
    checked_time,
    from_unix,
    optional_text,
    text,
)
from recsys.importers.listens.sources import Source
from recsys.importers.report import ImportReport, RowError

SOURCE: Format = "lastfm"

_ARTIST = ("artist", "artist_name", "artist name", "artistname")
_ALBUM = ("album", "album_name", "album name", "albumname", "release")
_TRACK = ("track", "title", "name", "track_name", "track name", "trackname", "song")
# Most precise first: a unix time says exactly what a written date rounds to the minute.
_TIME = ("uts", "date_uts", "timestamp", "utc_time", "date", "datetime", "time", "played_at", "scrobble_time")
_HEADERLESS = {"artist": 0, "album": 1, "track": 2, "time": 3}
_DATE_FORMATS = ("%d %b %Y %H:%M", "%d %b %Y, %H:%M", "%d %b %Y %H:%M:%S", "%d %b %Y, %H:%M:%S",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
_DIGITS = re.compile(r"^\d{9,13}$")


@dataclass(frozen=True, slots=True)
class Columns:
    positions: dict[str, int]
    has_header: bool


def sniff_columns(first_row: list[str]) -> Columns:
    cells = [cell.strip().lower() for cell in first_row]

    def find(names: tuple[str, ...]) -> int | None:
        for name in names:
            if name in cells:
                return cells.index(name)
        return None

    artist, track = find(_ARTIST), find(_TRACK)
    if artist is None or track is None:
        return Columns(dict(_HEADERLESS), has_header=False)
    positions = {"artist": artist, "track": track}
    for key, names in (("album", _ALBUM), ("time", _TIME)):
        found = find(names)
        if found is not None:
            positions[key] = found
    return Columns(positions, has_header=True)


def looks_like_scrobbles(head: str) -> bool:
    """A comma-separated table whose first row is a known header or has four or more cells."""
    first_line = head.split("\n", 1)[0]
    try:
        first = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        return False
    return sniff_columns(first).has_header or len(first) >= 4


def read(source: Source, report: ImportReport) -> Iterator[Listen]:
    with source.text() as stream:
        reader = csv.reader(stream)
        columns: Columns | None = None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.rows_seen += 1
                report.skip(reader.line_num, RowError(f"unparseable CSV line: {exc}", "unparseable CSV line"))
                continue
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = sniff_columns(row)
                if columns.has_header:
                    if "time" not in columns.positions:
                        raise ListensFileError(f"{source.name}: the header names no time column")
                    continue
            report.rows_seen += 1
            try:
                listen = parse(row, columns)
            except RowError as error:
                report.skip(reader.line_num, error)
                continue
            report.imported += 1
            yield listen


def parse(row: list[str], columns: Columns) -> Listen:
    positions = columns.positions
    if len(row) <= max(positions.values()):
        raise RowError(f"row has {len(row)} fields, expected {max(positions.values()) + 1}",
                       "wrong number of fields")
    album = positions.get("album")
    return Listen(
        artist=text(row[positions["artist"]], "artist"),
        title=text(row[positions["track"]], "track"),
        listened_at=parse_time(row[positions["time"]]),
        outcome="complete",
        source=SOURCE,
        album=optional_text(row[album]) if album is not None else None,
    )


def parse_time(value: str) -> datetime:
    raw = value.strip()
    if not raw:
        raise RowError("no date (a now-playing row)", "no date")
    if _DIGITS.match(raw):
        number = int(raw)
        return from_unix(number / 1000 if number > 10**11 else number)
    for layout in _DATE_FORMATS:
        try:
            at = datetime.strptime(raw, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
        return checked_time(at, raw)
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"bad date {raw!r}", "bad date") from None
    return checked_time(at, raw)

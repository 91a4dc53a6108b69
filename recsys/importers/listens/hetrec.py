"""The HetRec 2011 Last.fm listeners: ``user_artists.dat`` (tab-separated ``userID artistID
weight`` with a header; weight = play count) named through ``artists.dat`` (id, name, url,
pictureURL) in the same folder.

Public data, not accounts: each listener is ``hetrec:<userID>``; rows are artist-level and
aggregated (no time), weighted by play count; the dedupe key is the artist id, so a listener
has one row per artist.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from recsys.importers.listens.records import Format, Listen, ListensFileError
from recsys.importers.report import ImportReport, RowError
from recsys.importers.textstream import open_text, sniff_encoding

SOURCE: Format = "hetrec"
LISTENER_PREFIX = "hetrec:"
LISTENS_FILE = "user_artists.dat"
ARTISTS_FILE = "artists.dat"


def is_hetrec_folder(path: Path) -> bool:
    return path.is_dir() and (path / LISTENS_FILE).is_file() and (path / ARTISTS_FILE).is_file()


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each data row; the header line is checked and dropped."""
    with open_text(path, sniff_encoding(path)) as (text, _):
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or not header or header[0].strip().lower() not in {"id", "userid"}:
            raise ListensFileError(f"{path.name}: not a HetRec file (header {header!r})")
        for row in reader:
            if row:
                yield reader.line_num, row


def artist_names(folder: Path) -> dict[str, str]:
    return {row[0].strip(): row[1].strip() for _, row in _rows(folder / ARTISTS_FILE)
            if len(row) >= 2 and row[1].strip()}


def read(folder: Path, report: ImportReport) -> Iterator[Listen]:
    if not is_hetrec_folder(folder):
        raise ListensFileError(f"{folder} is not a HetRec folder ({LISTENS_FILE} and {ARTISTS_FILE})")
    names = artist_names(folder)
    for line, row in _rows(folder / LISTENS_FILE):
        report.rows_seen += 1
        try:
            listen = parse(row, names)
        except RowError as error:
            report.skip(line, error)
            continue
        report.imported += 1
        yield listen


def parse(row: list[str], names: dict[str, str]) -> Listen:
    if len(row) < 3:
        raise RowError(f"row has {len(row)} fields, expected 3", "wrong number of fields")
    user, artist_id, weight = (cell.strip() for cell in row[:3])
    if not user.isdigit():
        raise RowError(f"bad userID {user!r}", "bad userID")
    name = names.get(artist_id)
    if name is None:
        raise RowError(f"artist {artist_id!r} is not in {ARTISTS_FILE}", "unknown artist id")
    if not weight.isdigit() or int(weight) <= 0:
        raise RowError(f"bad weight {weight!r}", "bad weight")
    return Listen(
        artist=name,
        title=None,
        listened_at=None,
        outcome="complete",
        source=SOURCE,
        weight=float(int(weight)),
        listener=f"{LISTENER_PREFIX}{int(user)}",
        key=f"artist:{artist_id}",
    )

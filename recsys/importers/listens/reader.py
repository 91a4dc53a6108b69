"""The one entry point: listens from a path (a file, a zip of files, or a HetRec folder).

`open_listens` checks the input before handing out anything: the format of each file is
settled, then every file is read once through to the end, so a file that is broken as a whole
(cut short, not UTF-8, unknown) raises `ListensFileError` before the caller stores a row.
The returned `ListenFiles` then streams the listens in a second pass; memory stays one chunk
of text (plus HetRec's artist names) whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recsys.importers.listens import hetrec, lastfm_csv, listenbrainz, spotify_account, spotify_extended
from recsys.importers.listens.detect import detect_source
from recsys.importers.listens.records import FORMATS, Format, Listen, ListensFileError
from recsys.importers.listens.sources import Source, file_source, is_zip, zip_sources
from recsys.importers.report import ImportReport

_READERS: dict[str, Callable[[Source, ImportReport], Iterator[Listen]]] = {
    "listenbrainz": listenbrainz.read,
    "lastfm": lastfm_csv.read,
    "spotify_extended": spotify_extended.read,
    "spotify_account": spotify_account.read,
}


@dataclass(slots=True)
class ListenFiles:
    """Checked input: what each file is, and how many rows the check saw."""

    path: Path
    files: list[tuple[Source, Format]]
    hetrec_folder: Path | None = None
    rows: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def formats(self) -> list[str]:
        return sorted({"hetrec"} if self.hetrec_folder else {fmt for _, fmt in self.files})

    def listens(self, report: ImportReport) -> Iterator[Listen]:
        """The second pass: every valid listen; bad rows land in ``report``."""
        if self.hetrec_folder is not None:
            yield from hetrec.read(self.hetrec_folder, report)
            return
        for source, fmt in self.files:
            yield from _READERS[fmt](source, report)


def open_listens(path: str | Path, fmt: str | None = None) -> ListenFiles:
    """Detect (or take ``fmt``) and check the whole input; raises ListensFileError."""
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise ListensFileError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if not path.exists():
        raise ListensFileError(f"{path} does not exist")
    if path.is_file() and path.name == hetrec.LISTENS_FILE:
        path = path.parent  # the listens file of a HetRec folder: the folder is meant
    if path.is_dir():
        if fmt not in (None, "hetrec") or not hetrec.is_hetrec_folder(path):
            raise ListensFileError(
                f"{path} is a folder; only a HetRec folder ({hetrec.LISTENS_FILE} + "
                f"{hetrec.ARTISTS_FILE}) is read as one"
            )
        files = ListenFiles(path, [], hetrec_folder=path)
    elif fmt == "hetrec":
        raise ListensFileError("HetRec data is a folder (user_artists.dat + artists.dat), not one file")
    else:
        sources = zip_sources(path) if is_zip(path) else [file_source(path)]
        files = ListenFiles(path, _classify(sources, fmt, zipped=len(sources) != 1 or is_zip(path)))
    files.rows = _check(files)
    return files


def _classify(sources: list[Source], fmt: str | None, zipped: bool) -> list[tuple[Source, Format]]:
    found: list[tuple[Source, Format]] = []
    for source in sources:
        try:
            found.append((source, fmt if fmt is not None else detect_source(source)))  # type: ignore[arg-type]
        except ListensFileError:
            if not zipped:
                raise
            # A zip holds other files too (Spotify's: Userdata.json, a PDF); those are not listens.
    if not found:
        raise ListensFileError("the zip holds no listening history this server knows")
    return found


def _check(files: ListenFiles) -> int:
    report = ImportReport(max_examples=0)
    for _ in files.listens(report):
        pass
    return report.rows_seen

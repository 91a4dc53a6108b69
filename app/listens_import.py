"""Importing a listening history: parse (worker thread), match against the catalog, store.

Invariants:
- The whole input is checked before the first row is stored (`open_listens`): a file that
  cannot be read raises `ListensFileError` and stores nothing.
- Rows are matched and written in batches, each batch in one transaction; inserts only ever
  add (ON CONFLICT DO NOTHING on the dedupe key), so nothing already stored is lost, and
  importing the same file again adds nothing.
- A user's import lands in that user's history only; a public dataset's listeners (HetRec)
  are kept apart under ``listener`` keys and never become accounts.
- Matching, in order: the Spotify track id (``uri``), the normalised artist + title
  (``title``; several catalog listings of one song: the lowest id), the artist alone
  (``artist``, no track); anything else is counted unmatched and not stored.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from app.store import imported_listens, libraries
from app.store.db import Database
from app.store.imported_listens import NewListen
from recsys.importers.listens.reader import open_listens
from recsys.importers.listens.records import Listen, ListensFileError
from recsys.importers.matching import Candidate, best_match, name_key, song_ids, title_variants
from recsys.importers.names import normalise_artist
from recsys.importers.report import ImportReport
from recsys.index.base import normalise_name

__all__ = ["ListensFileError", "ListensImportError", "ListensReport", "import_listens"]

BATCH_SIZE = 1000
MAX_EXAMPLES = 10
MATCH_KINDS = ("uri", "title", "artist")
# Distinct songs remembered per import (a history repeats its favourites many times).
_CACHE_LIMIT = 200_000
DATASETS = ("hetrec",)

# on_progress(rows done, rows in the input)
ProgressCallback = Callable[[int, int], None]


class ListensImportError(ValueError):
    """The request does not fit the input (a user's import of public data, or the reverse)."""


@dataclass(slots=True)
class ListensReport:
    """What one import did; `as_json()` is the HTTP answer, `summary()` the CLI's."""

    source: str
    formats: list[str] = field(default_factory=list)
    rows: int = 0
    listens: int = 0
    matched: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    unmatched: Counter[str] = field(default_factory=Counter)
    unmatched_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "formats": self.formats,
            "rows": self.rows,
            "listens": self.listens,
            "matched": {kind: self.matched[kind] for kind in MATCH_KINDS},
            "stored": self.stored,
            "duplicates": self.duplicates,
            "skipped": {
                "total": sum(self.skipped.values()),
                "reasons": dict(self.skipped.most_common()),
                "examples": [{"row": row, "reason": reason} for row, reason in self.skipped_examples],
            },
            "unmatched": {
                "total": sum(self.unmatched.values()),
                "reasons": dict(self.unmatched.most_common()),
                "examples": self.unmatched_examples,
            },
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        lines = [
            f"Listens from {self.source} ({', '.join(self.formats)}): {self.rows:,} rows, "
            f"{self.listens:,} valid, {self.stored:,} stored, {self.duplicates:,} already there, "
            f"in {self.seconds:.1f} s",
            "Matched: " + ", ".join(f"{self.matched[k]:,} by {k}" for k in MATCH_KINDS),
        ]
        for title, counts in (("Skipped rows", self.skipped), ("Unmatched listens", self.unmatched)):
            if counts:
                lines.append(f"{title}:")
                lines += [f"  {count:>8,}  {reason}" for reason, count in counts.most_common()]
        if self.skipped_examples:
            lines.append("Skipped, for example:")
            lines += [f"  row {row}: {reason}" for row, reason in self.skipped_examples]
        if self.unmatched_examples:
            lines.append("Unmatched, for example:")
            lines += [f"  {example}" for example in self.unmatched_examples]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Owner:
    user_id: int | None = None
    dataset: str | None = None


async def import_listens(
    db: Database,
    path: str | Path,
    *,
    user_id: int | None = None,
    dataset: str | None = None,
    fmt: str | None = None,
    on_progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    source_name: str | None = None,
) -> ListensReport:
    """Import into ``user_id``'s history, or as the public ``dataset``'s listeners (one of them).

    Raises ListensFileError for an unreadable input and ListensImportError when the owner does
    not fit the data; in both cases nothing has been stored.
    """
    if (user_id is None) == (dataset is None):
        raise ListensImportError("import either into a user's history or as a dataset's listeners")
    if dataset is not None and dataset not in DATASETS:
        raise ListensImportError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    if dataset is not None and fmt is None:
        fmt = dataset
    started = time.perf_counter()
    files = await asyncio.to_thread(open_listens, path, fmt)
    if dataset is not None and files.formats != [dataset]:
        raise ListensImportError(f"{Path(path).name} is not the {dataset} dataset")
    if user_id is not None and "hetrec" in files.formats:
        raise ListensImportError(
            "HetRec listeners are public data: import them with --dataset hetrec, not as a user"
        )
    report = ListensReport(source=source_name or Path(path).name, formats=files.formats)
    matcher = _Matcher(await _artist_keys(db), _Owner(user_id, dataset), report)
    parsed = ImportReport(max_examples=MAX_EXAMPLES)
    listens = files.listens(parsed)
    while batch := await asyncio.to_thread(_take, listens, batch_size):
        pending = matcher.uncached(batch)
        candidates: list[Candidate] = []
        if pending:
            titles = [v for listen in pending for v in title_variants(listen.title or "")]
            ids = [k for listen in pending for k in song_ids((), None, listen.spotify_id)]
            candidates = await libraries.match_candidates(db, titles, ids)
        rows = await asyncio.to_thread(matcher.match_batch, batch, candidates)
        if rows:
            async with db.transaction() as conn:
                inserted = await imported_listens.insert_batch(conn, rows)
            report.stored += inserted
            report.duplicates += len(rows) - inserted
        if on_progress is not None:
            on_progress(parsed.rows_seen, files.rows)
    report.rows, report.listens = parsed.rows_seen, parsed.imported
    report.skipped, report.skipped_examples = parsed.skipped, parsed.examples
    report.seconds = time.perf_counter() - started
    return report


def _take(listens: Iterator[Listen], n: int) -> list[Listen]:
    return list(islice(listens, n))


async def _artist_keys(db: Database) -> dict[str, str]:
    names = await imported_listens.catalog_artists(db)

    def build() -> dict[str, str]:
        keys: dict[str, str] = {}
        for name in sorted(names):  # sorted: the same spelling wins on every import
            keys.setdefault(normalise_artist(name), normalise_name(name))
        return keys

    return await asyncio.to_thread(build)


_Result = tuple[int | None, str | None, str]  # (track id, match kind or None, stored artist or reason)


class _Matcher:
    """Matching of listens to catalog tracks, with a per-import cache of songs already placed."""

    def __init__(self, artist_keys: dict[str, str], owner: _Owner, report: ListensReport) -> None:
        self._artists = artist_keys
        self._owner = owner
        self._report = report
        self._cache: dict[tuple[str, str, str | None, int | None], _Result] = {}

    @staticmethod
    def _key(listen: Listen) -> tuple[str, str, str | None, int | None]:
        return (normalise_artist(listen.artist), (listen.title or "").lower(), listen.spotify_id,
                listen.track_duration_ms)

    def uncached(self, batch: Sequence[Listen]) -> list[Listen]:
        """The listens with a title whose song this import has not placed yet."""
        return [listen for listen in batch
                if listen.title is not None and self._key(listen) not in self._cache]

    def match_batch(self, batch: Sequence[Listen], candidates: Sequence[Candidate]) -> list[NewListen]:
        by_title: dict[str, list[Candidate]] = {}
        by_id: dict[str, list[Candidate]] = {}
        for candidate in candidates:
            by_title.setdefault(candidate.title.lower(), []).append(candidate)
            for song_id in candidate.ids:
                by_id.setdefault(song_id, []).append(candidate)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        rows: list[NewListen] = []
        for listen in batch:
            key = self._key(listen)
            result = self._cache.get(key)
            if result is None:
                result = self._place(listen, by_title, by_id)
                self._cache[key] = result
            track_id, kind, artist = result
            if kind is None:
                self._unmatched(listen, artist)
                continue
            self._report.matched[kind] += 1
            rows.append(NewListen(
                user_id=self._owner.user_id, listener=listen.listener if self._owner.dataset else None,
                track_id=track_id, artist=artist, outcome=listen.outcome, weight=listen.weight,
                listened_at=listen.listened_at, match=kind, source=listen.source, dedupe=listen.dedupe(),
            ))
        return rows

    def _place(self, listen: Listen, by_title: dict[str, list[Candidate]],
               by_id: dict[str, list[Candidate]]) -> _Result:
        if listen.title is not None:
            ids = song_ids((), None, listen.spotify_id)
            pool = {c.track_id: c for v in title_variants(listen.title) for c in by_title.get(v, ())}
            pool.update({c.track_id: c for k in ids for c in by_id.get(k, ())})
            track_id, rule = best_match([listen.artist], listen.title, listen.track_duration_ms, ids,
                                        pool.values())
            if rule == "ambiguous":
                # Several catalog listings of one song: for taste they are the same; take the first.
                wanted = name_key([listen.artist], listen.title)
                track_id = min(c.track_id for c in pool.values() if name_key(c.artists, c.title) == wanted)
            if track_id is not None:
                artists = pool[track_id].artists
                artist = normalise_name(artists[0] if artists else listen.artist)
                return track_id, "uri" if rule == "id" else "title", artist
        known = self._artists.get(normalise_artist(listen.artist))
        if known is not None:
            return None, "artist", known
        return None, None, "artist not in the catalog"

    def _unmatched(self, listen: Listen, reason: str) -> None:
        self._report.unmatched[reason] += 1
        if len(self._report.unmatched_examples) < MAX_EXAMPLES:
            what = f"{listen.artist} - {listen.title}" if listen.title else listen.artist
            self._report.unmatched_examples.append(f"{what}: {reason}")

"""What an import did: rows seen, imported, skipped (by reason) and file-level warnings.

Importers never raise for a bad row; they raise `RowError` internally and the reader turns it
into a skip entry here, so one malformed line costs one row, not the whole import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class RowError(ValueError):
    """One row (or file) cannot be imported.

    `reason` is the human message ("energy 1.7 outside 0..1"); `kind` is the bucket it is
    counted under ("energy out of range"), so that 10,000 different bad values do not make
    10,000 different counters.
    """

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind or reason


@dataclass(slots=True)
class ImportReport:
    """Counters for one import run; `summary()` is what the CLI prints at the end."""

    source: str = ""
    max_examples: int = 10
    rows_seen: int = 0
    imported: int = 0
    # Rows folded into an earlier record of the same track (another genre, decade, playlist).
    merged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Values that were repaired or dropped without losing the row ("bad release date").
    field_issues: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, row: int, error: RowError | str) -> None:
        reason, kind = (error, error) if isinstance(error, str) else (error.reason, error.kind)
        self.skipped[kind] += 1
        if len(self.examples) < self.max_examples:
            self.examples.append((row, reason))

    def warn(self, message: str) -> None:
        # The same warning from several files (one per decade CSV, say) is said once.
        if message not in self.warnings:
            self.warnings.append(message)

    def note_field_issue(self, kind: str) -> None:
        self.field_issues[kind] += 1

    def summary(self) -> str:
        title = f"Import of {self.source}" if self.source else "Import"
        lines = [
            f"{title}: {self.rows_seen:,} rows seen, {self.imported:,} records imported, "
            f"{self.skipped_total:,} rows skipped"
        ]
        if self.merged:
            lines.append(f"{self.merged:,} rows were further listings of an already seen track (merged)")
        if self.skipped:
            lines.append("Skipped, by reason:")
            lines += [f"  {count:>8,}  {kind}" for kind, count in self.skipped.most_common()]
        if self.examples:
            lines.append("Examples:")
            lines += [f"  row {row}: {reason}" for row, reason in self.examples]
        if self.field_issues:
            lines.append("Values dropped (row kept):")
            lines += [f"  {count:>8,}  {kind}" for kind, count in self.field_issues.most_common()]
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  {message}" for message in self.warnings]
        return "\n".join(lines)

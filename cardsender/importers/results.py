"""What an import reports: counts, refused rows and where they were written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Called with (bytes_done, bytes_total) after each batch.
Progress = Callable[[int, int], None]
# Refused rows kept in memory for messages; all of them go to the rejects file.
MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused row (or vCard): its physical line in the file and why."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The outcome of importing one file.

    ``skipped`` counts rows already present (history events imported before).
    ``rejected`` lists the first ``MAX_LISTED`` refused rows; ``unlisted_rejects``
    counts the others, which are only in the rejects file.
    """

    path: Path
    added: int
    updated: int
    skipped: int
    rejected: tuple[RowError, ...]
    rejects_path: Path | None
    ignored_columns: tuple[str, ...] = ()
    unlisted_rejects: int = 0

    @property
    def rejected_count(self) -> int:
        """Return how many rows were refused in all."""
        return len(self.rejected) + self.unlisted_rejects

    def messages(self) -> list[str]:
        """Return one ``FILE:LINE: why`` line per listed refused row."""
        lines = [f"{self.path.name}:{error.line}: {error.message}" for error in self.rejected]
        if self.unlisted_rejects:
            where = self.rejects_path.name if self.rejects_path else "the rejects file"
            lines.append(f"{self.path.name}: {self.unlisted_rejects} more rows were refused; all are in {where}")
        return lines


class Tally:
    """Counts and refused rows gathered while an import runs."""

    def __init__(self) -> None:
        self.added = 0
        self.updated = 0
        self.skipped = 0
        self.errors: list[RowError] = []
        self.unlisted = 0

    def reject(self, line: int, message: str) -> None:
        """Record a refused row."""
        if len(self.errors) < MAX_LISTED:
            self.errors.append(RowError(line, message))
        else:
            self.unlisted += 1

    def result(self, path: Path, ignored_columns: tuple[str, ...] = ()) -> ImportResult:
        """Return the result; the rejects path is filled in once the file is in place."""
        return ImportResult(
            path=path,
            added=self.added,
            updated=self.updated,
            skipped=self.skipped,
            rejected=tuple(self.errors),
            rejects_path=None,
            ignored_columns=ignored_columns,
            unlisted_rejects=self.unlisted,
        )

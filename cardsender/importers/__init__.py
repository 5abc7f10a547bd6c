"""Import customers (CSV or vCard) and contact history (CSV) into the store.

Each import runs in one transaction: a file that cannot be read at all changes
nothing.  Bad rows are refused one by one with ``FILE:LINE: why`` and copied to
a rejects file beside the input (``customers.csv`` -> ``customers.rejects.csv``,
``contacts.vcf`` -> ``contacts.rejects.vcf``); the valid rows are imported.
When nothing is refused, a rejects file left by an earlier import is removed.
Rejects are written 0600 under a temporary name naming the process; each import
first removes the temporary files that killed imports left in the input's folder.

It may import ``domain``, ``system``, ``config`` and ``store``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypedDict

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from cardsender.domain.errors import ImportFileError, StoreError
from cardsender.domain.records import DEFAULT_OFFICE
from cardsender.importers import csv_customers, history, vcard
from cardsender.importers.csvfile import CsvReader, CsvRejects, RejectsFile, rejects_path
from cardsender.importers.email_domains import memoized_domain_checks
from cardsender.importers.results import ImportResult, Progress, RowError
from cardsender.store import Store
from cardsender.system.private import remove_stale_temp_files

__all__ = ["ImportResult", "Progress", "RowError", "import_customers", "import_history"]


class _CustomerOptions(TypedDict):
    """The keywords both customer importers take beside their reader and rejects file."""

    today: dt.date
    now: dt.datetime
    date_format: str | None
    progress: Progress | None
    offices: Collection[str]
    default_office: str
    office_days: Mapping[str, dt.date] | None


def import_customers(
    store: Store,
    path: Path,
    *,
    today: dt.date,
    now: dt.datetime,
    date_format: str | None = None,
    progress: Progress | None = None,
    offices: Collection[str] = (DEFAULT_OFFICE,),
    default_office: str = DEFAULT_OFFICE,
    office_days: Mapping[str, dt.date] | None = None,
) -> ImportResult:
    """Add or update customers from a .csv or .vcf file, by id.

    ``today`` (office-local) becomes ``added_on`` of new customers; ``now`` (UTC)
    their ``created_at``/``updated_at``.  ``date_format`` (DD/MM/YYYY or
    MM/DD/YYYY) reads slash dates that would otherwise be ambiguous.  A row's office must be one of
    ``offices``; a new customer without one joins ``default_office``.  ``office_days`` gives each office's
    own today, the day its new customers are added on (``today`` for an office not in it).
    """
    path = Path(path)
    refuse_folder(path)
    remove_stale_temp_files(path.parent)
    suffix = path.suffix.lower()
    options: _CustomerOptions = {
        "today": today,
        "now": now,
        "date_format": date_format,
        "progress": progress,
        "offices": tuple(offices),
        "default_office": default_office,
        "office_days": office_days,
    }
    with memoized_domain_checks():
        if suffix == ".csv":
            with CsvReader(path) as reader, CsvRejects(rejects_path(path), reader.header, reader.delimiter) as rejects:
                run = partial(csv_customers.import_rows, reader=reader, rejects=rejects, **options)
                return _in_one_transaction(store, path, run, rejects, reader.total_bytes, progress)
        if suffix == ".vcf":
            with vcard.VcardReader(path) as cards, vcard.VcardRejects(rejects_path(path)) as refused:
                run = partial(vcard.import_cards, reader=cards, rejects=refused, **options)
                return _in_one_transaction(store, path, run, refused, cards.total_bytes, progress)
    raise ImportFileError(
        f"{path}: cannot import '{path.suffix or path.name}' files; customers come from .csv (a spreadsheet saved "
        "as CSV) or .vcf (vCard contacts) files"
    )


def refuse_folder(path: Path) -> None:
    """Refuse a folder given where a file is expected, with a message that says so."""
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder; name the file to import, such as {path / 'customers.csv'}")


def import_history(
    store: Store,
    path: Path,
    *,
    today: dt.date,
    now: dt.datetime,
    date_format: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Add contact events from a CSV file (customer_id, date, kind, summary); events already recorded are skipped.

    Dates are office-local; a date without a time means midnight.  An event after
    ``today`` (office-local) has not happened yet and is refused.
    """
    path = Path(path)
    refuse_folder(path)
    remove_stale_temp_files(path.parent)
    if path.suffix.lower() != ".csv":
        raise ImportFileError(
            f"{path}: cannot import '{path.suffix or path.name}' files; contact history comes from a .csv file "
            "with the columns customer_id, date, kind and summary"
        )
    with CsvReader(path) as reader, CsvRejects(rejects_path(path), reader.header, reader.delimiter) as rejects:
        run = partial(
            history.import_rows,
            reader=reader,
            rejects=rejects,
            today=today,
            now=now,
            date_format=date_format,
            progress=progress,
        )
        return _in_one_transaction(store, path, run, rejects, reader.total_bytes, progress)


def _in_one_transaction(
    store: Store,
    path: Path,
    run: Callable[[Connection], ImportResult],
    rejects: RejectsFile,
    total_bytes: int,
    progress: Progress | None,
) -> ImportResult:
    """Run an import in one transaction, then put its rejects file in place and report the end."""
    try:
        with store.begin() as conn:
            result = run(conn)
    except SQLAlchemyError as exc:
        # The database's own words, without the context lines PostgreSQL adds.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"{path}: the database refused the import ({reason}); nothing was imported") from exc
    if progress is not None:
        progress(total_bytes, total_bytes)
    return replace(result, rejects_path=rejects.commit())

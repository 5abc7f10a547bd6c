"""Import customers from a CSV file exported by Excel, Google Sheets or LibreOffice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from sqlalchemy import Connection

from cardsender.domain.errors import ImportFileError, InputError
from cardsender.importers.csvfile import CsvReader, CsvRejects
from cardsender.importers.customer_rows import BATCH_ROWS, CustomerWriter
from cardsender.importers.fields import canonical_header, parse_customer_fields
from cardsender.importers.results import ImportResult, Progress, Tally


def map_columns(reader: CsvReader) -> tuple[list[tuple[int, str]], tuple[str, ...]]:
    """Return (index, field) for each customer column and the headers that are ignored; require an id column."""
    columns, ignored = reader.map_header(canonical_header)
    if "id" not in columns:
        raise ImportFileError(
            f"{reader.path}: has no id column; add a column named 'id' holding each customer's own "
            f"number or code (found {reader.describe_header()})"
        )
    return [(index, field) for field, index in columns.items()], ignored


def import_rows(
    conn: Connection,
    reader: CsvReader,
    rejects: CsvRejects,
    *,
    today: dt.date,
    now: dt.datetime,
    date_format: str | None,
    progress: Progress | None,
    offices: Collection[str],
    default_office: str,
    office_days: Mapping[str, dt.date] | None,
) -> ImportResult:
    """Upsert every valid row; write refused rows to ``rejects``."""
    columns, ignored = map_columns(reader)
    writer = CustomerWriter(
        conn, today=today, now=now, offices=offices, default_office=default_office, office_days=office_days
    )
    tally = Tally()
    for count, (line, cells, problem) in enumerate(reader.rows(), start=1):
        try:
            if problem is not None:
                raise InputError(problem)
            raw = {field: cells[index] for index, field in columns}
            writer.add(line, parse_customer_fields(raw, date_format))
        except InputError as exc:
            tally.reject(line, str(exc))
            rejects.write(cells, str(exc))
        if progress is not None and count % BATCH_ROWS == 0:
            progress(reader.bytes_done, reader.total_bytes)
    writer.flush()
    tally.added, tally.updated = writer.added, writer.updated
    return tally.result(reader.path, ignored)

"""Import contact history (purchases, calls, visits...) from a CSV file."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from sqlalchemy import Connection

from cardsender.domain.errors import ImportFileError, InputError
from cardsender.domain.records import EVENT_KINDS
from cardsender.domain.vocabulary import EVENT_KIND_BY_WORD, EventKind, EventSource
from cardsender.importers.csvfile import CsvReader, CsvRejects, header_key
from cardsender.importers.fields import parse_date, parse_id, parse_text
from cardsender.importers.results import ImportResult, Progress, Tally
from cardsender.store.customers import EventColumns, add_events, customer_id_map

BATCH_ROWS = 5000
REQUIRED = ("customer_id", "date", "kind")
_ALIASES = {
    "customer_id": ("customerid", "id", "customer", "customernumber", "customerno"),
    "date": ("date", "when", "datetime", "occurredat", "occurred"),
    "kind": ("kind", "type", "eventtype"),
    "summary": ("summary", "description", "details", "note", "notes"),
}
_HEADER_NAMES = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_DATE_TIME = re.compile(r"^(?P<date>[^\sT]+)(?:(?:T|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$")


def _hint(date_format: str | None) -> str:
    slash = date_format or "DD/MM/YYYY or MM/DD/YYYY"
    return f"expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or {slash}"


def parse_occurred_at(text: str, date_format: str | None = None) -> dt.datetime:
    """Parse an office-local date or date-time; a date alone means midnight."""
    value = text.strip()
    if not value:
        raise InputError("date is missing; every event needs the day it happened")
    m = _DATE_TIME.match(value)
    if m is None:
        raise InputError(f"date '{text}' is not a date or date-time ({_hint(date_format)})")
    day = _parse_day(m["date"], date_format)
    if m["hour"] is None:
        return dt.datetime(day.year, day.month, day.day)
    try:
        clock = dt.time(int(m["hour"]), int(m["minute"]), int(m["second"] or 0))
    except ValueError:
        raise InputError(f"date '{text}' has an impossible time (use 00:00 to 23:59, as HH:MM or HH:MM:SS)") from None
    return dt.datetime.combine(day, clock)


@lru_cache(maxsize=4096)
def _parse_day(text: str, date_format: str | None) -> dt.date:
    """Parse the date part; cached, as a history file repeats each day many times."""
    return parse_date(text, date_format, "date")


def parse_kind(text: str) -> EventKind:
    """Return an event kind, compared without case."""
    value = text.strip().lower()
    if not value:
        raise InputError(f"kind is missing; use one of: {', '.join(EVENT_KINDS)}")
    kind = EVENT_KIND_BY_WORD.get(value)
    if kind is None:
        raise InputError(f"kind '{text}' is not one of: {', '.join(EVENT_KINDS)}")
    return kind


def map_columns(reader: CsvReader) -> tuple[dict[str, int], tuple[str, ...]]:
    """Return the index of each history column and the headers that are ignored; require the first three."""
    columns, ignored = reader.map_header(lambda name: _HEADER_NAMES.get(header_key(name)))
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(
            f"{reader.path}: has no {' or '.join(missing)} column; a history file needs the columns "
            f"customer_id, date, kind and optionally summary (found {reader.describe_header()})"
        )
    return columns, ignored


def import_rows(
    conn: Connection,
    reader: CsvReader,
    rejects: CsvRejects,
    *,
    today: dt.date,
    now: dt.datetime,
    date_format: str | None,
    progress: Progress | None,
) -> ImportResult:
    """Add every valid event not recorded before; write refused rows to ``rejects``."""
    columns, ignored = map_columns(reader)
    known = customer_id_map(conn)
    id_at, date_at, kind_at = columns["customer_id"], columns["date"], columns["kind"]
    summary_at = columns.get("summary")
    tally = Tally()
    batch: list[EventColumns] = []
    imported = EventSource.IMPORT.value
    for count, (line, cells, problem) in enumerate(reader.rows(), start=1):
        if progress is not None and count % BATCH_ROWS == 0:
            progress(reader.bytes_done, reader.total_bytes)
        try:
            if problem is not None:
                raise InputError(problem)
            # A stored id is already a valid one: look it up as written before parsing the cell.
            customer = known.get(cells[id_at])
            if customer is None:
                external_id = parse_id(cells[id_at], "customer_id")
                customer = known.get(external_id)
            if customer is None:
                raise InputError(
                    f"customer_id '{external_id}' is not a known customer; import the customers first, or fix the id"
                )
            occurred_at = parse_occurred_at(cells[date_at], date_format)
            if occurred_at.date() > today:
                raise InputError(
                    f"date '{cells[date_at].strip()}' is in the future (today is {today.isoformat()} at the office); "
                    "history records contacts that have happened"
                )
            kind = parse_kind(cells[kind_at])
            summary = parse_text(cells[summary_at], "summary") if summary_at is not None and cells[summary_at] else ""
        except InputError as exc:
            tally.reject(line, str(exc))
            rejects.write(cells, str(exc))
            continue
        batch.append(
            {
                "customer_id": customer,
                "occurred_at": occurred_at,
                "kind": kind.value,
                "summary": summary,
                "source": imported,
                "created_at": now,
            }
        )
        if len(batch) >= BATCH_ROWS:
            _save(conn, batch, tally)
    _save(conn, batch, tally)
    return tally.result(reader.path, ignored)


def _save(conn: Connection, batch: list[EventColumns], tally: Tally) -> None:
    added = add_events(conn, batch)
    tally.added += added
    tally.skipped += len(batch) - added
    batch.clear()

"""Customers for tests: stored directly with their history, or written as the CSV files ``import`` reads."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlalchemy import select

from cardsender.config.loading import load_config
from cardsender.domain.records import ContactEvent, Customer
from cardsender.importers.fields import parse_customer_fields
from cardsender.store import Store
from cardsender.store.customers import add_event, get_customer, insert_customer
from cardsender.store.schema import customers
from cardsender.system import clock
from tests.support.cli import HasConfig, config_path_of
from tests.support.office import TZ

WRITTEN_AT = dt.datetime(2026, 1, 5, 15, 30)
"""When stored rows were written (UTC), unless a test says otherwise."""
BUYERS_WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
"""When ``add_buyers`` writes its rows (UTC)."""

ANA = {"id": "C1", "first_name": "Ana", "last_name": "Silva", "email": "ana@example.com", "channel": "email"}
"""An email customer with a Latin name."""
TARO = {"id": "C2", "first_name": "太郎", "last_name": "山田", "email": "taro@example.jp", "channel": "email"}
"""An email customer with a Japanese name."""
BOB = {
    "id": "C2",
    "first_name": "<b>Bob</b>",
    "last_name": "Tables",
    "email": "bob@example.com",
    "birthday": "1980-08-08",
    "channel": "email",
    "owner": "Tom",
}
"""An email customer whose name is markup, which every output must show as text."""
POSTED_TARO = {
    "id": "C3",
    "first_name": "太郎",
    "last_name": "山田",
    "street": "千代田区丸の内1-1",
    "city": "東京都",
    "country": "JP",
    "channel": "post",
    "owner": "Aiko",
    "no_humor": "yes",
}
"""A posted customer in Japan who wants no humour."""

# An event: (when, kind, summary).  When is a number of days before today at the office, a date, or a datetime.
Event = tuple[int | dt.date | dt.datetime, str, str]


def today(timezone: str = TZ) -> dt.date:
    """Return today at the office."""
    return clock.office_today(timezone)


def days_ago(days: int, timezone: str = TZ) -> dt.date:
    """Return the office date some days back."""
    return today(timezone) - dt.timedelta(days=days)


def email_customer(customer_id: str, **fields: str) -> dict[str, str]:
    """Return an email customer's fields: Ana Silva at a lower-cased ``ID@example.com`` unless given."""
    return {
        "id": customer_id,
        "first_name": "Ana",
        "last_name": "Silva",
        "email": f"{customer_id.lower()}@example.com",
        "channel": "email",
    } | fields


def _moment(when: int | dt.date | dt.datetime, at: dt.time) -> dt.datetime:
    """Return an event's moment: days ago, or a day, at ``at`` office time; a datetime as it is."""
    if isinstance(when, dt.datetime):
        return when
    day = days_ago(when) if isinstance(when, int) else when
    return dt.datetime.combine(day, at)


def add_customer(
    target: Path | HasConfig | Store,
    fields: Mapping[str, str],
    *events: Event,
    added: dt.date | None = None,
    at: dt.time = dt.time(10),
    written_at: dt.datetime = WRITTEN_AT,
) -> int:
    """Store a customer given as text fields (as a CSV row holds them), added on ``added`` (today), with
    events at ``at`` on their day; return the customer's internal row."""
    if isinstance(target, Store):
        return _add(target, fields, events, added, at, written_at)
    with Store.open(load_config(config_path_of(target)).database.url) as store:
        return _add(store, fields, events, added, at, written_at)


def _add(
    store: Store,
    fields: Mapping[str, str],
    events: Sequence[Event],
    added: dt.date | None,
    at: dt.time,
    written_at: dt.datetime,
) -> int:
    """Store one customer and their events in one transaction."""
    with store.begin() as conn:
        row = insert_customer(conn, parse_customer_fields(dict(fields)), added or today(), written_at)
        for when, kind, summary in events:
            event = ContactEvent(fields["id"], _moment(when, at), kind, summary, "import")
            add_event(conn, row, event, written_at)
    return row


def add_buyers(target: Path | HasConfig | Store, *customers: Mapping[str, str]) -> None:
    """Store customers known for 400 days who bought a road bike yesterday at 11:00, so a thank-you is due today."""
    for fields in customers:
        add_customer(
            target,
            fields,
            (1, "purchase", "Road bike"),
            added=days_ago(400),
            at=dt.time(11),
            written_at=BUYERS_WRITTEN_AT,
        )


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    line_end: str = "\n",
    quote_all: bool = False,
) -> Path:
    """Write a UTF-8 CSV file with a header line; return its path."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator=line_end, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_customers(
    path: Path, customers: Sequence[Mapping[str, str]], *, line_end: str = "\n", quote_all: bool = False
) -> Path:
    """Write customers as a ``customers.csv`` (columns: every field any of them has, in first-seen order)."""
    columns = list(dict.fromkeys(key for fields in customers for key in fields))
    rows = [[fields.get(column, "") for column in columns] for fields in customers]
    return write_csv(path, columns, rows, line_end=line_end, quote_all=quote_all)


def write_history(
    path: Path, events: Iterable[tuple[str, str, str, str]], *, line_end: str = "\n", quote_all: bool = False
) -> Path:
    """Write events (customer id, date, kind, summary) as a ``history.csv``."""
    return write_csv(path, ["customer_id", "date", "kind", "summary"], events, line_end=line_end, quote_all=quote_all)


def stored(store: Store, external_id: str) -> Customer:
    """Return one stored customer."""
    with store.begin() as conn:
        return get_customer(conn, external_id)


def stored_ids(store: Store) -> list[str]:
    """Return every stored customer id, sorted."""
    with store.begin() as conn:
        return sorted(conn.execute(select(customers.c.external_id)).scalars())

"""Queries on customers and their contact history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypedDict

from sqlalchemy import Connection, Row, String, func, select
from sqlalchemy.sql.dml import Insert

from cardsender.domain.customer_file import CustomerFile, SentWording, WaitingNote
from cardsender.domain.errors import NotFoundError
from cardsender.domain.records import TOUCH_KINDS, Birthday, ContactEvent, Customer
from cardsender.domain.vocabulary import ChannelPreference, EventKind, EventSource
from cardsender.store.dialect import insert_if_new, insert_or_ignore, upsert
from cardsender.store.notes import SENT_STATES
from cardsender.store.schema import contact_events, customers, outbox, personal_notes

_PLAIN_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "country",
    "subdivision",
    "street",
    "city",
    "postal_code",
    "channel",
    "language",
    "owner",
    "customer_since",
    "no_email",
    "no_post",
    "no_humor",
    "do_not_contact",
    "notes",
    "email_bouncing",
    "office",
)


class CustomerFields(TypedDict, total=False):
    """A customer's fields as an import row, a vCard or ``customers edit`` gives them, parsed and typed.

    Every key may be left out: a field that is not given leaves the stored column as it is.
    """

    id: str
    first_name: str
    last_name: str
    email: str | None  # None: the customer has no address
    birthday: Birthday | None  # None: no birthday known
    country: str  # an ISO 3166 code, or "" for the office's country
    subdivision: str
    street: str
    city: str
    postal_code: str
    channel: ChannelPreference | None  # None: not said; a new customer is given one from the address they have
    language: str
    owner: str
    customer_since: dt.date | None
    no_email: bool
    no_post: bool
    no_humor: bool
    do_not_contact: bool
    notes: str
    office: str  # "": not given (a new customer joins the default office)


class EventColumns(TypedDict):
    """One ``contact_events`` row as an import writes it.

    The kind and the source are the stored words of an ``EventKind`` and an ``EventSource`` (their values):
    sqlite3 binds a plain str at once, and a str subclass such as an enum member only after looking for an
    adapter, which an import of a million rows pays a million times.
    """

    customer_id: int
    occurred_at: dt.datetime
    kind: str
    summary: str
    source: str
    created_at: dt.datetime


def columns_from_fields(values: Mapping[str, object]) -> dict[str, object]:
    """Map parsed customer fields (a ``CustomerFields``, or such a mapping) to table columns."""
    row: dict[str, object] = {}
    for name, value in values.items():
        if name == "id":
            row["external_id"] = value
        elif name == "birthday":
            birthday = value if isinstance(value, Birthday) else None
            row["birth_year"] = birthday.year if birthday else None
            row["birth_month"] = birthday.month if birthday else None
            row["birth_day"] = birthday.day if birthday else None
        elif name == "office" and not value:
            continue  # a blank office leaves it as it is (the default office for a new customer)
        elif name in _PLAIN_COLUMNS:
            row[name] = value
        else:
            raise ValueError(f"not a customer field: {name}")
    return row


def customer_from_row(row: Row[Any] | Mapping[str, Any]) -> Customer:
    """Build a Customer from a customers row."""
    m: Mapping[Any, Any] = row._mapping if isinstance(row, Row) else row
    birthday = None
    if m["birth_month"] and m["birth_day"]:
        birthday = Birthday(m["birth_month"], m["birth_day"], m["birth_year"])
    return Customer(
        id=m["external_id"],
        birthday=birthday,
        added_on=m["added_on"],
        **{name: m[name] for name in _PLAIN_COLUMNS},
    )


def find_internal_id(conn: Connection, external_id: str) -> int:
    """Return the row id of a customer, or raise NotFoundError."""
    found = conn.execute(select(customers.c.id).where(customers.c.external_id == external_id)).scalar()
    if found is None:
        raise NotFoundError(f"no customer with id '{external_id}'; see 'cardsender customers list'")
    return int(found)


def get_customer(conn: Connection, external_id: str) -> Customer:
    """Return one customer, or raise NotFoundError."""
    return customer_from_row(customer_row(conn, external_id))


def customer_id_map(conn: Connection) -> dict[str, int]:
    """Return every customer's external id mapped to its row id."""
    return {ext: int(rid) for ext, rid in conn.execute(select(customers.c.external_id, customers.c.id))}


def display_names(conn: Connection, external_ids: Iterable[str]) -> dict[str, str]:
    """Return the name to show people for each of the given customers (first and last, else the id)."""
    wanted = sorted(set(external_ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # stay under SQLite's limit on bound parameters
        chunk = wanted[start : start + 500]
        query = select(customers.c.external_id, customers.c.first_name, customers.c.last_name)
        for ext, first, last in conn.execute(query.where(customers.c.external_id.in_(chunk))):
            names[ext] = " ".join(part for part in (first, last) if part) or ext
    return names


def insert_customer(conn: Connection, values: Mapping[str, object], today: dt.date, now: dt.datetime) -> int:
    """Insert a customer from parsed fields; return its row id."""
    row = columns_from_fields(values) | {"added_on": today, "created_at": now, "updated_at": now}
    result = conn.execute(customers.insert().values(**row))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_customer(conn: Connection, external_id: str, values: Mapping[str, object], now: dt.datetime) -> None:
    """Change the given fields of one customer; a new email, or an opt-in to email, is no longer bouncing."""
    row = columns_from_fields(values) | {"updated_at": now}
    if "email" in values or values.get("no_email") is False:
        row["email_bouncing"] = False
    result = conn.execute(customers.update().where(customers.c.external_id == external_id).values(**row))
    if result.rowcount == 0:
        raise NotFoundError(f"no customer with id '{external_id}'; see 'cardsender customers list'")


def delete_customer(conn: Connection, external_id: str) -> int:
    """Delete a customer and (by cascade) their history; return the number of events removed."""
    internal = find_internal_id(conn, external_id)
    removed = conn.execute(contact_events.delete().where(contact_events.c.customer_id == internal)).rowcount
    conn.execute(customers.delete().where(customers.c.id == internal))
    return int(removed)


def last_touch_query() -> Any:
    """Return a subquery of each customer's latest touch (any event but a note)."""
    return (
        select(contact_events.c.customer_id, func.max(contact_events.c.occurred_at).label("last_touch"))
        .where(contact_events.c.kind.in_(TOUCH_KINDS))
        .group_by(contact_events.c.customer_id)
        .subquery()
    )


def iter_customers_with_last_touch(conn: Connection) -> Iterator[tuple[Customer, dt.datetime | None]]:
    """Yield every customer, ordered by name, with the time of their last touch."""
    last = last_touch_query()
    query = (
        select(customers, last.c.last_touch)
        .outerjoin(last, last.c.customer_id == customers.c.id)
        .order_by(customers.c.last_name, customers.c.first_name, customers.c.external_id)
    )
    for row in conn.execute(query):
        yield customer_from_row(row), row.last_touch


def add_event(conn: Connection, internal_id: int, event: ContactEvent, now: dt.datetime) -> bool:
    """Record a contact event; return False when the same event was already recorded."""
    stmt = insert_or_ignore(conn, contact_events, ("customer_id", "occurred_at", "kind", "summary")).values(
        customer_id=internal_id,
        occurred_at=event.occurred_at,
        kind=event.kind,
        summary=event.summary,
        source=event.source,
        created_at=now,
    )
    return insert_if_new(conn, stmt)


def events_of(conn: Connection, external_id: str) -> list[ContactEvent]:
    """Return one customer's history, oldest first."""
    return [
        ContactEvent(external_id, row["occurred_at"], row["kind"], row["summary"], row["source"])
        for row in event_rows_of(conn, external_id)
    ]


def customer_row(conn: Connection, external_id: str) -> dict[str, Any]:
    """Return every stored column of one customer, or raise NotFoundError."""
    row = conn.execute(select(customers).where(customers.c.external_id == external_id)).first()
    if row is None:
        raise NotFoundError(f"no customer with id '{external_id}'; see 'cardsender customers list'")
    return dict(row._mapping)


def event_rows_of(conn: Connection, external_id: str) -> list[dict[str, Any]]:
    """Return every stored column of one customer's contact events, oldest first."""
    query = (
        select(contact_events)
        .join(customers, customers.c.id == contact_events.c.customer_id)
        .where(customers.c.external_id == external_id)
        .order_by(contact_events.c.occurred_at, contact_events.c.id)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    if not rows:
        find_internal_id(conn, external_id)  # no history, or no such customer: this raises for the latter
    return rows


# Customers read at a time: SQLite allows 999 bound parameters in one statement.
_FILE_CHUNK = 500


def load_files(conn: Connection, customer_rows: Iterable[int]) -> dict[int, CustomerFile]:
    """Return the file of each of the given customers (by row id), in four queries per 500 customers.

    A row id with no customer behind it (deleted since) is simply not in the result.
    """
    wanted = sorted(set(customer_rows))
    files: dict[int, CustomerFile] = {}
    for start in range(0, len(wanted), _FILE_CHUNK):
        files.update(_load_chunk(conn, wanted[start : start + _FILE_CHUNK]))
    return files


def load_file(conn: Connection, external_id: str) -> CustomerFile:
    """Return one customer's file, or raise NotFoundError."""
    row_id = find_internal_id(conn, external_id)
    found = load_files(conn, [row_id])
    if row_id not in found:  # pragma: no cover - only if the customer is deleted between the two statements
        raise NotFoundError(f"no customer with id '{external_id}'; see 'cardsender customers list'")
    return found[row_id]


def _load_chunk(conn: Connection, rows: list[int]) -> dict[int, CustomerFile]:
    """Return the files of a few customers: their rows, their events, their waiting notes, their sent wordings."""
    people = {
        int(row.id): customer_from_row(row) for row in conn.execute(select(customers).where(customers.c.id.in_(rows)))
    }
    history: dict[int, list[ContactEvent]] = {row_id: [] for row_id in people}
    events = (
        select(
            contact_events.c.customer_id,
            contact_events.c.occurred_at,
            contact_events.c.kind,
            contact_events.c.summary,
            contact_events.c.source,
        )
        .where(contact_events.c.customer_id.in_(rows))
        .order_by(contact_events.c.occurred_at, contact_events.c.id)
    )
    for row_id, occurred_at, kind, summary, source in conn.execute(events):
        if row_id in people:
            history[row_id].append(
                ContactEvent(people[row_id].id, occurred_at, EventKind(kind), summary, EventSource(source))
            )
    notes: dict[int, list[WaitingNote]] = {row_id: [] for row_id in people}
    waiting = (
        select(personal_notes.c.customer_id, personal_notes.c.occasion, personal_notes.c.text)
        .where(personal_notes.c.customer_id.in_(rows), personal_notes.c.used_at.is_(None))
        .order_by(personal_notes.c.created_at, personal_notes.c.id)
    )
    for row_id, occasion, text in conn.execute(waiting):
        if row_id in people:
            notes[row_id].append(WaitingNote(occasion, text))
    sent: dict[int, list[SentWording]] = {row_id: [] for row_id in people}
    wordings = (
        select(outbox.c.customer_id, outbox.c.occasion, outbox.c.occasion_date, outbox.c.id, outbox.c.variant)
        .where(outbox.c.customer_id.in_(rows), outbox.c.state.in_(SENT_STATES), outbox.c.variant.is_not(None))
        .order_by(outbox.c.occasion_date, outbox.c.id)
    )
    for row_id, occasion, occasion_date, outbox_row, variant in conn.execute(wordings):
        if row_id in people:
            sent[row_id].append(SentWording(occasion, occasion_date, int(outbox_row), str(variant)))
    return {
        row_id: CustomerFile(row_id, customer, tuple(history[row_id]), tuple(notes[row_id]), tuple(sent[row_id]))
        for row_id, customer in people.items()
    }


_LENGTHS = {c.key: c.type.length for c in customers.c if isinstance(c.type, String) and c.type.length}


def length_limits(columns: Iterable[str]) -> list[tuple[str, int]]:
    """Return (column, most characters it holds) for those of ``columns`` that have a limit."""
    return [(name, _LENGTHS[name]) for name in columns if name in _LENGTHS]


def overlong_column(row: Mapping[str, Any], limits: Iterable[tuple[str, int]] | None = None) -> str | None:
    """Return why a text value is longer than its column allows, or None when all fit.

    ``limits`` (from ``length_limits``) saves looking them up for every row of an import.
    """
    for name, limit in length_limits(row) if limits is None else limits:
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            field = "id" if name == "external_id" else name
            return f"{field} is {len(value)} characters long; shorten it to at most {limit}"
    return None


def upsert_customers(conn: Connection, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert customers, or update them by external id; all rows have the same columns.

    On update every given column is set except ``added_on`` and ``created_at``;
    the others keep their stored values.
    """
    if not rows:
        return
    update = [name for name in rows[0] if name not in ("external_id", "added_on", "created_at")]
    execute_many(conn, upsert(conn, customers, ["external_id"], update), rows)


def add_events(conn: Connection, rows: Sequence[EventColumns] | Sequence[Mapping[str, object]]) -> int:
    """Record many contact events (rows of ``contact_events`` columns); return how many were new."""
    if not rows:
        return 0
    stmt = insert_or_ignore(conn, contact_events, ("customer_id", "occurred_at", "kind", "summary"))
    before = None if conn.dialect.supports_sane_multi_rowcount else _event_count(conn)
    changed = execute_many(conn, stmt, rows)
    return changed if before is None else _event_count(conn) - before


def _event_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(contact_events)).scalar_one())


def execute_many(conn: Connection, stmt: Insert, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run an INSERT for many rows with the same keys, as ``conn.execute(stmt, rows)`` does; return its rowcount.

    SQLAlchemy handles every parameter of every row in Python, which took three
    quarters of a 100,000-customer import (bench/bench_import.py).  Here each
    column's bind processor runs once per distinct value (dates and flags repeat),
    scalar column defaults fill the missing keys, and the driver gets plain tuples.
    """
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=list(rows[0]))
    defaults: dict[str, Any] = {}
    for column in compiled.insert_prefetch:
        if column.default is None or not column.default.is_scalar:
            return int(conn.execute(stmt, list(rows)).rowcount)  # a computed default: let SQLAlchemy run it
        defaults[column.key] = column.default.arg  # type: ignore[attr-defined]
    names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
    if set(names) != set(rows[0]) | set(defaults):
        return int(conn.execute(stmt, list(rows)).rowcount)
    processors = [compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    converted: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (index, process, {}) for index, process in enumerate(processors) if process is not None
    ]
    keys = [compiled.escaped_bind_names.get(name, name) for name in names]
    params: list[Any] = []
    pick = itemgetter(*names)
    for row in rows:
        if defaults:
            values = [row[name] if name in row else defaults[name] for name in names]
        else:
            values = list(pick(row)) if len(names) > 1 else [pick(row)]
        for index, process, memo in converted:
            value = values[index]
            if value is not None:
                if value not in memo:
                    if len(memo) > 10_000:
                        memo.clear()
                    memo[value] = process(value)
                values[index] = memo[value]
        params.append(tuple(values) if compiled.positional else dict(zip(keys, values, strict=True)))
    return int(conn.exec_driver_sql(compiled.string, params).rowcount)

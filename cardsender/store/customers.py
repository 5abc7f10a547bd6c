"""Queries on customers and their contact history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, Row, func, select

from cardsender.errors import NotFoundError
from cardsender.records import TOUCH_KINDS, Birthday, ContactEvent, Customer
from cardsender.store.dialect import insert_or_ignore
from cardsender.store.schema import contact_events, customers

_PLAIN_COLUMNS = (
    "first_name", "last_name", "email", "country", "subdivision", "street", "city", "postal_code",
    "channel", "language", "owner", "customer_since", "no_email", "no_post", "no_humor",
    "do_not_contact", "notes",
)  # fmt: skip


def columns_from_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Map parsed customer fields (``fields.parse_customer_fields``) to table columns."""
    row: dict[str, Any] = {}
    for name, value in values.items():
        if name == "id":
            row["external_id"] = value
        elif name == "birthday":
            birthday: Birthday | None = value
            row["birth_year"] = birthday.year if birthday else None
            row["birth_month"] = birthday.month if birthday else None
            row["birth_day"] = birthday.day if birthday else None
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
    row = conn.execute(select(customers).where(customers.c.external_id == external_id)).first()
    if row is None:
        raise NotFoundError(f"no customer with id '{external_id}'; see 'cardsender customers list'")
    return customer_from_row(row)


def customer_id_map(conn: Connection) -> dict[str, int]:
    """Return every customer's external id mapped to its row id."""
    return {ext: int(rid) for ext, rid in conn.execute(select(customers.c.external_id, customers.c.id))}


def insert_customer(conn: Connection, values: Mapping[str, Any], today: dt.date, now: dt.datetime) -> int:
    """Insert a customer from parsed fields; return its row id."""
    row = columns_from_fields(values) | {"added_on": today, "created_at": now, "updated_at": now}
    result = conn.execute(customers.insert().values(**row))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_customer(conn: Connection, external_id: str, values: Mapping[str, Any], now: dt.datetime) -> None:
    """Change the given fields of one customer."""
    row = columns_from_fields(values) | {"updated_at": now}
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


def last_touch_of(conn: Connection, internal_id: int) -> dt.datetime | None:
    """Return the time of one customer's last touch."""
    query = select(func.max(contact_events.c.occurred_at)).where(
        contact_events.c.customer_id == internal_id, contact_events.c.kind.in_(TOUCH_KINDS)
    )
    value = conn.execute(query).scalar()
    return value if isinstance(value, dt.datetime) else None


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
    return bool(conn.execute(stmt).rowcount)


def events_of(conn: Connection, external_id: str) -> list[ContactEvent]:
    """Return one customer's history, oldest first."""
    internal = find_internal_id(conn, external_id)
    query = (
        select(contact_events)
        .where(contact_events.c.customer_id == internal)
        .order_by(contact_events.c.occurred_at, contact_events.c.id)
    )
    return [
        ContactEvent(external_id, row.occurred_at, row.kind, row.summary, row.source)
        for row in conn.execute(query)
    ]

"""Save parsed customers in batches, shared by the CSV and vCard importers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from sqlalchemy import Connection

from cardsender.domain.errors import InputError
from cardsender.domain.records import DEFAULT_OFFICE
from cardsender.importers.fields import default_channel
from cardsender.store.customers import (
    CustomerFields,
    columns_from_fields,
    customer_id_map,
    length_limits,
    overlong_column,
    upsert_customers,
)

BATCH_ROWS = 5000


class CustomerWriter:
    """Upsert customers by id in batches of ``BATCH_ROWS``, counting new and changed ones.

    Only the fields given for a row are written, so a column missing from the
    file leaves stored values alone.  An id given twice in one file is refused
    the second time: two rows claiming one id are usually two people, and
    letting the later silently win would lose one of them.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        today: dt.date,
        now: dt.datetime,
        offices: Collection[str] = (DEFAULT_OFFICE,),
        default_office: str = DEFAULT_OFFICE,
        office_days: Mapping[str, dt.date] | None = None,
    ) -> None:
        self.conn = conn
        self.offices = offices
        self.default_office = default_office
        # Each office's own today, for the day its new customers were added (offices in other time zones).
        self.office_days = office_days or {}
        self.stamps: dict[str, object] = {"added_on": today, "created_at": now, "updated_at": now}
        self.known = customer_id_map(conn)
        self.seen: dict[str, int] = {}
        self.pending: dict[tuple[str, ...], list[dict[str, object]]] = {}
        self.limits: dict[tuple[str, ...], list[tuple[str, int]]] = {}
        self.added = 0
        self.updated = 0

    def add(self, line: int, values: CustomerFields) -> None:
        """Queue one customer's parsed fields, or raise InputError saying why the row is refused."""
        external_id = values.get("id")
        if external_id is None:  # the importers always give one: a file without an id column is refused
            raise InputError("id is missing; every customer needs an id")
        first = self.seen.get(external_id)
        if first is not None:
            raise InputError(
                f"id '{external_id}' is already used on line {first}, which was imported; give each customer "
                "one row, and delete this one from the rejects file unless it should replace that one"
            )
        existing = external_id in self.known
        office = values.get("office")
        if office and office not in self.offices:
            raise InputError(
                f"office '{office}' is not one this config serves ({', '.join(self.offices)}); correct the row, "
                f"or add [offices.{office}] to the config"
            )
        if not office and not existing:
            values["office"] = self.default_office
        if values.get("channel") is None:
            # A new customer always gets a channel; a known one only when the row says how to reach them.
            if not existing or "email" in values or "street" in values:
                values["channel"] = default_channel(values)
            else:
                values.pop("channel", None)
        row = columns_from_fields(values)
        key = tuple(row)
        limits = self.limits.get(key)
        if limits is None:
            limits = self.limits[key] = length_limits(key)
        if problem := overlong_column(row, limits):
            raise InputError(problem)
        row |= self.stamps
        if not existing and (day := self.office_days.get(values.get("office", ""))) is not None:
            row["added_on"] = day
        self.seen[external_id] = line
        if existing:
            self.updated += 1
        else:
            self.added += 1
        batch = self.pending.setdefault(key, [])
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            upsert_customers(self.conn, batch)
            del self.pending[key]

    def flush(self) -> None:
        """Write every queued row."""
        for batch in self.pending.values():
            upsert_customers(self.conn, batch)
        self.pending.clear()

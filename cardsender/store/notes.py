"""Queries about cards' words: personal notes waiting for a card, and the wording variants already sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select, or_, select

from cardsender.domain.vocabulary import GONE_OUT_STATES
from cardsender.store.schema import customers, personal_notes

# A card in one of these states has gone out (or most likely has): its wording counts as used.
SENT_STATES = tuple(sorted(GONE_OUT_STATES))


def add_note(conn: Connection, customer_row_id: int, text: str, occasion: str | None, now: dt.datetime) -> None:
    """Store a personal note for a customer's next card (of ``occasion``, or any when None)."""
    conn.execute(
        personal_notes.insert().values(customer_id=customer_row_id, occasion=occasion, text=text, created_at=now)
    )


def _oldest_unused_note(column: Any, customer: Any, occasion: str) -> Select[Any]:
    """Return a query of the note the customer's next card of ``occasion`` takes: the oldest unused one."""
    return (
        select(column)
        .where(
            customer,
            personal_notes.c.used_at.is_(None),
            or_(personal_notes.c.occasion.is_(None), personal_notes.c.occasion == occasion),
        )
        .order_by(personal_notes.c.created_at, personal_notes.c.id)
        .limit(1)
    )


def next_note(conn: Connection, external_id: str, occasion: str) -> str:
    """Return the oldest unused note for the customer's next card of ``occasion`` (or of any), or ""."""
    of_customer = personal_notes.c.customer_id.in_(select(customers.c.id).where(customers.c.external_id == external_id))
    return str(conn.execute(_oldest_unused_note(personal_notes.c.text, of_customer, occasion)).scalar() or "")


def use_note(conn: Connection, customer_row: int, occasion: str, outbox_row: int, now: dt.datetime) -> None:
    """Mark the note that went out with a card as used, so the next card does not repeat it."""
    oldest = _oldest_unused_note(personal_notes.c.id, personal_notes.c.customer_id == customer_row, occasion)
    conn.execute(
        personal_notes.update()
        .where(personal_notes.c.id == oldest.scalar_subquery())
        .values(used_at=now, outbox_id=outbox_row)
    )

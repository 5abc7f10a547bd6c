"""Read what the planner needs from the store, and record cards in the outbox."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from cardsender.config import Config
from cardsender.planner import HORIZON_DAYS, MISSED_LOOKBACK_DAYS, CustomerFacts, Purchase, usable_channels
from cardsender.records import TOUCH_KINDS, Birthday, Card
from cardsender.store.dialect import insert_or_ignore
from cardsender.store.schema import contact_events, customers, outbox

DAY = dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def load_facts(conn: Connection, config: Config, today: dt.date) -> Iterator[CustomerFacts]:
    """Yield every customer's planning facts as of ``today``; history after today is ignored."""
    end = _midnight(today + DAY)
    window = config.occasions.grace_days + MISSED_LOOKBACK_DAYS + config.keep_in_touch.max_gap_days + HORIZON_DAYS
    since = today - dt.timedelta(days=window)

    purchases: dict[int, list[Purchase]] = defaultdict(list)
    recent = select(contact_events.c.customer_id, contact_events.c.occurred_at, contact_events.c.summary).where(
        contact_events.c.kind == "purchase",
        contact_events.c.occurred_at >= _midnight(since),
        contact_events.c.occurred_at < end,
    )
    for customer_id, occurred_at, summary in conn.execute(recent):
        purchases[customer_id].append(Purchase(occurred_at.date(), summary))

    cards: dict[int, list[Card]] = defaultdict(list)
    rows = select(
        outbox.c.customer_id, customers.c.external_id, outbox.c.occasion, outbox.c.occasion_date,
        outbox.c.channel, outbox.c.state,
    ).join(customers, customers.c.id == outbox.c.customer_id).where(outbox.c.occasion_date >= since)  # fmt: skip
    for customer_id, external_id, occasion, occasion_date, channel, state in conn.execute(rows):
        cards[customer_id].append(Card(external_id, occasion, occasion_date, channel, state))

    last = (
        select(contact_events.c.customer_id, func.max(contact_events.c.occurred_at).label("last_touch"))
        .where(contact_events.c.kind.in_(TOUCH_KINDS), contact_events.c.occurred_at < end)
        .group_by(contact_events.c.customer_id)
        .subquery()
    )
    c = customers.c
    query = select(
        c.id, c.external_id, c.first_name, c.last_name, c.owner, c.birth_year, c.birth_month, c.birth_day,
        c.country, c.channel, c.email, c.street, c.city, c.postal_code, c.no_email, c.no_post, c.no_humor,
        c.do_not_contact, c.added_on, last.c.last_touch,
    ).outerjoin(last, last.c.customer_id == c.id)  # fmt: skip
    for row in conn.execute(query):
        birthday = Birthday(row.birth_month, row.birth_day, row.birth_year) if row.birth_month else None
        has_address = bool(row.street and (row.city or row.postal_code))
        yield CustomerFacts(
            customer_id=row.external_id,
            added_on=row.added_on,
            name=" ".join(part for part in (row.first_name, row.last_name) if part) or row.external_id,
            owner=row.owner,
            birthday=birthday,
            country=row.country,
            preferred_channel=row.channel,
            channels=usable_channels(row.channel, row.email, has_address, row.no_email, row.no_post),
            no_humor=row.no_humor,
            do_not_contact=row.do_not_contact,
            last_event_touch=row.last_touch.date() if row.last_touch else None,
            purchases=tuple(purchases.get(row.id, ())),
            cards=tuple(cards.get(row.id, ())),
        )


def add_card(
    conn: Connection,
    customer_row_id: int,
    card: Card,
    due_date: dt.date,
    now: dt.datetime,
    reason: str = "",
) -> bool:
    """Record a card in the outbox unless its key is already there; return whether it was added."""
    stmt = insert_or_ignore(conn, outbox, ("customer_id", "occasion", "occasion_date", "channel")).values(
        customer_id=customer_row_id,
        occasion=card.occasion,
        occasion_date=card.occasion_date,
        channel=card.channel,
        due_date=due_date,
        state=card.state,
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    return bool(conn.execute(stmt).rowcount)


def cards_between(conn: Connection, first: dt.date, last: dt.date, states: frozenset[str]) -> list[Card]:
    """Return the outbox cards in the given states whose occasion date is from first to last."""
    query = (
        select(customers.c.external_id, outbox.c.occasion, outbox.c.occasion_date, outbox.c.channel, outbox.c.state)
        .join(customers, customers.c.id == outbox.c.customer_id)
        .where(outbox.c.occasion_date >= first, outbox.c.occasion_date <= last, outbox.c.state.in_(states))
    )
    return [Card(*row) for row in conn.execute(query)]

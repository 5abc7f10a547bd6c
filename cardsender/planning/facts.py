"""Read what the planner needs from the store, and record cards in the outbox."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import Connection, and_, case, func, or_, select

from cardsender.config.model import Config
from cardsender.domain.records import SKIPPED_BY_STAFF, TOUCH_KINDS, Birthday, Card, CardKey
from cardsender.domain.vocabulary import Channel, EventKind, Occasion, OutboxState
from cardsender.planning.planner import (
    FIXED_STATES,
    MISSED_LOOKBACK_DAYS,
    OPEN_STATES,
    CustomerFacts,
    DueFilter,
    Purchase,
    usable_channels,
)
from cardsender.store.dialect import insert_if_new, insert_or_ignore
from cardsender.store.schema import contact_events, customers, outbox

DAY = dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def load_facts(
    conn: Connection,
    config: Config,
    today: dt.date,
    only: DueFilter | None = None,
    customer_rows: Collection[int] | None = None,
) -> Iterator[CustomerFacts]:
    """Yield the planning facts of every customer of the config's office as of ``today``; history after today
    is ignored.

    With ``customer_rows``, only those customers (by row id) are read.

    With ``only``, customers who cannot have a card due today are left out.
    """
    end = _midnight(today + DAY)
    occ = config.occasions
    reported = occ.grace_days + MISSED_LOOKBACK_DAYS  # how far back the planner looks at occasions
    # Purchases old enough that their thank-you is past even the missed report do not matter.
    purchases_since = today - dt.timedelta(days=reported + occ.thank_you.coalesce_days + occ.thank_you.delay_days)
    # Cards matter for collisions, keys already used and the 70-day walk back to the last touch.
    cards_since = today - dt.timedelta(days=reported + occ.min_gap_days + config.keep_in_touch.max_gap_days)

    last_touches = select(contact_events.c.customer_id, func.max(contact_events.c.occurred_at).label("last_touch"))
    last_touches = last_touches.where(contact_events.c.kind.in_(TOUCH_KINDS), contact_events.c.occurred_at < end)
    if customer_rows is not None:  # a few customers: their own history only, not the whole table's
        last_touches = last_touches.where(contact_events.c.customer_id.in_(sorted(customer_rows)))
    last = last_touches.group_by(contact_events.c.customer_id).subquery()
    c = customers.c
    query = (
        select(
            c.id,
            c.external_id,
            c.first_name,
            c.last_name,
            c.owner,
            c.birth_year,
            c.birth_month,
            c.birth_day,
            c.country,
            c.channel,
            c.email,
            c.street,
            c.city,
            c.postal_code,
            c.no_email,
            c.no_post,
            c.no_humor,
            c.do_not_contact,
            c.added_on,
            c.email_bouncing,
            last.c.last_touch,
        )
        .outerjoin(last, last.c.customer_id == c.id)
        .where(c.office == config.office.key)
    )
    if customer_rows is not None:
        query = query.where(c.id.in_(sorted(customer_rows)))
    if only is not None and not only.everyone:
        birthday_pairs = [and_(c.birth_month == m, c.birth_day == d) for m, d in sorted(only.birthdays)]
        query = query.where(
            or_(
                last.c.last_touch < _midnight(only.clock_started_by + DAY),
                and_(last.c.last_touch.is_(None), c.added_on <= only.clock_started_by),
                *birthday_pairs,
                c.id.in_(
                    select(contact_events.c.customer_id).where(
                        contact_events.c.kind == EventKind.PURCHASE,
                        contact_events.c.occurred_at >= _midnight(only.purchases_from),
                        contact_events.c.occurred_at < end,
                    )
                ),
                c.id.in_(
                    select(outbox.c.customer_id).where(
                        or_(outbox.c.state.in_(OPEN_STATES), outbox.c.occasion_date >= only.cards_from)
                    )
                ),
            )
        )
    found = conn.execute(query).all()
    # Purchases and cards only of the customers read.
    wanted = {row[0] for row in found}

    purchases: dict[int, list[Purchase]] = defaultdict(list)
    recent = select(contact_events.c.customer_id, contact_events.c.occurred_at, contact_events.c.summary).where(
        contact_events.c.kind == EventKind.PURCHASE,
        contact_events.c.occurred_at >= _midnight(purchases_since),
        contact_events.c.occurred_at < end,
    )
    if customer_rows is not None:  # a few customers (a send cycle's batch): read only theirs
        recent = recent.where(contact_events.c.customer_id.in_(sorted(customer_rows)))
    for customer_id, occurred_at, summary in conn.execute(recent).all():
        if customer_id in wanted:
            purchases[customer_id].append(Purchase(occurred_at.date(), summary))

    # Card events of the history (imported, logged, or written when a card went out) keep the min gap.
    card_days: dict[int, set[dt.date]] = defaultdict(set)
    history_cards = select(contact_events.c.customer_id, contact_events.c.occurred_at).where(
        contact_events.c.kind == EventKind.CARD,
        contact_events.c.occurred_at >= _midnight(cards_since),
        contact_events.c.occurred_at < end,
    )
    if customer_rows is not None:
        history_cards = history_cards.where(contact_events.c.customer_id.in_(sorted(customer_rows)))
    for customer_id, occurred_at in conn.execute(history_cards).all():
        if customer_id in wanted:
            card_days[customer_id].add(occurred_at.date())

    lead = dt.timedelta(days=config.print.postal_lead_days)
    cards: dict[int, list[Card]] = defaultdict(list)
    # A posted card reaches the customer lead days after its mail day, the due date it was printed for.
    post_arrivals: dict[int, list[tuple[Occasion, dt.date, dt.date]]] = defaultdict(list)
    # Check-ins waiting to go out never expire, so an open one is read however old it is.
    # A check-in staff skipped settles its gap however old it is, so it is read too, marked skipped by staff.
    skipped = and_(outbox.c.state == OutboxState.CANCELLED, outbox.c.reason == SKIPPED_BY_STAFF)
    open_or_skipped_check_in = and_(
        outbox.c.occasion == Occasion.CHECK_IN, or_(outbox.c.state.in_(OPEN_STATES), skipped)
    )
    rows = (
        select(
            outbox.c.customer_id,
            customers.c.external_id,
            outbox.c.occasion,
            outbox.c.occasion_date,
            outbox.c.channel,
            outbox.c.state,
            case((skipped, True), else_=False),
            outbox.c.due_date,
        )
        .join(customers, customers.c.id == outbox.c.customer_id)
        .where(or_(outbox.c.occasion_date >= cards_since, open_or_skipped_check_in))
    )
    if customer_rows is not None:
        rows = rows.where(outbox.c.customer_id.in_(sorted(customer_rows)))
    for customer_id, external_id, occasion, occasion_date, channel, state, by_staff, due_date in conn.execute(
        rows
    ).all():
        if customer_id in wanted:
            card = Card(external_id, occasion, occasion_date, channel, state, skipped_by_staff=bool(by_staff))
            cards[customer_id].append(card)
            if card.channel is Channel.POST and card.state in FIXED_STATES:
                post_arrivals[customer_id].append((card.occasion, occasion_date, due_date + lead))

    # Unpacking plain tuples: attribute access on 100,000 rows costs more than the query.
    for (
        row_id,
        external_id,
        first_name,
        last_name,
        owner,
        birth_year,
        birth_month,
        birth_day,
        country,
        channel,
        email,
        street,
        city,
        postal_code,
        no_email,
        no_post,
        no_humor,
        do_not_contact,
        added_on,
        email_bouncing,
        last_touch,
    ) in found:
        yield CustomerFacts(
            customer_id=external_id,
            added_on=added_on,
            name=f"{first_name} {last_name}".strip() or external_id,
            owner=owner,
            birthday=Birthday(birth_month, birth_day, birth_year) if birth_month else None,
            country=country,
            preferred_channel=channel,
            channels=usable_channels(
                channel, email, bool(street and (city or postal_code)), no_email, no_post, email_bouncing
            ),
            no_humor=no_humor,
            do_not_contact=do_not_contact,
            last_event_touch=last_touch.date() if last_touch else None,
            purchases=tuple(purchases.get(row_id, ())),
            cards=tuple(cards.get(row_id, ())),
            post_arrivals=tuple(post_arrivals.get(row_id, ())),
            card_days=tuple(sorted(card_days.get(row_id, ()))),
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
    stmt = insert_or_ignore(conn, outbox, CardKey._fields).values(
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
    return insert_if_new(conn, stmt)

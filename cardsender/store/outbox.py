"""The outbox: one row per card, its state, and the claim of the service that is sending it.

The states are ``OutboxState``'s, and a row moves between them only as ``OUTBOX_MOVES`` allows: every
change of state goes through ``move``, which refuses any other.  Every change of a claimed row names the
claim, so a row taken over by another service is never written twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Update, and_, func, or_, select

from cardsender.domain.records import DEFAULT_OFFICE, CardKey, ContactEvent, Touch
from cardsender.domain.vocabulary import (
    OUTBOX_MOVES,
    Channel,
    EventKind,
    EventSource,
    Occasion,
    OutboxState,
    Wording,
)
from cardsender.store.customers import add_event
from cardsender.store.dialect import insert_if_new, insert_or_ignore, lock_row
from cardsender.store.notes import use_note
from cardsender.store.schema import customers, outbox, send_pace

STATES = tuple(state.value for state in OutboxState)
# The columns of the outbox's unique key, named as CardKey's fields.
OUTBOX_KEY = CardKey._fields


class IllegalMove(RuntimeError):
    """A card was asked to move between two states the outbox never moves it between: a bug in cardsender."""

    def __init__(self, source: OutboxState, target: OutboxState) -> None:
        allowed = ", ".join(sorted(OUTBOX_MOVES[source])) or "nowhere"
        super().__init__(f"an outbox card cannot move from {source} to {target} (from {source}: {allowed})")
        self.source = source
        self.target = target


def check_move(source: OutboxState, target: OutboxState) -> None:
    """Raise IllegalMove unless the outbox moves a card from ``source`` to ``target``."""
    if target not in OUTBOX_MOVES[source]:
        raise IllegalMove(source, target)


def moving(sources: Iterable[OutboxState], target: OutboxState, now: dt.datetime, *where: Any, **values: Any) -> Update:
    """Return the UPDATE that moves the rows matching ``where`` from one of ``sources`` to ``target``.

    Every move of the outbox is built here, and each pair of states is checked against ``OUTBOX_MOVES``.
    """
    sources = tuple(sources)
    for source in sources:
        check_move(source, target)
    state = outbox.c.state == sources[0] if len(sources) == 1 else outbox.c.state.in_(sources)
    return outbox.update().where(state, *where).values(state=target, updated_at=now, **values)


def move(
    conn: Connection,
    sources: Iterable[OutboxState],
    target: OutboxState,
    now: dt.datetime,
    *where: Any,
    **values: Any,
) -> int:
    """Move the rows matching ``where`` that are in one of ``sources`` to ``target``; return how many moved."""
    return int(conn.execute(moving(sources, target, now, *where, **values)).rowcount)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One card in the outbox, as ``outbox --json`` shows it."""

    row: int
    customer_row: int
    customer_id: str
    occasion: Occasion
    channel: Channel
    occasion_date: dt.date
    due_date: dt.date
    expires_on: dt.date | None
    state: OutboxState
    attempts: int
    last_error: str
    server_reply: str
    message_id: str | None
    variant: str | None
    reason: str
    updated_at: dt.datetime
    batch: str | None = None
    office: str = DEFAULT_OFFICE
    first_name: str = ""
    last_name: str = ""

    @property
    def key(self) -> CardKey:
        """Return the card's key: customer, occasion, occasion date, channel."""
        return CardKey(self.customer_id, self.occasion, self.occasion_date, self.channel)

    @property
    def customer_name(self) -> str:
        """Return the customer's name as staff know it, or "" when none is on file."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form of ``outbox --json``."""
        return {
            "row": self.row,
            "customer_id": self.customer_id,
            "occasion": self.occasion.value,
            "channel": self.channel.value,
            "occasion_date": self.occasion_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "state": self.state.value,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "server_reply": self.server_reply,
            "message_id": self.message_id,
            "variant": self.variant,
            "reason": self.reason,
            "batch": self.batch,
            "office": self.office,
            "customer_name": self.customer_name,
        }


_COLUMNS = (
    outbox.c.id,
    outbox.c.customer_id,
    customers.c.external_id,
    outbox.c.occasion,
    outbox.c.channel,
    outbox.c.occasion_date,
    outbox.c.due_date,
    outbox.c.expires_on,
    outbox.c.state,
    outbox.c.attempts,
    outbox.c.last_error,
    outbox.c.server_reply,
    outbox.c.message_id,
    outbox.c.variant,
    outbox.c.reason,
    outbox.c.updated_at,
    outbox.c.batch,
    customers.c.office,
    customers.c.first_name,
    customers.c.last_name,
)


_FIELDS = tuple(field.name for field in fields(OutboxRow))
# The columns stored as words, and the enum each becomes when read.
_ENUMS: dict[str, Any] = {"occasion": Occasion, "channel": Channel, "state": OutboxState}


def _rows(conn: Connection, *where: Any) -> list[OutboxRow]:
    query = select(*_COLUMNS).join(customers, customers.c.id == outbox.c.customer_id).where(*where)
    ordered = conn.execute(query.order_by(outbox.c.due_date, outbox.c.id)).all()
    found: list[OutboxRow] = []
    for row in ordered:
        values = dict(zip(_FIELDS, row, strict=True))
        for name, enum in _ENUMS.items():
            values[name] = enum(values[name])
        found.append(OutboxRow(**values))
    return found


AWAITING_APPROVAL = "waiting for approval"


def record_touches(
    conn: Connection,
    touches: Iterable[Touch],
    row_ids: dict[str, int],
    grace_days: int,
    now: dt.datetime,
    hold: bool = False,
) -> int:
    """Insert planned touches as pending rows (held for approval with ``hold``), keeping any row under the key.

    Rows go in key order, so that services planning the same cards at once (PostgreSQL) wait for one
    another on each key in turn and never deadlock.
    """
    added = 0
    # The card's key, with the customer's row id in place of the external id.
    for touch in sorted(touches, key=lambda t: (row_ids[t.customer_id], *t.key[1:])):
        # A check-in never expires: it stays pending until it is sent or cancelled.
        expires = None if touch.occasion is Occasion.CHECK_IN else touch.due_date + dt.timedelta(days=grace_days)
        stmt = insert_or_ignore(conn, outbox, OUTBOX_KEY).values(
            customer_id=row_ids[touch.customer_id],
            occasion=touch.occasion,
            occasion_date=touch.occasion_date,
            channel=touch.channel,
            due_date=touch.due_date,
            expires_on=expires,
            state=OutboxState.HELD if hold else OutboxState.PENDING,
            reason=touch.reason,
            attempts=0,
            last_error=AWAITING_APPROVAL if hold else "",
            server_reply="",
            created_at=now,
            updated_at=now,
        )
        added += insert_if_new(conn, stmt)
    return added


def customer_row_ids(conn: Connection, external_ids: Iterable[str]) -> dict[str, int]:
    """Return the row id of each of the given customers."""
    wanted = sorted(set(external_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        query = select(customers.c.external_id, customers.c.id).where(
            customers.c.external_id.in_(wanted[start : start + 500])
        )
        found.update({str(ext): int(rid) for ext, rid in conn.execute(query)})
    return found


def sending_claimants(conn: Connection) -> list[str]:
    """Return the services that hold rows in ``sending``."""
    query = select(outbox.c.claimed_by).where(outbox.c.state == OutboxState.SENDING, outbox.c.claimed_by.is_not(None))
    return sorted({str(worker) for worker in conn.execute(query.distinct()).scalars()})


def recover_abandoned(conn: Connection, now: dt.datetime, gone: Iterable[str] = ()) -> tuple[int, int]:
    """Settle rows left in ``sending`` by a crash; return how many became unknown and how many pending.

    A row is abandoned when its lease is over, or when the service that claimed it is known to be gone.
    Only a card whose SMTP transaction had begun may have reached the server: it becomes ``unknown`` and is
    never resent blindly.  The rest of the claim never left, and goes back to ``pending``.
    """
    abandoned = or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now, outbox.c.claimed_by.in_(list(gone)))
    released = {"claimed_by": None, "lease_until": None, "slot_at": None}
    sending = (OutboxState.SENDING,)
    why = "the service stopped while sending; the card may have gone out"
    began = outbox.c.smtp_started_at.is_not(None)
    unknown = move(conn, sending, OutboxState.UNKNOWN, now, abandoned, began, last_error=why, **released)
    never_began = outbox.c.smtp_started_at.is_(None)
    pending = move(conn, sending, OutboxState.PENDING, now, abandoned, never_began, **released)
    return unknown, pending


def expire_overdue(conn: Connection, today: dt.date, now: dt.datetime, office: str = DEFAULT_OFFICE) -> int:
    """Mark an office's pending email rows past their last day (on the office's own calendar) as failed."""
    past = and_(outbox.c.channel == Channel.EMAIL, outbox.c.expires_on < today, of_office(office))
    return move(conn, (OutboxState.PENDING,), OutboxState.FAILED, now, past, last_error="not sent before its last day")


def of_office(office: str) -> Any:
    """Return the condition that an outbox row is a card to a customer of an office."""
    return outbox.c.customer_id.in_(select(customers.c.id).where(customers.c.office == office))


def claim_due(
    conn: Connection,
    today: dt.date,
    now: dt.datetime,
    worker: str,
    lease: dt.timedelta,
    limit: int | None,
    office: str = DEFAULT_OFFICE,
) -> list[OutboxRow]:
    """Mark due pending email rows of an office ``sending`` under this worker's claim, and return them.

    Run in a short transaction of its own.  On PostgreSQL the rows are first selected ``FOR UPDATE SKIP
    LOCKED``, so services claiming at the same moment each get other rows and never wait for one another,
    then marked; on SQLite, one writer at a time, a single UPDATE ... RETURNING does both.
    """
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.state == OutboxState.PENDING,
            outbox.c.channel == Channel.EMAIL,
            outbox.c.due_date <= today,
            or_(outbox.c.expires_on.is_(None), outbox.c.expires_on >= today),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            of_office(office),
        )
        .order_by(outbox.c.due_date, outbox.c.id)
    )
    if limit is not None:
        due = due.limit(limit)
    mark = {"claimed_by": worker, "lease_until": now + lease, "slot_at": None, "smtp_started_at": None}
    pending = (OutboxState.PENDING,)
    if conn.dialect.name == "postgresql":
        ids = [int(row_id) for row_id in conn.execute(due.with_for_update(skip_locked=True)).scalars()]
        if not ids:
            return []
        move(conn, pending, OutboxState.SENDING, now, outbox.c.id.in_(ids), **mark)
        return _rows(conn, outbox.c.id.in_(ids))
    claimed = conn.execute(
        moving(pending, OutboxState.SENDING, now, outbox.c.id.in_(due.scalar_subquery()), **mark).returning(outbox.c.id)
    )
    ids = [int(row_id) for row_id in claimed.scalars()]
    return _rows(conn, outbox.c.id.in_(ids)) if ids else []


def _claimed(row: int, worker: str) -> Any:
    return and_(outbox.c.id == row, outbox.c.claimed_by == worker, outbox.c.state == OutboxState.SENDING)


def finish(
    conn: Connection, row: int, worker: str, now: dt.datetime, *, state: OutboxState | str, **values: Any
) -> bool:
    """Settle a claimed row in a state, with what happened; return False when the claim was lost."""
    released = {"claimed_by": None, "lease_until": None, "slot_at": None}
    mine = and_(outbox.c.id == row, outbox.c.claimed_by == worker)
    return bool(move(conn, (OutboxState.SENDING,), OutboxState(state), now, mine, **(released | values)))


PACE = "email"


def take_slot(
    conn: Connection, row: int, worker: str, now: dt.datetime, interval: dt.timedelta, per_day: int
) -> dt.datetime | None:
    """Give a claimed card the mail account's next free moment to go out, or None when today's limit is used.

    Every process sending through the account takes its slots from the one ``send_pace`` row, whose lock
    (taken by the first statement) makes the reading and the writing one step, so any number of them keep
    ``rate_per_minute`` together.  The day's count is the mail sent in the last 24 hours plus the cards
    holding a slot now, whoever sends them.  A slot that is already due marks the card's SMTP transaction
    as begun in the same commit.
    """
    next_slot = _locked_pace(conn)
    if next_slot is None:  # the first card ever sent from this database
        conn.execute(insert_or_ignore(conn, send_pace, ("name",)).values(name=PACE, next_slot_at=now))
        next_slot = _locked_pace(conn)
        assert next_slot is not None
    if emails_used_today(conn, now) >= per_day:
        return None
    slot: dt.datetime = max(now, next_slot)
    conn.execute(send_pace.update().where(send_pace.c.name == PACE).values(next_slot_at=slot + interval))
    marks: dict[str, Any] = {"slot_at": slot}
    if slot <= now:
        marks["smtp_started_at"] = now
    conn.execute(outbox.update().where(_claimed(row, worker)).values(**marks))
    return slot


def _locked_pace(conn: Connection) -> dt.datetime | None:
    """Lock the pace row for the rest of the transaction and return its next free slot (None: no row yet)."""
    lock_row(conn, send_pace, send_pace.c.name == PACE)
    found: dt.datetime | None = conn.execute(select(send_pace.c.next_slot_at).where(send_pace.c.name == PACE)).scalar()
    return found


def transaction_began(conn: Connection, row: int) -> bool:
    """Return whether a card's SMTP transaction was recorded as begun."""
    query = select(outbox.c.smtp_started_at).where(outbox.c.id == row)
    return conn.execute(query).scalar() is not None


def emails_used_today(conn: Connection, now: dt.datetime) -> int:
    """Return the day's count of the mail account's limit: the email sent in the last 24 hours, and the cards
    holding a slot now, whoever sends them."""
    day_and_flight = or_(
        and_(
            outbox.c.state == OutboxState.SENT,
            outbox.c.channel == Channel.EMAIL,
            outbox.c.sent_at >= now - dt.timedelta(days=1),
        ),
        and_(outbox.c.state == OutboxState.SENDING, outbox.c.slot_at.is_not(None)),
    )
    return int(conn.execute(select(func.count()).where(day_and_flight)).scalar() or 0)


def mark_started(conn: Connection, row: int, worker: str, now: dt.datetime) -> bool:
    """Record that a claimed card's SMTP transaction begins now (committed before MAIL FROM)."""
    stmt = outbox.update().where(_claimed(row, worker)).values(smtp_started_at=now)
    return bool(conn.execute(stmt).rowcount)


def mark_sent(
    conn: Connection,
    claimed: OutboxRow,
    worker: str,
    now: dt.datetime,
    office_now: dt.datetime,
    *,
    message_id: str,
    reply: str,
    content_hash: str,
    variant: str,
    summary: str,
    note: str,
) -> bool:
    """Record a card as sent, with its contact event (the 70-day clock restarts) and its note used up."""
    done = finish(
        conn,
        claimed.row,
        worker,
        now,
        state=OutboxState.SENT,
        sent_at=now,
        attempts=claimed.attempts + 1,
        message_id=message_id,
        server_reply=reply,
        content_hash=content_hash,
        variant=variant,
        last_error="",
    )
    if not done:
        return False
    event = ContactEvent(claimed.customer_id, office_now, EventKind.CARD, summary, source=EventSource.CARD)
    add_event(conn, claimed.customer_row, event, now)
    if note:
        use_note(conn, claimed.customer_row, claimed.occasion, claimed.row, now)
    return True


def mark_bouncing(conn: Connection, customer_row: int, now: dt.datetime) -> None:
    """Stop email to a customer's address until it is changed."""
    conn.execute(customers.update().where(customers.c.id == customer_row).values(email_bouncing=True, updated_at=now))


def list_rows(conn: Connection, states: Iterable[str] | None = None, office: str | None = None) -> list[OutboxRow]:
    """Return outbox rows, by due date, in the given states (all when None), of one office (all when None)."""
    where: list[Any] = [] if states is None else [outbox.c.state.in_(list(states))]
    if office is not None:
        where.append(customers.c.office == office)
    return _rows(conn, *where)


def get_row(conn: Connection, row: int) -> OutboxRow | None:
    """Return one outbox row, or None."""
    found = _rows(conn, outbox.c.id == row)
    return found[0] if found else None


def move_row(
    conn: Connection,
    row: int,
    sources: Iterable[OutboxState],
    target: OutboxState,
    now: dt.datetime,
    **values: Any,
) -> bool:
    """Move one row that is in one of ``sources`` to ``target``; return whether it was in one of them."""
    return bool(move(conn, sources, target, now, outbox.c.id == row, **values))


def set_state(
    conn: Connection, row: int, from_states: Iterable[str], now: dt.datetime, *, state: str, **values: Any
) -> bool:
    """Change a row that is in one of ``from_states`` to ``state`` (words or members); return whether it was."""
    sources = [OutboxState(source) for source in from_states]
    return move_row(conn, row, sources, OutboxState(state), now, **values)


def count_sent_since(conn: Connection, since: dt.datetime) -> int:
    """Return how many emails were sent since a moment (for the rate limits)."""
    query = select(func.count()).where(
        outbox.c.state == OutboxState.SENT, outbox.c.channel == Channel.EMAIL, outbox.c.sent_at >= since
    )
    return int(conn.execute(query).scalar() or 0)


def bounce_address(
    conn: Connection, address: str, message_id: str | None, why: str, now: dt.datetime, mark: bool = True
) -> tuple[list[str], int]:
    """Fail the card an address bounced and (with ``mark``) mark the address bouncing on every customer who has
    it; return the customers who have it and how many cards failed."""
    holders = conn.execute(
        select(customers.c.id, customers.c.external_id).where(func.lower(customers.c.email) == address.lower())
    ).all()
    for row_id, _ in holders if mark else ():
        mark_bouncing(conn, int(row_id), now)
    failed = 0
    if message_id:
        went = (OutboxState.SENT, OutboxState.UNKNOWN)
        failed = move(conn, went, OutboxState.FAILED, now, outbox.c.message_id == message_id, last_error=why)
    return [str(external_id) for _, external_id in holders], failed


def printable_rows(conn: Connection, last: dt.date, today: dt.date, office: str = DEFAULT_OFFICE) -> list[OutboxRow]:
    """Return an office's pending post cards to mail by ``last`` that are still worth mailing."""
    return _rows(
        conn,
        customers.c.office == office,
        outbox.c.state == OutboxState.PENDING,
        outbox.c.channel == Channel.POST,
        outbox.c.due_date <= last,
        or_(outbox.c.expires_on.is_(None), outbox.c.expires_on >= today),
    )


def printed_between(conn: Connection, first: dt.date, last: dt.date, office: str = DEFAULT_OFFICE) -> list[OutboxRow]:
    """Return an office's post cards already printed or mailed whose mail-by date falls in a window."""
    return _rows(
        conn,
        customers.c.office == office,
        outbox.c.channel == Channel.POST,
        outbox.c.state.in_((OutboxState.PRINTED, OutboxState.MAILED)),
        outbox.c.due_date >= first,
        outbox.c.due_date <= last,
    )


def next_batch_id(conn: Connection, today: dt.date) -> str:
    """Return a new batch id for today: 2026-11-28-1, then -2..."""
    prefix = today.isoformat()
    used = conn.execute(select(outbox.c.batch).where(outbox.c.batch.like(f"{prefix}-%")).distinct()).scalars()
    numbers = [int(str(b).rsplit("-", 1)[1]) for b in used if str(b).rsplit("-", 1)[1].isdigit()]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def mark_printed(conn: Connection, row: int, batch: str, variant: str, now: dt.datetime) -> bool:
    """Record a pending post card as printed in a batch."""
    return move_row(conn, row, (OutboxState.PENDING,), OutboxState.PRINTED, now, batch=batch, variant=variant)


def rows_of_batch(conn: Connection, batch: str) -> list[OutboxRow]:
    """Return the cards of a print batch, in the order they were printed."""
    return _rows(conn, outbox.c.batch == batch)


def printed_batches(conn: Connection) -> list[tuple[str, int]]:
    """Return the batches with cards printed but not yet marked mailed, and how many."""
    query = (
        select(outbox.c.batch, func.count())
        .where(outbox.c.state == OutboxState.PRINTED, outbox.c.batch.is_not(None))
        .group_by(outbox.c.batch)
        .order_by(outbox.c.batch)
    )
    return [(str(batch), int(count)) for batch, count in conn.execute(query)]


def count_by_state(conn: Connection) -> dict[str, int]:
    """Return how many rows are in each state."""
    query = select(outbox.c.state, func.count()).group_by(outbox.c.state).order_by(outbox.c.state)
    return {OutboxState(state): int(count) for state, count in conn.execute(query)}


def count_awaiting_approval(conn: Connection, office: str = DEFAULT_OFFICE) -> int:
    """Return how many of an office's cards are held until someone approves them."""
    query = select(func.count()).where(
        outbox.c.state == OutboxState.HELD, outbox.c.last_error == AWAITING_APPROVAL, of_office(office)
    )
    return int(conn.execute(query).scalar() or 0)


def approve(
    conn: Connection, rows: Iterable[int] | None, due_by: dt.date, now: dt.datetime, office: str = DEFAULT_OFFICE
) -> int:
    """Release cards held for approval (the given rows, or all of an office due by a day) to go out; return
    how many."""
    waiting = outbox.c.last_error == AWAITING_APPROVAL
    chosen = outbox.c.id.in_(list(rows)) if rows is not None else (outbox.c.due_date <= due_by) & of_office(office)
    return move(conn, (OutboxState.HELD,), OutboxState.PENDING, now, waiting, chosen, last_error="approved")


def release_held(conn: Connection, customer_row_id: int, occasion: str | None, now: dt.datetime) -> int:
    """Put a customer's cards held for review (of ``occasion``, or all) back to pending; return how many."""
    theirs = outbox.c.customer_id == customer_row_id
    if occasion is not None:
        theirs &= outbox.c.occasion == Wording(occasion).occasion
    return move(conn, (OutboxState.HELD,), OutboxState.PENDING, now, theirs)

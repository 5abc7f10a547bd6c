"""The outbox as staff see it: what went out, what is stuck, and settling a card whose fate is unknown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cardsender.config.model import Config
from cardsender.domain.errors import InputError, NotFoundError
from cardsender.domain.occasions import occasion_label
from cardsender.domain.records import DEFAULT_OFFICE, RESOLUTIONS, SKIPPED_BY_STAFF, ContactEvent
from cardsender.domain.vocabulary import (
    WAITING_STATES,
    Channel,
    EventKind,
    EventSource,
    Occasion,
    OutboxState,
    Resolution,
)
from cardsender.sending.bounces import BounceScan
from cardsender.store import Store
from cardsender.store import lease as leases
from cardsender.store import outbox as queries
from cardsender.store.customers import add_event
from cardsender.store.lease import Lease

# What staff must look at: cards whose fate is unknown, that failed, or are held for review,
# and pending ones that the server would not take (their last error says why).
ATTENTION_STATES = (OutboxState.UNKNOWN, OutboxState.FAILED, OutboxState.HELD)


def list_outbox(store: Store, states: Iterable[str] | None = None) -> list[queries.OutboxRow]:
    """Return the outbox rows in the given states (all when None), by due date."""
    wanted = list(states) if states is not None else None
    unknown = sorted(set(wanted or ()) - set(queries.STATES))
    if unknown:
        raise InputError(f"'{unknown[0]}' is not an outbox state; use one of: {', '.join(queries.STATES)}")
    with store.begin() as conn:
        return queries.list_rows(conn, wanted)


def needs_attention(store: Store) -> list[queries.OutboxRow]:
    """Return the rows staff should look at: unknown, failed, held, and pending ones with an error."""
    with store.begin() as conn:
        rows = queries.list_rows(conn, (*ATTENTION_STATES, OutboxState.PENDING))
    return [row for row in rows if row.state is not OutboxState.PENDING or row.last_error]


def resolve(store: Store, row_id: int, action: str, *, now: dt.datetime, office_now: dt.datetime) -> queries.OutboxRow:
    """Settle an unknown card: it was ``sent`` (it counts as a contact), ``resend`` it, or ``cancel`` it."""
    if action not in RESOLUTIONS:
        raise InputError(f"'{action}' is not a way to resolve a card; use one of: {', '.join(RESOLUTIONS)}")
    with store.begin() as conn:
        row = queries.get_row(conn, row_id)
        if row is None:
            raise NotFoundError(f"no outbox row {row_id}; see 'cardsender status' or 'cardsender outbox'")
        if row.state is not OutboxState.UNKNOWN:
            raise InputError(
                f"row {row_id} is {row.state}, not unknown; only a card whose fate is unknown is resolved by hand"
            )
        unknown = (OutboxState.UNKNOWN,)
        if action == Resolution.SENT:
            queries.move_row(conn, row_id, unknown, OutboxState.SENT, now, sent_at=now, last_error="")
            summary = f"{occasion_label(row.occasion)} card by email (confirmed sent by staff)"
            event = ContactEvent(row.customer_id, office_now, EventKind.CARD, summary, EventSource.CARD)
            add_event(conn, row.customer_row, event, now)
        elif action == Resolution.RESEND:
            queries.move_row(conn, row_id, unknown, OutboxState.PENDING, now, next_attempt_at=None, last_error="")
        else:
            queries.move_row(conn, row_id, unknown, OutboxState.CANCELLED, now, reason="cancelled by staff")
        updated = queries.get_row(conn, row_id)
    assert updated is not None
    return updated


@dataclass(frozen=True, slots=True)
class BouncesApplied:
    """What reading bounces changed: customers whose address bounces, and cards now failed."""

    scan: BounceScan
    customers: tuple[str, ...]
    unknown_addresses: tuple[str, ...]
    cards_failed: int


def apply_bounces(store: Store, scan: BounceScan, now: dt.datetime) -> BouncesApplied:
    """Fail the cards that bounced, and mark their addresses bouncing (no more email to them) when the report
    blames the mailbox or domain (5.1.x, or a 550, 551 or 553 reply), never for a policy refusal (5.7.x)."""
    from cardsender.sending.transport import blames_address, enhanced_status

    found: list[str] = []
    unknown: list[str] = []
    failed = 0
    with store.begin() as conn:
        for bounce in scan.bounces:
            why = f"bounced: {bounce.status} {bounce.diagnostic}".strip()
            reply = _DIAGNOSTIC_CODE.match(bounce.diagnostic)
            mark = blames_address(int(reply[1]) if reply else None, enhanced_status(bounce.status))
            holders, count = queries.bounce_address(conn, bounce.address, bounce.original_message_id, why, now, mark)
            failed += count
            if holders:
                found += [h for h in holders if mark and h not in found]
            elif bounce.address not in unknown:
                unknown.append(bounce.address)
    return BouncesApplied(scan, tuple(found), tuple(unknown), failed)


# The server's reply in a report's Diagnostic-Code, as bounces.py keeps it: "550 5.1.1 User unknown".
_DIAGNOSTIC_CODE = re.compile(r"^\s*(\d{3})\b")


def late_check_ins(store: Store, config: Config, today: dt.date, now: dt.datetime) -> int:
    """Return how many due check-ins the daily rate limit would send after their customer's day 70.

    Due email rows go out in due-date order, rate_per_day a day (less what went out in the
    last 24 hours today); a check-in's day 70 is check_in_lead_days after its occasion date.
    """
    per_day = config.email.rate_per_day
    with store.begin() as conn:
        due = [
            r
            for r in queries.list_rows(conn, (OutboxState.PENDING,))
            if r.channel == Channel.EMAIL and r.due_date <= today
        ]
        left_today = max(per_day - queries.count_sent_since(conn, now - dt.timedelta(days=1)), 0)
    late = 0
    for position, row in enumerate(due):
        if row.occasion != Occasion.CHECK_IN:
            continue
        goes_out = today if position < left_today else today + dt.timedelta(days=1 + (position - left_today) // per_day)
        if goes_out > row.occasion_date + dt.timedelta(days=config.keep_in_touch.check_in_lead_days):
            late += 1
    return late


def awaiting_approval(store: Store, office: str = DEFAULT_OFFICE) -> int:
    """Return how many of an office's cards wait for someone to approve them."""
    with store.begin() as conn:
        return queries.count_awaiting_approval(conn, office)


def unposted_batches(store: Store) -> list[tuple[str, int]]:
    """Return the print batches with cards printed but not yet marked mailed."""
    with store.begin() as conn:
        return queries.printed_batches(conn)


def state_counts(store: Store) -> dict[str, int]:
    """Return how many outbox cards are in each state."""
    with store.begin() as conn:
        return queries.count_by_state(conn)


def service_leases(store: Store) -> list[Lease]:
    """Return the services' leases (several on PostgreSQL), the one heard from last first: who runs each, its
    heartbeat, last cycle and next run."""
    with store.begin() as conn:
        return leases.services(conn)


def approve(
    store: Store, rows: Iterable[int] | None, *, due_by: dt.date, now: dt.datetime, office: str = DEFAULT_OFFICE
) -> int:
    """Approve cards held for approval: the given rows, or (None) every one of an office due by a day."""
    with store.begin() as conn:
        if rows is not None:
            for row_id in rows:
                found = queries.get_row(conn, row_id)
                if (
                    found is None
                    or found.state is not OutboxState.HELD
                    or found.last_error != queries.AWAITING_APPROVAL
                ):
                    raise InputError(f"row {row_id} is not a card waiting for approval; see 'cardsender status'")
        return queries.approve(conn, rows, due_by, now, office)


def skip(store: Store, row_id: int, *, now: dt.datetime) -> queries.OutboxRow:
    """Cancel a card waiting in the outbox (pending or held) so it never goes out."""
    with store.begin() as conn:
        skipped = queries.move_row(conn, row_id, WAITING_STATES, OutboxState.CANCELLED, now, reason=SKIPPED_BY_STAFF)
        if not skipped:
            raise InputError(f"row {row_id} is not a card waiting to go out; see 'cardsender outbox'")
        row = queries.get_row(conn, row_id)
    assert row is not None
    return row

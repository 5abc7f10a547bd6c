"""The owner's morning digest: one message a day with everything that needs a person.

Today's call list (who, why, last purchase, owner), the posted cards to print and
mail, cards held for review or approval, unknown and failed sends, printed batches
not yet marked mailed, the last server problem, and the coverage figure.  One digest
a day, recorded in the database, never one email per customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from cardsender.config.model import Config
from cardsender.domain.occasions import occasion_label
from cardsender.domain.records import name_and_id
from cardsender.domain.vocabulary import Channel, EventKind, OutboxState
from cardsender.planning import agenda
from cardsender.sending import message as outgoing
from cardsender.sending.message import OutgoingMessage, mail_address
from cardsender.store import Store
from cardsender.store import customers as customer_queries
from cardsender.store import lease as leases
from cardsender.store import outbox as queries
from cardsender.store.dialect import insert_if_new, insert_or_ignore
from cardsender.store.schema import contact_events, customers, digests

# A posted card past its mail-by date: it still goes today, and reaches the customer after their day.
LATE = ", LATE: its mail-by date has passed, so mail it today"
# The cards someone must look at, by the heading of their list, in the digest's order.
ATTENTION = {
    OutboxState.HELD: "Held for review or approval",
    OutboxState.UNKNOWN: "Fate unknown",
    OutboxState.FAILED: "Failed",
}


@dataclass(frozen=True, slots=True)
class Digest:
    """The digest of one office's day: its subject and text."""

    day: dt.date
    subject: str
    text: str
    office: str = "main"


def _last_purchases(store: Store, ids: list[str]) -> dict[str, str]:
    """Return each customer's last purchase, as "item (date)"."""
    found: dict[str, str] = {}
    with store.begin() as conn:
        query = (
            select(customers.c.external_id, contact_events.c.occurred_at, contact_events.c.summary)
            .join(customers, customers.c.id == contact_events.c.customer_id)
            .where(contact_events.c.kind == EventKind.PURCHASE, customers.c.external_id.in_(ids))
            .order_by(contact_events.c.occurred_at)
        )
        for external_id, occurred_at, summary in conn.execute(query):
            found[str(external_id)] = f"{summary or 'a purchase'} ({occurred_at:%Y-%m-%d})"
    return found


def _coverage_details(report: agenda.CoverageReport, limit: int) -> list[str]:
    """Return what the coverage figure is of, the customers never contacted, and the cards sent this month."""
    lines = []
    if report.contactable:
        parts = [f"{report.touched_within_limit} heard from us within {limit} days"]
        if report.contacted_over_limit:
            parts.append(f"{report.contacted_over_limit} last heard from us longer ago")
        if report.never_contacted:
            parts.append(f"{report.never_contacted} never contacted yet{report.first_cards_text()}")
        lines.append(f"Of the {report.contactable} customers cards can reach: {'; '.join(parts)}.")
    month = ", ".join(f"{n} {occasion_label(o).lower()}" for o, n in report.cards_this_month.items()) or "none"
    lines.append(f"Cards this month: {month} ({sum(report.cards_this_year.values())} this year).")
    return lines


def compose(store: Store, config: Config, today: dt.date) -> Digest:
    """Write the digest for a day."""
    calls = agenda.call_list(store, config, today)
    report = agenda.coverage_report(store, config, today)
    # One planning pass gives both today's posted cards and the ones missed (past their grace days).
    touches = agenda.plan_touches(store, config, today, explain=True)
    posted = [t for t in touches if t.suppressed_reason is None and t.channel is Channel.POST]
    missed = [t for t in touches if (t.suppressed_reason or "").startswith("missed")]
    with store.begin() as conn:
        waiting = queries.list_rows(conn, ATTENTION, config.office.key)
        unposted = queries.printed_batches(conn)
        running = leases.services(conn)
        names = customer_queries.display_names(
            conn,
            [
                *(c.customer_id for c in calls),
                *(t.customer_id for t in (*posted, *missed)),
                *(r.customer_id for r in waiting),
            ],
        )
    purchases = _last_purchases(store, [c.customer_id for c in calls])
    kit = config.keep_in_touch
    lines = [f"Good morning! Here is {config.office.name} on {today:%A, %B} {today.day}, {today.year}.", ""]
    lines.append(
        f"Coverage: {report.coverage_percent}% of customers heard from us in the last {kit.max_gap_days} days "
        f"({report.touched_within_limit} of {report.contactable})."
    )
    lines += _coverage_details(report, kit.max_gap_days)
    lines += ["", f"Call today ({len(calls)}):"]
    for entry in calls:
        why = (
            "card held for review"
            if entry.card_held
            else "card failed"
            if entry.card_failed
            else f"{entry.days_since_contact} days since the last contact"
        )
        overdue = ", OVERDUE" if entry.overdue else ""
        bought = f"; last purchase {purchases[entry.customer_id]}" if entry.customer_id in purchases else ""
        lines.append(
            f"- {name_and_id(entry.name, entry.customer_id)}, {entry.owner or 'no owner'}: {why}{overdue}{bought}"
        )
    lines += ["", f"Posted cards to print and mail today ({len(posted)}):"]
    lines += [
        f"- {name_and_id(names.get(t.customer_id, ''), t.customer_id)}: {occasion_label(t.occasion)}, "
        f"arrives {t.arrives.isoformat()}{LATE if t.late else ''}"
        for t in posted
    ]
    if posted:
        lines.append("  Print them with: cardsender print")
    for state, title in ATTENTION.items():
        rows = [r for r in waiting if r.state == state]
        if rows:
            lines += ["", f"{title} ({len(rows)}):"]
            lines += [
                f"- row {r.row}: {name_and_id(r.customer_name or names.get(r.customer_id, ''), r.customer_id)}, "
                f"{occasion_label(r.occasion)}: {r.last_error}"
                for r in rows
            ]
    if missed:
        lines += ["", f"Missed, past their grace days ({len(missed)}):"]
        lines += [
            f"- {name_and_id(names.get(t.customer_id, ''), t.customer_id)}: {occasion_label(t.occasion)} of "
            f"{t.occasion_date.isoformat()} by {t.channel}"
            for t in missed
        ]
    if unposted:
        lines += ["", "Printed, not yet marked mailed:"]
        lines += [f"- batch {batch}: {count} cards (cardsender mark-mailed {batch})" for batch, count in unposted]
    problems = [lease.last_cycle.split("stopped:", 1)[1].strip() for lease in running if "stopped:" in lease.last_cycle]
    if problems:
        lines += ["", f"Server problem in the last run: {problems[0]}"]
    subject = (
        f"{config.office.name}: {len(calls)} to call, {len(posted)} cards to post, {report.coverage_percent}% covered"
    )
    return Digest(today, subject, "\n".join(lines) + "\n", config.office.key)


def message_of(digest: Digest, config: Config, now: dt.datetime) -> OutgoingMessage:
    """Return the digest as an email to the office."""
    office = config.office
    sender = mail_address(office.from_address, "office's from_address")
    to = mail_address(office.reply_to, "office's reply_to") if office.reply_to else sender
    return outgoing.compose(
        sender_name="cardsender",
        sender=sender,
        recipient_name="",
        recipient=to,
        subject=digest.subject,
        text=digest.text,
        html=None,
        now=now,
    )


def already_sent(store: Store, office: str, day: dt.date) -> bool:
    """Return whether an office's digest of a day went out."""
    with store.begin() as conn:
        query = select(digests.c.day).where(digests.c.office == office, digests.c.day == day)
        return conn.execute(query).first() is not None


def record(store: Store, digest: Digest, now: dt.datetime) -> bool:
    """Record that an office's digest of a day went out; return False when it already had."""
    with store.begin() as conn:
        stmt = insert_or_ignore(conn, digests, ("office", "day")).values(
            office=digest.office, day=digest.day, sent_at=now, summary=digest.subject
        )
        return insert_if_new(conn, stmt)

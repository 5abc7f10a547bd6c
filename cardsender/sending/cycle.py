"""The send cycle shared by ``cardsender send`` and the service: plan, claim, check again, render, send, record.

Every step that matters is committed before the next one talks to the outside:
due rows are claimed (``sending``) before the server is contacted, and each
result is recorded as soon as the server has answered.  A crash therefore leaves
at most the rows in ``sending``, which the next cycle turns into ``unknown``: a
card is never sent twice by the machine, and never silently lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Connection

from cardsender.cards import context as cards
from cardsender.cards.render import TemplateError
from cardsender.config.model import Config
from cardsender.domain.customer_file import CustomerFile
from cardsender.domain.errors import InputError, NotFoundError
from cardsender.domain.occasions import occasion_label
from cardsender.domain.vocabulary import Channel, Delivery, DryRun, Occasion, OutboxState, Preparation
from cardsender.planning import agenda
from cardsender.planning.facts import load_facts
from cardsender.planning.planner import CustomerFacts, plan_customer
from cardsender.sending.message import OutgoingMessage, build_email
from cardsender.sending.transport import FileTransport, Outcome, ServerError, Transport
from cardsender.store import Store
from cardsender.store import outbox as queries
from cardsender.store.customers import load_files
from cardsender.system.clock import Clock
from cardsender.system.processes import worker_is_gone, worker_name

__all__ = ["CardResult", "CycleReport", "SendCycle", "worker_is_gone", "worker_name"]

log = logging.getLogger("cardsender")
# How long a claim lasts before another cycle may take the row for lost (it then becomes unknown).
LEASE = dt.timedelta(minutes=30)
# Rows claimed at a time: services sharing an office's sending each take a batch, then come back for more.
CLAIM_BATCH = 20
# Waits before retrying a temporary failure: 15 minutes, doubling, at most 6 hours.
FIRST_RETRY = dt.timedelta(minutes=15)
LONGEST_RETRY = dt.timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class CardResult:
    """What one due card came to in a cycle."""

    row: int
    customer_id: str
    occasion: Occasion
    # The state the card's row ended in (sent, pending to retry, failed, unknown, held, cancelled), or in a
    # dry run what would become of it.
    state: OutboxState | DryRun
    detail: str


@dataclass(slots=True)
class CycleReport:
    """What a send cycle did."""

    dry_run: bool
    planned: int = 0
    recovered: int = 0  # left sending by a crash while their SMTP transaction was under way: now unknown
    returned: int = 0  # left sending by a crash before their transaction began: back to pending
    expired: int = 0
    results: list[CardResult] = field(default_factory=list)
    stopped: str | None = None
    folder: Path | None = None

    def count(self, state: OutboxState | DryRun) -> int:
        """Return how many cards ended in a state."""
        return sum(1 for result in self.results if result.state == state)


def retry_after(attempts: int) -> dt.timedelta:
    """Return the wait before the next attempt, doubling with each failure."""
    return min(FIRST_RETRY * (1 << max(attempts - 1, 0)), LONGEST_RETRY)


def content_hash(text: str, html: str) -> str:
    """Return a hash of a card's content, kept with the row to show what went out."""
    return hashlib.sha256(f"{text}\0{html}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A claimed row's message, or why it is not sent."""

    message: OutgoingMessage | None
    state: Preparation
    detail: str
    variant: str = ""
    note: str = ""
    hash: str = ""
    summary: str = ""


class SendCycle:
    """One run of the send cycle for a day."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Clock,
        worker: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.config = config
        # The office's day and time are one moment of the clock; only the pacing reads the live time.
        moment = clock.moment(config.office.timezone)
        self.today = moment.today
        self.now = clock.now
        self.office_now = moment.office_now
        self.worker = worker
        self.sleep = sleep
        self.templates = cards.card_templates(config)

    def plan(self, report: CycleReport) -> None:
        """Recover rows a crash left in sending, expire old ones, and add today's email cards to the outbox."""
        touches = [t for t in agenda.plan_touches(self.store, self.config, self.today) if t.channel is Channel.EMAIL]
        with self.store.begin() as conn:
            now = self.now()
            self._recover(conn, now, report)
            report.expired = queries.expire_overdue(conn, self.today, now, self.config.office.key)
            ids = queries.customer_row_ids(conn, (t.customer_id for t in touches))
            report.planned = queries.record_touches(
                conn, touches, ids, self.config.occasions.grace_days, now, hold=self.config.email.require_approval
            )

    def run(
        self,
        transport: Transport,
        limit: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        plan: bool = True,
        planned: Callable[[], None] = lambda: None,
    ) -> CycleReport:
        """Plan (unless another service does), then send what is due over one connection, a claimed batch at a
        time, recording each result as it comes, until nothing is due.

        ``should_stop`` is asked before each card: when it says so, the cards not yet sent go back to pending.
        ``planned`` is called once the plan is in the outbox, before the sending starts.  Whatever one card
        does, it settles that card only: the run goes on with the others.
        """
        report = CycleReport(dry_run=False)
        if plan:
            self.plan(report)
            planned()
        left = limit
        opened = False
        try:
            while left is None or left > 0:
                allowed = self._daily_allowance()
                if allowed <= 0:
                    report.stopped = self._limit_reached()
                    break
                claimed = self._claim(report, min(CLAIM_BATCH, allowed, CLAIM_BATCH if left is None else left))
                if not claimed:
                    break
                if left is not None:
                    left -= len(claimed)
                if not opened:
                    try:
                        transport.open()
                    except ServerError as exc:
                        self._release(claimed, f"not sent: {exc}")
                        report.stopped = str(exc)
                        break
                    opened = True
                self._send_batch(claimed, transport, report, should_stop)
                if report.stopped:
                    break
        finally:
            if opened:
                transport.close()
        return report

    def _send_batch(
        self,
        claimed: list[queries.OutboxRow],
        transport: Transport,
        report: CycleReport,
        should_stop: Callable[[], bool],
    ) -> None:
        """Send a claimed batch card by card; whatever stops it puts the cards not yet begun back to pending.

        The batch's customers are read once, and every card of it is checked and made from that read.
        """
        files, still_due = self._read_batch(claimed)
        done = 0
        why = ""  # why the cards left over did not go, kept on them for status
        settled: set[int] = set()  # the customers a card of this batch has already gone to (or tried to)
        try:
            for row in claimed:
                if should_stop():
                    report.stopped, why = "stopped by request", "not sent: the service was stopping"
                    return
                if row.customer_row in settled:
                    # A card of this batch was settled for the customer: it used up their note and wording.
                    files.update(self._read_files([row.customer_row]))
                settled.add(row.customer_row)
                try:
                    report.results.append(self._send_one(row, files.get(row.customer_row), still_due, transport))
                except _LimitReached:
                    report.stopped = self._limit_reached()  # the rest simply waits for tomorrow
                    return
                except ServerError as exc:  # refused before the data: this card did not go either
                    report.stopped, why = str(exc), f"not sent: {exc}"
                    return
                except Exception as exc:  # one card's surprise never strands the others
                    log.exception("card %s (%s) could not be sent", row.row, row.customer_id)
                    report.results.append(self._settle_after_error(row, exc))
                done += 1
        finally:
            self._release(claimed[done:], why)

    def _limit_reached(self) -> str:
        return f"the daily limit of {self.config.email.rate_per_day} emails is reached"

    def _claim(self, report: CycleReport, size: int) -> list[queries.OutboxRow]:
        """Claim the next batch of this office's due cards, first settling rows abandoned by a crash."""
        with self.store.begin() as conn:
            now = self.now()
            self._recover(conn, now, report)
            return queries.claim_due(conn, self.today, now, self.worker, LEASE, size, self.config.office.key)

    @staticmethod
    def _recover(conn: Connection, now: dt.datetime, report: CycleReport) -> None:
        """Settle rows in sending whose claim ran out, or whose service on this machine is gone: unknown when
        their SMTP transaction had begun, else back to pending."""
        gone = [worker for worker in queries.sending_claimants(conn) if worker_is_gone(worker)]
        unknown, pending = queries.recover_abandoned(conn, now, gone)
        report.recovered += unknown
        report.returned += pending

    def dry_run(self, folder: Path, limit: int | None = None) -> CycleReport:
        """Render what would be sent today into a folder of .eml files; the outbox is not changed."""
        report = CycleReport(dry_run=True, folder=folder)
        touches = [t for t in agenda.plan_touches(self.store, self.config, self.today) if t.channel is Channel.EMAIL]
        with self.store.begin() as conn:
            ids = queries.customer_row_ids(conn, (t.customer_id for t in touches[:limit]))
            files = load_files(conn, ids.values())
        writer = FileTransport(folder)
        writer.open()
        for touch in touches[:limit]:
            file = files.get(ids.get(touch.customer_id, -1))
            prepared = self._prepare(touch.customer_id, file, touch.occasion, touch.occasion_date)
            if prepared.state is Preparation.SEND:
                assert prepared.message is not None
                writer.send(prepared.message)
                report.results.append(
                    CardResult(0, touch.customer_id, touch.occasion, DryRun.WOULD_SEND, prepared.detail)
                )
            else:
                report.results.append(
                    CardResult(0, touch.customer_id, touch.occasion, DryRun.WOULD_HOLD, prepared.detail)
                )
        return report

    def _daily_allowance(self) -> int:
        with self.store.begin() as conn:
            return self.config.email.rate_per_day - queries.emails_used_today(conn, self.now())

    def _read_batch(self, claimed: list[queries.OutboxRow]) -> tuple[dict[int, CustomerFile], dict[int, str | None]]:
        """Read the files of a claimed batch's customers, and check each row against the planner, in one read."""
        rows = {row.customer_row for row in claimed}
        with self.store.begin() as conn:
            files = load_files(conn, rows)
            facts = {f.customer_id: f for f in load_facts(conn, self.config, self.today, customer_rows=rows)}
        return files, self._still_due(claimed, facts)

    def _read_files(self, customer_rows: list[int]) -> dict[int, CustomerFile]:
        with self.store.begin() as conn:
            return load_files(conn, customer_rows)

    def _still_due(self, claimed: list[queries.OutboxRow], facts: dict[str, CustomerFacts]) -> dict[int, str | None]:
        """Check each claimed row against the planner as of now: None when still due, else why not."""
        verdicts: dict[int, str | None] = {}
        for row in claimed:
            customer = facts.get(row.customer_id)
            if customer is None:
                verdicts[row.row] = "the customer is no longer in the database"
                continue
            key = row.key
            # Plan as if this card were still pending: the planner then keeps it only if it is still wanted.
            open_cards = tuple(
                replace(card, state=OutboxState.PENDING) if card.key == key else card for card in customer.cards
            )
            schedule = plan_customer(replace(customer, cards=open_cards), self.today, self.config)
            if any(t.key == key for t in schedule.due(self.today)):
                verdicts[row.row] = None
            else:
                why = [t.suppressed_reason for t in schedule.suppressed if t.key == key and t.suppressed_reason]
                verdicts[row.row] = why[0] if why else "no longer needed: a newer contact or card came first"
        return verdicts

    def _prepare(self, customer_id: str, file: CustomerFile | None, occasion: str, occasion_date: dt.date) -> _Prepared:
        """Render a card's message from the customer's file, or say why it is held."""
        if file is None:  # deleted after the batch was planned or claimed
            raise NotFoundError(f"no customer with id '{customer_id}'; see 'cardsender customers list'")
        try:
            composed = cards.compose_card(
                file, self.templates, self.config, occasion, occasion_date, self.today, "email"
            )
        except TemplateError as exc:
            return _Prepared(None, Preparation.HELD, f"the template cannot be used: {exc}")
        if composed.held_because:
            return _Prepared(None, Preparation.HELD, composed.held_because)
        card, note = composed.card, composed.note
        try:
            message = build_email(card, composed.customer, self.config.office, self.now())
        except InputError as exc:  # an address that cannot be written, whatever the server: a person decides
            return _Prepared(None, Preparation.HELD, str(exc))
        summary = f"{occasion_label(occasion)} card by email: {card.subject}"
        if note:
            summary += f" (personal note: {note})"  # the note is kept in the history with the card
        hashed = content_hash(card.text, card.html)
        return _Prepared(message, Preparation.SEND, card.subject, composed.variant, note, hashed, summary)

    def _send_one(
        self,
        row: queries.OutboxRow,
        file: CustomerFile | None,
        still_due: dict[int, str | None],
        transport: Transport,
    ) -> CardResult:
        """Check, render and send one claimed row, and record what happened.

        The card takes its slot of the mail account's pace first, and the start of its SMTP transaction is
        committed before MAIL FROM: after a crash, only a card that had begun may have reached the server.
        """
        why_not = still_due.get(row.row)
        if why_not is not None:
            self._settle(row, state=OutboxState.CANCELLED, reason=f"cancelled: {why_not}")
            return CardResult(row.row, row.customer_id, row.occasion, OutboxState.CANCELLED, why_not)
        prepared = self._prepare(row.customer_id, file, row.occasion, row.occasion_date)
        if prepared.state is Preparation.HELD:
            self._settle(row, state=OutboxState.HELD, last_error=prepared.detail)
            return CardResult(row.row, row.customer_id, row.occasion, OutboxState.HELD, prepared.detail)
        assert prepared.message is not None
        self._wait_for_slot(row)
        outcome: Outcome = transport.send(prepared.message)
        message_id = prepared.message.message_id
        if outcome.state is Delivery.SENT:
            with self.store.begin() as conn:
                queries.mark_sent(
                    conn,
                    row,
                    self.worker,
                    self.now(),
                    self.office_now,
                    message_id=message_id,
                    reply=outcome.reply,
                    content_hash=prepared.hash,
                    variant=prepared.variant,
                    summary=prepared.summary,
                    note=prepared.note,
                )
            return CardResult(row.row, row.customer_id, row.occasion, OutboxState.SENT, outcome.reply)
        if outcome.state is Delivery.HELD:
            self._settle(row, state=OutboxState.HELD, last_error=outcome.reply, smtp_started_at=None)
            return CardResult(row.row, row.customer_id, row.occasion, OutboxState.HELD, outcome.reply)
        if outcome.state is Delivery.RETRY:
            attempts = row.attempts + 1
            if row.expires_on is not None and self.today >= row.expires_on:
                self._settle(
                    row, state=OutboxState.FAILED, attempts=attempts, last_error=f"{outcome.reply}; no time left"
                )
                return CardResult(row.row, row.customer_id, row.occasion, OutboxState.FAILED, outcome.reply)
            self._settle(
                row,
                state=OutboxState.PENDING,
                attempts=attempts,
                last_error=outcome.reply,
                smtp_started_at=None,
                next_attempt_at=self.now() + retry_after(attempts),
            )
            return CardResult(row.row, row.customer_id, row.occasion, OutboxState.PENDING, outcome.reply)
        ended = OutboxState(outcome.state)  # failed or unknown, the same words in both vocabularies
        self._settle(row, state=ended, attempts=row.attempts + 1, last_error=outcome.reply, message_id=message_id)
        if outcome.bouncing:
            with self.store.begin() as conn:
                queries.mark_bouncing(conn, row.customer_row, self.now())
        return CardResult(row.row, row.customer_id, row.occasion, ended, outcome.reply)

    def _wait_for_slot(self, row: queries.OutboxRow) -> None:
        """Take the card's slot of the shared pace, wait for it, and record that its SMTP transaction begins."""
        interval = dt.timedelta(minutes=1) / self.config.email.rate_per_minute
        with self.store.begin() as conn:
            now = self.now()
            slot = queries.take_slot(conn, row.row, self.worker, now, interval, self.config.email.rate_per_day)
        if slot is None:
            raise _LimitReached
        if slot > now:
            self.sleep((slot - now).total_seconds())
            with self.store.begin() as conn:
                queries.mark_started(conn, row.row, self.worker, self.now())

    def _settle_after_error(self, row: queries.OutboxRow, exc: Exception) -> CardResult:
        """Settle a card that met an unexpected error: unknown if its transaction had begun, else failed."""
        with self.store.begin() as conn:
            began = queries.transaction_began(conn, row.row)
        state = OutboxState.UNKNOWN if began else OutboxState.FAILED
        detail = f"{type(exc).__name__}: {exc}"
        why = f"an error while sending; the card may have gone out ({detail})" if began else f"not sent ({detail})"
        self._settle(row, state=state, attempts=row.attempts + 1, last_error=why)
        return CardResult(row.row, row.customer_id, row.occasion, state, why)

    def _settle(self, row: queries.OutboxRow, *, state: OutboxState, **values: object) -> None:
        with self.store.begin() as conn:
            queries.finish(conn, row.row, self.worker, self.now(), state=state, **values)

    def _release(self, rows: list[queries.OutboxRow], why: str) -> None:
        """Put claimed rows that never reached the server back to pending, with the reason they did not go."""
        if not rows:
            return
        with self.store.begin() as conn:
            for row in rows:
                queries.finish(
                    conn,
                    row.row,
                    self.worker,
                    self.now(),
                    state=OutboxState.PENDING,
                    last_error=why,
                    smtp_started_at=None,
                )


class _LimitReached(Exception):
    """The mail account's daily limit is used up: the cards not yet begun wait for tomorrow."""

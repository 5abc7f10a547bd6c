"""The office: one object with a verb for each thing cardsender does, which the CLI, the service and the demo call.

An ``Office`` is built from a config, a store (opened on first use when not given) and a
frozen clock: every verb of one command or one service tick sees the same moment.  The
verbs return records and never print; the shells present them.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cardsender.app import customer_ops, outbox_ops
from cardsender.app import workspace as workspaces
from cardsender.config.model import Config
from cardsender.domain.errors import InputError
from cardsender.domain.vocabulary import MAX_RANGE_DAYS, Channel, Delivery, PreviewFormat
from cardsender.planning import agenda
from cardsender.store import Store
from cardsender.system.clock import Clock, Moment

if TYPE_CHECKING:
    from cardsender.app.demo import DemoRun
    from cardsender.cards.context import CopiedTemplates, NoteAdded, Preview, TemplateProblem
    from cardsender.domain.records import Touch
    from cardsender.importers.results import ImportResult, Progress
    from cardsender.printing.batches import Batch
    from cardsender.reports.digest import Digest
    from cardsender.sending.cycle import CycleReport
    from cardsender.sending.transport import Outcome, Transport
    from cardsender.store.lease import Lease
    from cardsender.store.outbox import OutboxRow

# Ten years is far beyond any useful plan or forecast, and keeps a typo from running for hours.


def email_transport(config: Config) -> Transport:
    """Return the configured email transport: files in a folder, or an SMTP server."""
    from cardsender.config.password import smtp_password
    from cardsender.sending.transport import FileTransport, SmtpTransport

    email = config.email
    if email.transport == "file":
        return FileTransport(email.outbox_dir)
    password = smtp_password(email, os.environ) if email.username else None
    return SmtpTransport(email, config.office.from_address, password)


def file_transport(folder: Path) -> Transport:
    """Return a transport that writes each message into a folder as an .eml file (dry runs and the demo)."""
    from cardsender.sending.transport import FileTransport

    return FileTransport(folder)


# Verbs that need no office: a workspace is made before any config exists.


def init_workspace(directory: Path, clock: Clock) -> workspaces.Workspace:
    """Write a commented config and create its database in a folder, started today."""
    return workspaces.init_workspace(directory, clock.moment(workspaces.example_timezone()).today)


def make_demo(directory: Path, clock: Clock) -> DemoRun:
    """Make a demo folder on the bundled sample data and run everything once as of today."""
    from cardsender.app.demo import run_demo

    return run_demo(directory, clock)


def copy_templates(folder: Path) -> CopiedTemplates:
    """Copy the bundled card templates into a folder to edit; files already there are kept."""
    from cardsender.cards import context as cards

    return cards.copy_templates(folder)


# The records the verbs return.


@dataclass(frozen=True, slots=True)
class Plan:
    """The cards due over some days, with their customers' names, and the cards waiting for approval."""

    first: dt.date
    last: dt.date
    touches: list[Touch]
    names: dict[str, str]
    awaiting_approval: int


@dataclass(frozen=True, slots=True)
class CallList:
    """The customers staff should call on a day."""

    day: dt.date
    entries: list[agenda.CallEntry]


@dataclass(frozen=True, slots=True)
class ForecastRun:
    """A forecast of a range of days, and the page written, if any."""

    first: dt.date
    last: dt.date
    forecast: agenda.Forecast
    page: Path | None


@dataclass(frozen=True, slots=True)
class CoverageRun:
    """How well customers are kept in touch on a day, and the PDF written, if any."""

    day: dt.date
    report: agenda.CoverageReport
    pdf: Path | None


@dataclass(frozen=True, slots=True)
class SendRun:
    """What a send cycle (or a dry run) did on a day, and the cards waiting for approval after it."""

    day: dt.date
    report: CycleReport
    awaiting_approval: int


@dataclass(frozen=True, slots=True)
class DigestSent:
    """A digest sent to the office, and what the server said."""

    digest: Digest
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ServiceState:
    """The service heard from last, as of a moment: whether it runs, and how many others run beside it."""

    lease: Lease
    alive: bool
    stopped_cleanly: bool
    others_running: int
    heartbeat_age_seconds: int


@dataclass(frozen=True, slots=True)
class Status:
    """The service, the outbox's counts, and what needs someone."""

    service: ServiceState | None
    counts: dict[str, int]
    needs_attention: list[OutboxRow]
    unposted_batches: list[tuple[str, int]]
    late_check_ins: int
    awaiting_approval: int


@dataclass(frozen=True, slots=True)
class PreviewRun:
    """A previewed card: the body to show (text, html, eml), or the file written (pdf, png, or --out)."""

    preview: Preview
    body: str | None
    written: Path | None


@dataclass(frozen=True, slots=True)
class PrintRun:
    """A print batch made for the mail-by days from ``first`` to ``last``."""

    first: dt.date
    last: dt.date
    batch: Batch


@dataclass(frozen=True, slots=True)
class Mailed:
    """A print batch marked posted: cards mailed, and cards back to print again."""

    batch: str
    mailed: int
    back: int


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """How many cards the template check rendered, and what would go wrong."""

    rendered: int
    problems: list[TemplateProblem]


def safe_file_name(text: str) -> str:
    """Return a text with every character but letters, digits, '-' and '_' replaced, for a file name."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


class Office:
    """One office's cardsender: its config, its store, and the moment it acts at."""

    def __init__(self, config: Config, store: Store | None = None, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = (clock or Clock()).frozen()
        self._store = store
        self._opened: Store | None = None

    # Lifetime: the store opens on first use, so that verbs that need no database (the template check)
    # create none.

    @property
    def store(self) -> Store:
        """Return the office's store, opening the configured database on first use."""
        if self._store is None:
            self._store = self._opened = Store.open(self.config.database.url)
        return self._store

    def close(self) -> None:
        """Close the store if this office opened it."""
        if self._opened is not None:
            self._opened.close()
            self._store = self._opened = None

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Time.

    @property
    def moment(self) -> Moment:
        """Return the moment the office acts at, on its own clock."""
        return self.clock.moment(self.config.office.timezone)

    @property
    def today(self) -> dt.date:
        """Return the office's day."""
        return self.moment.today

    def _day(self, on: dt.date | None) -> dt.date:
        return self.today if on is None else on

    def _now(self) -> dt.datetime:
        return self.moment.utc

    # Importing.

    def import_customers(
        self, file: Path, date_format: str | None = None, progress: Progress | None = None
    ) -> ImportResult:
        """Add or update customers from a CSV file or vCards; each office's rows are dated on its own day."""
        from cardsender import importers

        days = {office.key: self.moment.elsewhere(office.timezone).today for office in self.config.served()}
        return importers.import_customers(
            self.store,
            file,
            today=self.today,
            now=self._now(),
            date_format=date_format or self.config.imports.date_format,
            progress=progress,
            offices=self.config.office_keys(),
            default_office=self.config.office.key,
            office_days=days,
        )

    def import_history(
        self, file: Path, date_format: str | None = None, progress: Progress | None = None
    ) -> ImportResult:
        """Add contact events from a CSV file; importing twice adds nothing twice."""
        from cardsender import importers

        return importers.import_history(
            self.store,
            file,
            today=self.today,
            now=self._now(),
            date_format=date_format or self.config.imports.date_format,
            progress=progress,
        )

    # Customers.

    def customers(self) -> list[customer_ops.CustomerSummary]:
        """Return every customer with their last contact and the days since."""
        return customer_ops.list_customers(self.store, self.today)

    def customer(self, customer_id: str) -> customer_ops.CustomerDetail:
        """Return one customer with their whole contact history."""
        return customer_ops.show_customer(self.store, customer_id, self.today)

    def edit_customer(
        self, customer_id: str, assignments: Iterable[str], date_format: str | None = None
    ) -> customer_ops.EditResult:
        """Change one customer's fields (FIELD=VALUE), checked as in an import."""
        return customer_ops.edit_customer(
            self.store,
            customer_id,
            assignments,
            now=self._now(),
            date_format=date_format or self.config.imports.date_format,
            offices=self.config.office_keys(),
        )

    def log_contact(
        self, customer_id: str, kind: str, note: str = "", at: str | None = None
    ) -> customer_ops.LoggedContact:
        """Record a contact made outside cardsender, at ``at`` (office time) or now."""
        office_now = self.moment.office_now
        occurred_at = customer_ops.parse_event_time(at) if at else office_now
        return customer_ops.log_contact(
            self.store, customer_id, kind, occurred_at=occurred_at, office_now=office_now, now=self._now(), summary=note
        )

    def set_opt_outs(self, customer_id: str, flags: Iterable[str], *, opted_out: bool) -> customer_ops.OptResult:
        """Opt a customer out of (or back in to) email, post, humour or all contact."""
        return customer_ops.set_opt_outs(self.store, customer_id, list(flags), opted_out=opted_out, now=self._now())

    def export_customer(self, customer_id: str) -> dict[str, object]:
        """Return everything stored about one customer, ready for JSON."""
        return customer_ops.export_customer(self.store, customer_id)

    def forget(self, customer_id: str) -> customer_ops.ForgetResult:
        """Delete one customer, their history and the email files about them, for good."""
        return customer_ops.forget_customer(
            self.store, customer_id, now=self._now(), mail_folders=[self.config.email.outbox_dir]
        )

    def add_note(self, customer_id: str, text: str, occasion: str | None = None) -> NoteAdded:
        """Attach a personal note to a customer's next card (of one occasion, or any)."""
        from cardsender.cards import context as cards

        return cards.add_note(self.store, customer_id, text, occasion, now=self._now())

    # Planning.

    def plan(self, days: int = 1, *, on: dt.date | None = None, explain: bool = False, names: bool = True) -> Plan:
        """Return the cards due over some days from a day (default today), each as if the ones before went out."""
        first = self._day(on)
        touches = agenda.plan_touches(self.store, self.config, first, days, explain=explain)
        known = customer_ops.display_names(self.store, (t.customer_id for t in touches)) if names else {}
        waiting = outbox_ops.awaiting_approval(self.store, self.config.office.key)
        return Plan(first, first + dt.timedelta(days=days - 1), touches, known, waiting)

    def calls(self, on: dt.date | None = None) -> CallList:
        """Return the customers staff should call on a day (default today)."""
        day = self._day(on)
        return CallList(day, agenda.call_list(self.store, self.config, day))

    def forecast(
        self, first: dt.date | None = None, last: dt.date | None = None, page: Path | None = None
    ) -> ForecastRun:
        """Simulate a range of days (default a year from today) as if every planned card went out on time."""
        start = self._day(first)
        end = last if last is not None else start + dt.timedelta(days=364)
        if end < start:
            raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}; give the earlier day first")
        if (end - start).days >= MAX_RANGE_DAYS:
            raise InputError(f"the range is over {MAX_RANGE_DAYS} days; forecast ten years or less at a time")
        result = agenda.forecast(self.store, self.config, start, end)
        if page is not None:
            from cardsender.reports.forecast_page import write_forecast_html
            from cardsender.system.private import reserve_private

            write_forecast_html(result, reserve_private(page), office_name=self.config.office.name)
        return ForecastRun(start, end, result, page)

    def report(self, on: dt.date | None = None, pdf: Path | None = None) -> CoverageRun:
        """Return how well customers are kept in touch on a day, and write it as a one-page PDF when asked."""
        day = self._day(on)
        result = agenda.coverage_report(self.store, self.config, day)
        if pdf is not None:
            from cardsender.reports.report_pdf import write_report_pdf  # reportlab loads only for the PDF
            from cardsender.system.private import reserve_private

            write_report_pdf(
                result,
                reserve_private(pdf),
                office_name=self.config.office.name,
                keep_in_touch=self.config.keep_in_touch,
            )
        return CoverageRun(day, result, pdf)

    def digest(self, on: dt.date | None = None) -> Digest:
        """Return the morning digest the service sends the office once a day."""
        from cardsender.reports import digest

        return digest.compose(self.store, self.config, self._day(on))

    # The words of the cards.

    def preview(
        self, customer_id: str, occasion: str, fmt: str = "text", *, out: Path | None = None, on: dt.date | None = None
    ) -> PreviewRun:
        """Render exactly what a customer's card would say on a day: as text, html, a whole message, or printed."""
        from cardsender.cards import context as cards
        from cardsender.system.private import open_private, write_private_bytes

        if fmt not in tuple(PreviewFormat):
            raise InputError(f"'{fmt}' is not a preview format; use one of: {', '.join(PreviewFormat)}")
        channel = Channel.POST if fmt in ("pdf", "png") else Channel.EMAIL
        shown = cards.preview_card(self.store, self.config, customer_id, occasion, self._day(on), channel)
        card, customer = shown.card, shown.customer
        if fmt in ("pdf", "png"):
            # The printed card exactly as print makes it: the office's card format, every page, the same fit rule.
            from cardsender.printing import layout  # reportlab only for printing

            target = out or Path(f"cardsender-preview-{safe_file_name(customer.id)}-{occasion}.{fmt}")
            printed = layout.preview_pdf if fmt == "pdf" else layout.preview_png
            write_private_bytes(target, printed(self.config, card, customer))
            return PreviewRun(shown, None, target)
        if fmt == "text":
            to = f"{customer.display_name} <{customer.email}>" if customer.email else customer.display_name
            body = (
                f"To: {to}\nSubject: {card.subject}\n\n{card.text}\n"
                f"--- printed card ---\n{card.card_front}\n\n{card.card_inside}\n"
            )
        elif fmt == "html":
            body = card.html
        else:
            if not customer.email:
                raise InputError(
                    f"{customer.display_name} ({customer.id}) has no email address; "
                    "preview the printed card with --format pdf"
                )
            from cardsender.sending.message import build_email

            message = build_email(card, customer, self.config.office, self._now())
            body = message.data.decode().replace("\r\n", "\n")
        if out is None:
            return PreviewRun(shown, body, None)
        with open_private(out, "w", encoding="utf-8") as fh:  # a card names the customer: private file
            fh.write(body)
        return PreviewRun(shown, None, out)

    def check_templates(self) -> TemplateCheck:
        """Render every template for varied sample customers and return what would go wrong."""
        from cardsender.cards import context as cards
        from cardsender.printing.layout import template_overflow  # reportlab only where cards are checked

        card_format, paper = self.config.print.card_format, self.config.print.paper
        rendered, problems = cards.check_templates(self.config, lambda c: template_overflow(c, card_format, paper))
        return TemplateCheck(rendered, problems)

    # Sending.

    def send_due(
        self,
        limit: int | None = None,
        *,
        on: dt.date | None = None,
        transport: Transport | None = None,
        worker: str | None = None,
        sleep: Callable[[float], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        plan: bool = True,
        planned: Callable[[], None] = lambda: None,
    ) -> SendRun:
        """Plan a day's cards (default today, never a later one) and send the email ones that are due.

        The service passes ``should_stop`` (asked before each card), ``plan`` (False when another service
        plans the day) and ``planned`` (called once the plan is in the outbox), as ``SendCycle.run`` takes them.
        """
        from cardsender.sending.cycle import SendCycle, worker_name

        day = self._day(on)
        if day > self.today:
            raise InputError(f"--on {day.isoformat()} is in the future; cards go out on their day, not before")
        clock = self.clock if on is None else self.clock.on(day, self.config.office.timezone)
        cycle = SendCycle(
            self.store, self.config, clock=clock, worker=worker or worker_name(), sleep=sleep or time.sleep
        )
        report = cycle.run(
            transport or email_transport(self.config), limit, should_stop=should_stop, plan=plan, planned=planned
        )
        return SendRun(day, report, outbox_ops.awaiting_approval(self.store, self.config.office.key))

    def dry_run(self, limit: int | None = None, *, on: dt.date | None = None) -> SendRun:
        """Render what a day's cycle would send (default today) into a folder of .eml files; nothing changes."""
        from cardsender.sending.cycle import SendCycle, worker_name

        day = self._day(on)
        clock = self.clock if on is None else self.clock.on(day, self.config.office.timezone)
        cycle = SendCycle(self.store, self.config, clock=clock, worker=worker_name())
        report = cycle.dry_run(self.config.email.outbox_dir / "dry-run" / day.isoformat(), limit)
        return SendRun(day, report, outbox_ops.awaiting_approval(self.store, self.config.office.key))

    def digest_due(self) -> bool:
        """Return whether the office's morning digest is due: its send time has passed today, and none went."""
        from cardsender.reports import digest

        now = self.moment.office_now
        if now.time() < self.config.office.send_time:
            return False
        return not digest.already_sent(self.store, self.config.office.key, now.date())

    def send_digest(self, transport: Transport) -> DigestSent:
        """Send today's digest to the office over a transport; record it once the server took it."""
        from cardsender.reports import digest

        written = digest.compose(self.store, self.config, self.today)
        transport.open()
        try:
            outcome = transport.send(digest.message_of(written, self.config, self._now()))
        finally:
            transport.close()
        if outcome.state == Delivery.SENT:
            digest.record(self.store, written, self._now())
        return DigestSent(written, outcome)

    # The outbox.

    def status(self) -> Status:
        """Return the service heard from last, the outbox's counts and the cards that need someone."""
        from cardsender.store.lease import is_alive, stopped_cleanly

        now = self._now()
        rows = outbox_ops.needs_attention(self.store)
        late = outbox_ops.late_check_ins(self.store, self.config, self.today, now)
        unposted = outbox_ops.unposted_batches(self.store)
        running = outbox_ops.service_leases(self.store)
        counts = outbox_ops.state_counts(self.store)
        waiting = outbox_ops.awaiting_approval(self.store, self.config.office.key)
        service = None
        if running:
            lease = running[0]
            service = ServiceState(
                lease,
                alive=is_alive(lease, now),
                stopped_cleanly=stopped_cleanly(lease),
                others_running=sum(1 for other in running[1:] if is_alive(other, now)),
                heartbeat_age_seconds=int((now - lease.heartbeat_at).total_seconds()),
            )
        return Status(service, counts, rows, unposted, late, waiting)

    def list_outbox(self, states: Iterable[str] | None = None) -> list[OutboxRow]:
        """Return the outbox rows in the given states (all when None), by due date."""
        return outbox_ops.list_outbox(self.store, states)

    def resolve(self, row: int, action: str) -> OutboxRow:
        """Settle a card whose fate is unknown: it was sent, send it again, or cancel it."""
        return outbox_ops.resolve(self.store, row, action, now=self._now(), office_now=self.moment.office_now)

    def approve(self, rows: Iterable[int] | None, *, on: dt.date | None = None) -> int:
        """Approve cards held for approval: the given rows, or (None) every one due by a day (default today)."""
        rows = list(rows) if rows is not None else None
        return outbox_ops.approve(
            self.store, rows, due_by=self._day(on), now=self._now(), office=self.config.office.key
        )

    def skip(self, row: int) -> OutboxRow:
        """Cancel a card waiting to go out, so it never does."""
        return outbox_ops.skip(self.store, row, now=self._now())

    def read_bounces(self, file: Path) -> outbox_ops.BouncesApplied:
        """Read bounce reports exported from the office mailbox and fail the cards that bounced."""
        from cardsender.sending.bounces import read_bounces

        scan = read_bounces(file)
        return outbox_ops.apply_bounces(self.store, scan, self._now())

    # Printing.

    def print_batch(
        self,
        first: dt.date | None = None,
        last: dt.date | None = None,
        *,
        days: int | None = None,
        out: Path | None = None,
        card_format: str | None = None,
        envelopes: bool = False,
        labels: str | None = None,
        start_at: int = 1,
    ) -> PrintRun:
        """Print the posted cards to mail from ``first`` (default today) to ``last`` (or over ``days``, default
        seven) as one batch with its writer's guide."""
        from cardsender.printing import batches

        if last is not None and days:
            raise InputError("give --to or --days, not both")
        if envelopes and labels:
            raise InputError("give --envelopes or --labels SHEET, not both")
        start = self._day(first)
        end = last if last is not None else start + dt.timedelta(days=(days or 7) - 1)
        made = batches.print_batch(
            self.store,
            self.config,
            first=start,
            last=end,
            out=out,
            today=self.today,
            now=self._now(),
            card_format=card_format,
            envelopes=envelopes,
            labels=labels,
            start_at=start_at,
        )
        return PrintRun(start, end, made)

    def reprint(self, batch: str, out: Path | None = None, card_format: str | None = None) -> Batch:
        """Make the PDF of an earlier batch again (default cards-BATCH.pdf), without forgotten customers."""
        from cardsender.printing import batches

        target = out or Path(f"cards-{batch}.pdf")
        return batches.reprint(self.store, self.config, batch, target, self.today, card_format, now=self._now())

    def mark_mailed(self, batch: str, spoiled: Iterable[int] = (), *, on: dt.date | None = None) -> Mailed:
        """Record that a print batch was posted on a day (default today), less the spoiled cards."""
        from cardsender.printing import batches

        mailed, back = batches.mark_mailed(
            self.store, batch, mailed_on=self._day(on), now=self._now(), spoiled=tuple(spoiled)
        )
        return Mailed(batch, mailed, back)

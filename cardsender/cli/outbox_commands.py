"""Sending and the outbox: ``send``, ``status``, ``outbox``, ``resolve``, ``approve``, ``skip`` and ``bounces``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardsender.cli.app_context import AppContext, approval_note, json_option, on_option, parse_day, plural, print_json
from cardsender.cli.table import format_table
from cardsender.domain.occasions import occasion_label
from cardsender.domain.records import RESOLUTIONS, name_and_id
from cardsender.domain.vocabulary import DryRun, OutboxState

if TYPE_CHECKING:
    from cardsender.app.office import ServiceState
    from cardsender.store.outbox import OutboxRow


@click.command("send")
@on_option
@click.option(
    "--dry-run/--no-dry-run",
    default=True,
    show_default=True,
    help="A dry run writes the messages to a folder and changes nothing; --no-dry-run sends.",
)
@click.option("--limit", type=click.IntRange(1), help="Send at most this many cards.")
@click.pass_context
def send(ctx: click.Context, on: str | None, dry_run: bool, limit: int | None) -> None:
    """Plan today's cards and send the email ones that are due (a dry run unless --no-dry-run)."""
    app: AppContext = ctx.obj
    day = parse_day(on)
    with app.office() as office:
        run = office.dry_run(limit, on=day) if dry_run else office.send_due(limit, on=day)
    report, waiting, day_text = run.report, run.awaiting_approval, run.day.isoformat()
    for result in report.results:
        click.echo(f"{result.state:<10} {result.customer_id:<12} {occasion_label(result.occasion):<13} {result.detail}")
    if report.dry_run:
        would = report.count(DryRun.WOULD_SEND)
        click.echo(
            f"Dry run for {day_text}: {plural(would, 'card')} would go out (written to {report.folder}), "
            f"{report.count(DryRun.WOULD_HOLD)} would be held for review. Send them with --no-dry-run."
        )
        if waiting:
            click.echo(f"{approval_note(waiting)}.")
        return
    outcomes = (
        (OutboxState.PENDING, "to retry"),
        (OutboxState.FAILED, "failed"),
        (OutboxState.UNKNOWN, "unknown"),
        (OutboxState.HELD, "held"),
        (OutboxState.CANCELLED, "cancelled"),
    )
    counts = ", ".join(f"{report.count(state)} {label}" for state, label in outcomes)
    recovered = f"; {report.recovered} left sending by a crash are now unknown" if report.recovered else ""
    if report.returned:
        recovered += f"; {report.returned} claimed by a run that stopped before sending them are pending again"
    approval = f"; {approval_note(waiting)}" if waiting else ""
    click.echo(f"Sent {plural(report.count(OutboxState.SENT), 'card')} on {day_text}: {counts}{recovered}{approval}.")
    if report.stopped:
        click.echo(f"Error: stopped: {report.stopped}; the cards stay pending (see 'cardsender status')", err=True)
        ctx.exit(1)


def _outbox_rows(rows: list[OutboxRow]) -> str:
    lines = [
        (
            str(r.row),
            r.state,
            name_and_id(r.customer_name, r.customer_id),
            occasion_label(r.occasion),
            r.channel,
            r.occasion_date.isoformat(),
            str(r.attempts),
            r.last_error or r.reason,
        )
        for r in rows
    ]
    return format_table(lines, ("Row", "State", "Customer", "Occasion", "Channel", "For", "Tries", "Why"))


def _service_line(service: ServiceState | None) -> str:
    """Describe the service heard from last: running or not, its heartbeat, last cycle and next run (times in
    UTC); and how many others are running beside it (PostgreSQL).  A service whose process on this machine
    has ended is not running, whatever its last heartbeat."""
    if service is None:
        return "Service: never started ('cardsender run' starts it)."
    lease, alive, others = service.lease, service.alive, service.others_running
    beside = f" (and {plural(others, 'other service')} running)" if alive and others else ""
    if alive:
        state = f"running as {lease.holder}{beside}, heartbeat {service.heartbeat_age_seconds} s ago"
    elif service.stopped_cleanly:
        state = "not running (stopped)"
    else:
        state = f"not running (last heard from {lease.heartbeat_at:%Y-%m-%d %H:%M} UTC, as {lease.holder})"
    last = f"; last cycle {lease.last_cycle_at:%Y-%m-%d %H:%M} UTC: {lease.last_cycle}" if lease.last_cycle_at else ""
    following = f"; next daily run {lease.next_run_at:%Y-%m-%d %H:%M} UTC" if alive and lease.next_run_at else ""
    return f"Service: {state}{last}{following}."


@click.command("status")
@click.pass_obj
def status(app: AppContext) -> None:
    """Show the service, the outbox, and the cards that need someone: unknown, failed, held, or stuck."""
    with app.office() as office:
        found = office.status()
    rows = found.needs_attention
    click.echo(_service_line(found.service))
    if found.counts:
        click.echo("Outbox: " + ", ".join(f"{count} {state}" for state, count in found.counts.items()) + ".")
    if rows:
        click.echo(_outbox_rows(rows))
    for batch, count in found.unposted_batches:
        click.echo(
            f"Batch {batch}: {plural(count, 'card')} printed, not yet marked mailed (cardsender mark-mailed {batch})"
        )
    if found.late_check_ins:
        per_day, limit = plural(app.config.email.rate_per_day, "email"), app.config.keep_in_touch.max_gap_days
        click.echo(
            f"Warning: at {per_day} a day, {plural(found.late_check_ins, 'check-in')} would go out after the "
            f"customer's day {limit}; raise [email] rate_per_day, or call them.",
            err=True,
        )
    if found.awaiting_approval:
        click.echo(f"{approval_note(found.awaiting_approval)}.")
    unknown = sum(1 for r in rows if r.state == OutboxState.UNKNOWN)
    hint = "; settle unknown ones with 'cardsender resolve ROW sent|resend|cancel'" if unknown else ""
    click.echo(f"{plural(len(rows), 'card')} need attention{hint}.")


@click.command("resolve")
@click.argument("row", type=int)
@click.argument("action", type=click.Choice(RESOLUTIONS))
@click.pass_obj
def resolve(app: AppContext, row: int, action: str) -> None:
    """Settle a card whose fate is unknown: it was sent, send it again, or cancel it."""
    with app.office() as office:
        done = office.resolve(row, action)
    click.echo(f"Row {done.row} ({done.customer_id}, {occasion_label(done.occasion)}) is now {done.state}.")


@click.command("outbox")
@click.option("--state", "states", multiple=True, help="Only rows in this state (repeat for several).")
@json_option
@click.pass_obj
def outbox_command(app: AppContext, states: tuple[str, ...], as_json: bool) -> None:
    """List the outbox: every card planned, sent, held or failed."""
    with app.office() as office:
        rows = office.list_outbox(states or None)
    if as_json:
        print_json([row.to_json() for row in rows])
        return
    if rows:
        click.echo(_outbox_rows(rows))
    click.echo(f"{plural(len(rows), 'card')} in the outbox.")


@click.command("bounces")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
def bounces(app: AppContext, file: Path) -> None:
    """Read bounce reports exported from the office mailbox (.mbox, .eml, or a folder of .eml files)."""
    with app.office() as office:
        applied = office.read_bounces(file)
    scan = applied.scan
    for bounce in scan.bounces:
        click.echo(f"{bounce.address}: {bounce.status} {bounce.diagnostic}".rstrip())
    if applied.unknown_addresses:
        click.echo(f"Not a customer's address: {', '.join(applied.unknown_addresses)}", err=True)
    click.echo(
        f"Read {file}: {len(scan.bounces)} bounced {'address' if len(scan.bounces) == 1 else 'addresses'}, "
        f"{plural(len(applied.customers), 'customer')} no longer emailed (on the call list if a card failed), "
        f"{plural(applied.cards_failed, 'card')} marked failed; {scan.delayed} delays and {scan.other} other "
        "messages left alone."
    )


@click.command("approve")
@click.argument("rows", type=int, nargs=-1, metavar="[ROW...]")
@click.option("--all", "approve_all", is_flag=True, help="Approve every card waiting, due by --on (default today).")
@on_option
@click.pass_obj
def approve(app: AppContext, rows: tuple[int, ...], approve_all: bool, on: str | None) -> None:
    """Let cards held for approval go out with the next cycle."""
    from cardsender.domain.errors import InputError

    if bool(rows) == approve_all:
        raise InputError("name the rows to approve, or give --all; see 'cardsender status' for the cards waiting")
    day = parse_day(on)
    with app.office() as office:
        count = office.approve(rows or None, on=day)
    click.echo(f"Approved {plural(count, 'card')}; the next cycle sends them.")


@click.command("skip")
@click.argument("row", type=int)
@click.pass_obj
def skip(app: AppContext, row: int) -> None:
    """Cancel a card waiting to go out, so it never does."""
    with app.office() as office:
        done = office.skip(row)
    click.echo(f"Row {done.row} ({done.customer_id}, {occasion_label(done.occasion)}) is cancelled.")


COMMANDS = (send, status, resolve, outbox_command, bounces, approve, skip)

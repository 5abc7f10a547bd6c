"""Planning: what is due (``plan``), who to call (``calls``), what is coming (``forecast``), how well customers
are covered (``report``), and the morning ``digest``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardsender.cli.app_context import (
    AppContext,
    approval_note,
    json_option,
    on_option,
    parse_day,
    plural,
    print_json,
    spinner,
)
from cardsender.cli.table import format_table
from cardsender.domain.occasions import occasion_label
from cardsender.domain.vocabulary import MAX_RANGE_DAYS, Channel

if TYPE_CHECKING:
    from cardsender.domain.records import Touch
    from cardsender.planning.agenda import CallEntry


def _touch_rows(touches: list[Touch], names: dict[str, str]) -> str:
    rows = []
    for t in touches:
        name = f"{names.get(t.customer_id, t.customer_id)} ({t.customer_id})"
        row = [t.due_date.isoformat(), name, occasion_label(t.occasion), t.channel, t.arrives.isoformat()]
        why = f"late (its mail-by date has passed): {t.reason}" if t.late else t.reason
        row.append(f"not sent: {t.suppressed_reason}" if t.suppressed_reason else why)
        rows.append(row)
    headers = ("Due", "Customer", "Occasion", "Channel", "Arrives", "Why")
    return format_table(rows, headers) if rows else ""


@click.command("plan")
@on_option
@click.option(
    "--days", type=click.IntRange(1, MAX_RANGE_DAYS), default=1, show_default=True, help="How many days to plan."
)
@json_option
@click.option("--explain", is_flag=True, help="Also list the cards left out (collisions, opt-outs, missed) and why.")
@click.pass_obj
def plan(app: AppContext, on: str | None, days: int, as_json: bool, explain: bool) -> None:
    """List the cards due on a day (or over --days days), each as if the ones before went out on time."""
    day = parse_day(on)
    with app.office() as office:
        planned_days = office.plan(days, on=day, explain=explain, names=not as_json)
    touches = planned_days.touches
    if as_json:
        print_json([t.to_json() for t in touches])
        return
    first, last = planned_days.first, planned_days.last
    span = f"on {first.isoformat()}" if days == 1 else f"from {first.isoformat()} to {last.isoformat()}"
    planned = [t for t in touches if t.suppressed_reason is None]
    if touches:
        click.echo(_touch_rows(touches, planned_days.names))
    by_channel = ", ".join(f"{sum(1 for t in planned if t.channel == channel)} by {channel}" for channel in Channel)
    left_out = len(touches) - len(planned)
    late = sum(1 for t in planned if t.late)
    tail = (f"; {late} late, arriving after the customer's day" if late else "") + (
        f"; {left_out} left out" if explain else ""
    )
    click.echo(f"{plural(len(planned), 'card')} due {span} ({by_channel}){tail}.")
    if planned_days.awaiting_approval:
        click.echo(f"{approval_note(planned_days.awaiting_approval)}.")


@click.command("calls")
@on_option
@json_option
@click.pass_obj
def calls(app: AppContext, on: str | None, as_json: bool) -> None:
    """List the customers staff should call: untouched for call_after_days (56) or more, by owner."""
    day = parse_day(on)
    with app.office() as office:
        found = office.calls(day)
    entries = found.entries
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    owners: dict[str, list[CallEntry]] = {}
    for entry in entries:
        owners.setdefault(entry.owner, []).append(entry)
    for owner, group in owners.items():
        click.echo(f"{owner or 'No owner'}:")
        rows = [
            (
                f"  {e.name} ({e.customer_id})",
                e.last_contact.isoformat() if e.last_contact else "never",
                str(e.days_since_contact),
                ", ".join(
                    flag
                    for flag, shown in (
                        ("OVERDUE", e.overdue),
                        ("CARD HELD", e.card_held),
                        ("CARD FAILED", e.card_failed),
                    )
                    if shown
                ),
            )
            for e in group
        ]
        click.echo(format_table(rows, ("  Customer", "Last contact", "Days", ""), align_right={2}))
    overdue = sum(1 for e in entries if e.overdue)
    limit = app.config.keep_in_touch.max_gap_days
    click.echo(
        f"{plural(len(entries), 'customer')} to call on {found.day.isoformat()}, {overdue} overdue (over {limit} days)."
    )


@click.command("forecast")
@click.option("--from", "first_text", metavar="DATE", help="First day (default: today at the office).")
@click.option("--to", "last_text", metavar="DATE", help="Last day (default: a year after the first, less a day).")
@json_option
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write an HTML page.")
@click.pass_obj
def forecast(
    app: AppContext, first_text: str | None, last_text: str | None, as_json: bool, html_path: Path | None
) -> None:
    """Simulate a range of days as if every planned card went out on its due date and nobody called."""
    from cardsender.planning.agenda import occasion_order

    first_day, last_day = parse_day(first_text, "--from"), parse_day(last_text, "--to")
    with app.office() as office, spinner("Simulating"):
        run = office.forecast(first_day, last_day, page=html_path)
    result, first, last = run.forecast, run.first, run.last
    if as_json:
        print_json(result.to_json())
        return
    summary = result.to_json()["summary"]
    months = result.cards_per_month()
    occasions_seen = sorted({name for counts in months.values() for name in counts}, key=occasion_order)
    if months:
        rows = [
            (month, *(str(counts.get(o, 0)) for o in occasions_seen), str(sum(counts.values())))
            for month, counts in months.items()
        ]
        headers = ("Month", *(occasion_label(o) for o in occasions_seen), "Total")
        click.echo(format_table(rows, headers, align_right=set(range(1, len(headers)))))
    if html_path is not None:
        click.echo(f"Wrote {html_path}")
    before = result.counted_before
    if before:
        since, until = before[0].day.replace(day=1), first - dt.timedelta(days=1)
        click.echo(
            f"{first:%Y-%m} also counts the {plural(len(before), 'card')} already sent for "
            f"{since.isoformat()} to {until.isoformat()}, before the forecast starts."
        )
    if result.overdue_at_start:
        listed = ", ".join(f"{c.who}, {c.max_gap_days} days" for c in result.overdue_at_start)
        click.echo(f"Already overdue on the first day ({len(result.overdue_at_start)}): {listed}")
    if result.breached_by_plan:
        listed = ", ".join(f"{c.who}, {c.gap_of_plan} days" for c in result.breached_by_plan)
        click.echo(f"Breaches the plan would cause ({len(result.breached_by_plan)}): {listed}")
    click.echo(
        f"Forecast {first.isoformat()} to {last.isoformat()}: {plural(result.card_count, 'card')} for "
        f"{plural(len(result.contactable), 'contactable customer')}; longest gap {summary['max_gap_days']} days "
        f"(limit {result.limit_days}), {summary['customers_over_limit']} over the limit."
    )


@click.command("report")
@on_option
@json_option
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write a one-page PDF.")
@click.pass_obj
def report(app: AppContext, on: str | None, as_json: bool, pdf_path: Path | None) -> None:
    """Show how well customers are kept in touch: coverage, at risk, overdue, and breaches ahead."""
    day = parse_day(on)
    with app.office() as office, spinner("Counting"):
        run = office.report(day, pdf=pdf_path)
    result = run.report
    if as_json:
        print_json(result.to_json())
        return
    kit = app.config.keep_in_touch
    never = f"{result.never_contacted}{result.first_cards_text()}"
    breaches = len(result.breaches_next_14_days)
    caused = len(result.breaches_by_plan_next_14_days)
    rows = [
        ("Contactable customers", str(result.contactable)),
        (
            f"Touched within {kit.max_gap_days} days",
            f"{result.touched_within_limit} of {result.contactable} ({result.coverage_percent}%)",
        ),
        ("Never contacted yet (not touched)", never),
        (f"At risk ({kit.call_after_days} to {kit.max_gap_days} days)", str(len(result.at_risk))),
        (f"Overdue (over {kit.max_gap_days} days)", str(len(result.overdue))),
        (
            "Forecast over the limit, next 14 days",
            f"{breaches} ({breaches - caused} already overdue, {caused} the plan would cause)" if breaches else "0",
        ),
    ]
    for label, counts in (("this month", result.cards_this_month), ("this year", result.cards_this_year)):
        listed = ", ".join(f"{n} {occasion_label(o).lower()}" for o, n in sorted(counts.items())) or "none"
        rows.append((f"Cards {label}", listed))
    click.echo(format_table(rows))
    if pdf_path is not None:
        click.echo(f"Wrote {pdf_path}")
    click.echo(
        f"Coverage on {run.day.isoformat()}: {result.coverage_percent}% of contactable customers touched "
        f"within {kit.max_gap_days} days; {len(result.overdue)} overdue."
    )


@click.command("digest")
@on_option
@click.pass_obj
def digest_command(app: AppContext, on: str | None) -> None:
    """Show the morning digest the service sends the office once a day."""
    day = parse_day(on)
    with app.office() as office:
        written = office.digest(day)
    click.echo(f"Subject: {written.subject}\n\n{written.text}", nl=False)


COMMANDS = (plan, calls, forecast, report, digest_command)

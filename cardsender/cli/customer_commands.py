"""Customers: ``customers list|show|edit``, ``log``, ``opt-out``, ``opt-in``, ``export`` and ``forget``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cardsender.cli.app_context import (
    AppContext,
    customer_id_argument,
    date_format_option,
    plural,
    print_json,
    who,
)
from cardsender.cli.table import format_table
from cardsender.domain.errors import InputError
from cardsender.domain.records import EVENT_KINDS

F = TypeVar("F", bound=Callable[..., Any])


@click.group("customers")
def customers_group() -> None:
    """List, show and edit customers."""


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def customers_list(app: AppContext, as_json: bool) -> None:
    """List every customer with their last contact and the days since."""
    with app.office() as office:
        summaries = office.customers()
    if as_json:
        from cardsender.app.customer_ops import summary_to_json

        print_json([summary_to_json(summary) for summary in summaries])
        return
    if not summaries:
        click.echo("No customers yet; import them with 'cardsender import customers FILE'.")
        return
    rows = [
        (
            s.customer.id,
            s.customer.display_name,
            s.customer.email or "",
            s.customer.channel,
            s.customer.owner,
            s.last_contact.isoformat() if s.last_contact else "never",
            "" if s.days_since is None else str(s.days_since),
        )
        for s in summaries
    ]
    headers = ("ID", "Name", "Email", "Channel", "Owner", "Last contact", "Days")
    click.echo(format_table(rows, headers, align_right={6}))
    never = sum(1 for s in summaries if s.last_contact is None)
    click.echo(f"{plural(len(summaries), 'customer')}, {never} never contacted.")


@customers_group.command("show")
@customer_id_argument
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def customers_show(app: AppContext, customer_id: str, as_json: bool) -> None:
    """Show every stored field of one customer and their contact history."""
    from cardsender.app.customer_ops import customer_to_json, detail_to_json

    with app.office() as office:
        detail = office.customer(customer_id)
    if as_json:
        print_json(detail_to_json(detail))
        return
    fields = customer_to_json(detail.summary.customer)
    texts = {True: "yes", False: "no", None: ""}
    click.echo(format_table([(name, texts.get(value, str(value))) for name, value in fields.items()]))
    click.echo("")
    if detail.history:
        click.echo("History:")
        rows = [(e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.kind, e.summary, e.source) for e in detail.history]
        click.echo(format_table(rows, ("When", "Kind", "Summary", "Source")))
    else:
        click.echo("History: none yet.")
    summary = detail.summary
    last = (
        f"last contact {summary.last_contact.isoformat()}, {plural(summary.days_since or 0, 'day')} ago"
        if summary.last_contact
        else "never contacted"
    )
    years = plural(detail.years_as_customer, "year") if detail.years_as_customer else "less than a year"
    click.echo(
        f"{who(summary.customer)}: {last}; a customer for {years}; "
        f"{plural(len(detail.history), 'event')} in the history."
    )


@customers_group.command("edit")
@customer_id_argument
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field to change, as in an import file (repeat for several; 'email=' clears the email).",
)
@date_format_option
@click.pass_obj
def customers_edit(app: AppContext, customer_id: str, assignments: tuple[str, ...], date_format: str | None) -> None:
    """Change one customer without a re-import; values are checked as in an import."""
    with app.office() as office:
        result = office.edit_customer(customer_id, assignments, date_format)
    if result.changed:
        click.echo(f"Updated {who(result.customer)}: {', '.join(result.changed)}.")
    else:
        click.echo(f"No change to {who(result.customer)}: every value was already set.")


# Contacts and preferences.


@click.command("log")
@customer_id_argument
@click.option("--kind", required=True, type=click.Choice(EVENT_KINDS), help="What kind of contact it was.")
@click.option("--note", default="", help="What it was about.")
@click.option("--at", metavar="DATE", help="When: YYYY-MM-DD or YYYY-MM-DDTHH:MM, office time (default: now).")
@click.pass_obj
def log_contact(app: AppContext, customer_id: str, kind: str, note: str, at: str | None) -> None:
    """Record a contact made outside cardsender; any kind but a note restarts the keep-in-touch clock."""
    with app.office() as office:
        logged = office.log_contact(customer_id, kind, note, at)
    when = logged.event.occurred_at.strftime("%Y-%m-%d %H:%M")
    if not logged.added:
        click.echo(f"Already recorded: {kind} for {who(logged.customer)} at {when}; nothing added.")
    elif logged.event.is_touch:
        click.echo(f"Logged {kind} for {who(logged.customer)} at {when}.")
    else:
        click.echo(f"Logged note for {who(logged.customer)} at {when} (a note does not count as a contact).")


_OPT_LABELS = {"no_email": "email", "no_post": "post", "no_humor": "humor", "do_not_contact": "all contact"}


def _opt_flag_options(command: F) -> F:
    for flag, option, what in reversed(
        (
            ("no_email", "--email", "email"),
            ("no_post", "--post", "posted cards"),
            ("no_humor", "--humor", "humorous cards (April Fool's)"),
            ("do_not_contact", "--all", "any contact at all (do_not_contact)"),
        )
    ):
        command = click.option(option, flag, is_flag=True, help=f"Opt out of, or back in to, {what}.")(command)
    return command


def _set_opt_outs(app: AppContext, customer_id: str, flags: dict[str, bool], opted_out: bool) -> None:
    from cardsender.app.customer_ops import opted_out_of

    chosen = [flag for flag, given in flags.items() if given]
    if not chosen:
        verb = "opt out of" if opted_out else "opt back in to"
        raise click.UsageError(f"say what to {verb}: --email, --post, --humor, or --all (any contact at all)")
    with app.office() as office:
        result = office.set_opt_outs(customer_id, chosen, opted_out=opted_out)
    labels = ", ".join(_OPT_LABELS[flag] for flag in result.changed)
    if not result.changed:
        head = f"No change for {who(result.customer)}"
    elif opted_out:
        head = f"Opted {who(result.customer)} out of {labels}"
    else:
        head = f"Opted {who(result.customer)} back in to {labels}"
    current = opted_out_of(result.customer)
    state = ", ".join(_OPT_LABELS[flag] for flag in current) if current else "nothing"
    click.echo(f"{head}; now opted out of: {state}.")


@click.command("opt-out")
@customer_id_argument
@_opt_flag_options
@click.pass_obj
def opt_out(app: AppContext, /, customer_id: str, **flags: bool) -> None:
    """Stop email, posted cards, humorous cards, or --all contact for one customer."""
    _set_opt_outs(app, customer_id, flags, opted_out=True)


@click.command("opt-in")
@customer_id_argument
@_opt_flag_options
@click.pass_obj
def opt_in(app: AppContext, /, customer_id: str, **flags: bool) -> None:
    """Undo an opt-out; --all clears do_not_contact and keeps the other choices."""
    _set_opt_outs(app, customer_id, flags, opted_out=False)


# Personal data.


@click.command("export")
@customer_id_argument
@click.pass_obj
def export(app: AppContext, customer_id: str) -> None:
    """Print everything stored about one customer as JSON (for a data access request)."""
    with app.office() as office:
        data = office.export_customer(customer_id)
    print_json(data)


@click.command("forget")
@customer_id_argument
@click.option("--yes", is_flag=True, help="Delete without asking.")
@click.pass_context
def forget(ctx: click.Context, customer_id: str, yes: bool) -> None:
    """Delete one customer and their whole contact history, for good."""
    app: AppContext = ctx.obj
    with app.office() as office:
        if not yes:
            detail = office.customer(customer_id)
            what = f"{who(detail.summary.customer)} and {plural(len(detail.history), 'contact event')}"
            if not sys.stdin.isatty():
                raise InputError(f"forget would delete {what} for good; add --yes to confirm (no terminal to ask on)")
            if not click.confirm(f"Delete {what} for good?", default=False):
                click.echo("Nothing deleted.")
                ctx.exit(1)
        result = office.forget(customer_id)
    click.echo(f"Forgot {who(result.customer)}: deleted with {plural(result.events_removed, 'contact event')}.")
    if result.files_removed:
        click.echo(f"Removed {plural(len(result.files_removed), 'email file')} about them:")
        for path in result.files_removed:
            click.echo(f"  {path}")
    for printout in result.printouts:
        state = "was posted with their card" if printout.posted else "holds their card, not posted: do not post it"
        click.echo(f"Print batch {printout.batch} {state}.")
        if printout.files_unknown:
            click.echo(f"  Its PDF holds their name and address: cards-{printout.batch}.pdf, unless printed with --out")
        elif printout.files:
            click.echo(f"  These PDFs hold their name and address: {', '.join(str(p) for p in printout.files)}")
        if printout.other_cards and (printout.files or printout.files_unknown):
            target = printout.files[0] if printout.files else Path(f"cards-{printout.batch}.pdf")
            click.echo(
                f"  Delete them, or print the batch again without them: "
                f"cardsender print --reprint {printout.batch} --out {target}"
            )
        elif printout.files or printout.files_unknown:
            click.echo("  Delete them: the batch held no other card.")
    for path, why in result.files_left:
        click.echo(f"Not removed: {path}: {why}; check it and delete it by hand.", err=True)
    if result.files_left:
        ctx.exit(2)


COMMANDS = (customers_group, log_contact, opt_out, opt_in, export, forget)

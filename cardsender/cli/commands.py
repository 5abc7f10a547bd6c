"""The command line: parse arguments, call one library function, print, translate errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from cardsender import __version__
from cardsender.cli.lazy import LazyModule
from cardsender.cli.table import format_table
from cardsender.config.loading import load_config
from cardsender.config.model import DATE_FORMATS
from cardsender.domain.errors import CardsenderError, InputError
from cardsender.domain.labels import occasion_label
from cardsender.domain.records import CARD_OCCASIONS, EVENT_KINDS, RESOLUTIONS, name_and_id
from cardsender.system import clock

if TYPE_CHECKING:
    from cardsender import importers
    from cardsender.app import customer_ops as customers
    from cardsender.app import outbox_ops as outbox
    from cardsender.app import workspace
    from cardsender.cards import context as cards
    from cardsender.config.model import Config
    from cardsender.domain.records import Customer, Touch
    from cardsender.planning import agenda
    from cardsender.printing import batches as printing
    from cardsender.sending.transport import Transport
    from cardsender.store import Store
    from cardsender.store.lease import Lease
    from cardsender.store.outbox import OutboxRow
else:
    # The library loads on first use, so that 'cardsender --help' starts at once.
    agenda, cards, customers, importers, outbox, printing, workspace = (
        LazyModule(f"cardsender.{name}")
        for name in (
            "planning.agenda",
            "cards.context",
            "app.customer_ops",
            "importers",
            "app.outbox_ops",
            "printing.batches",
            "app.workspace",
        )
    )


class AppContext:
    """What every command needs: the loaded config, opened lazily."""

    def __init__(self, config_path: str | None, verbose: bool, office: str | None = None) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.office = office
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        """Return the config, acting for the office chosen with --office (else the first it names)."""
        if self._config is None:
            loaded = load_config(self.config_path)
            self._config = loaded.for_office(self.office) if self.office else loaded
        return self._config


class CardsenderGroup(click.Group):
    """A group that prints our errors, and click's usage errors, as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CardsenderError as exc:
            verbose = isinstance(ctx.obj, AppContext) and ctx.obj.verbose
            _fail(str(exc), exc if verbose else None)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group named without a command shows its help
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = " ".join(exc.format_message().split()).rstrip(".")  # click may spread it over lines
            _fail(f"{message}; see '{where} --help'", exit_code=exc.exit_code)


def _fail(message: str, exc: BaseException | None = None, exit_code: int = 1) -> NoReturn:
    if exc is not None:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


@click.group("cardsender", cls=CardsenderGroup)
@click.version_option(__version__, prog_name="cardsender")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file to use.")
@click.option(
    "--office",
    metavar="KEY",
    envvar="CARDSENDER_OFFICE",
    help="The office to act for, by its key in [offices.KEY] (default: the first the config names).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show details, and tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, office: str | None, verbose: bool) -> None:
    """Personal cards and keep-in-touch messages for your customers."""
    ctx.obj = AppContext(config_path, verbose, office)


def main() -> None:
    """Run the command line."""
    cli(prog_name="cardsender")


# Helpers shared by the commands.


def _store(app: AppContext) -> Store:
    """Open the configured database; use it in a ``with`` block so it is closed."""
    from cardsender.store import Store

    return Store.open(app.config.database.url)


def _parse_day(text: str, option: str) -> dt.date:
    """Parse a day given on the command line as YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option}: '{text}' is not a date; write YYYY-MM-DD, for example 2026-03-14") from None


def _today(app: AppContext, on: str | None = None, option: str = "--on") -> dt.date:
    """Return the day a command works on: ``--on DATE`` when given, else today in the office time zone."""
    if on:
        return _parse_day(on, option)
    return clock.office_today(app.config.office.timezone)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _approval_note(count: int) -> str:
    """Say how many cards wait for approval and how to release them ("" when none do)."""
    if not count:
        return ""
    return (
        f"{_plural(count, 'card')} {'waits' if count == 1 else 'wait'} for approval: 'cardsender approve --all' "
        "sends them with the next run ('cardsender approve ROW...' some of them, 'cardsender skip ROW' never)"
    )


def _who(customer: Customer) -> str:
    return f"{customer.display_name} ({customer.id})"


def _config_option(config_path: Path) -> str:
    """Return `` --config PATH`` unless the config would be found in the current folder anyway."""
    if config_path.resolve().parent == Path.cwd().resolve():
        return ""
    return f' --config "{config_path}"' if " " in str(config_path) else f" --config {config_path}"


customer_id_argument = click.argument("customer_id", metavar="ID")


# Setting up.


@cli.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Write a commented cardsender.toml and create the database in DIRECTORY (default: here).

    An existing cardsender.toml is never overwritten: init then changes nothing.
    """
    made = workspace.init_workspace(directory, clock.office_today(workspace.example_timezone()))
    config = made.config_path
    run = f"cardsender{_config_option(config)}"
    click.echo(f"Wrote {config} (start_date is today; the database is {workspace.DATABASE_FILENAME} beside it)")
    verb = "Opened the existing" if made.database_existed else "Created the"
    click.echo(f"{verb} database {made.database_path}")
    click.echo("Next:")
    click.echo(f"  1. Edit {config}: your office name, sender, postal address, time zone and email settings.")
    click.echo(f"  2. Import your customers:  {run} import customers customers.csv")
    click.echo(f"  3. Import their history:   {run} import history history.csv")
    click.echo(f"Initialised {directory.resolve()}.")


@cli.command()
@click.argument("directory", default="cardsender-demo", type=click.Path(path_type=Path))
def demo(directory: Path) -> None:
    """Make a demo in a new DIRECTORY (default: cardsender-demo): sample data, a send cycle, previews, reports."""
    from cardsender.app.demo import run_demo

    zone = workspace.example_timezone()
    done = run_demo(directory, today=clock.office_today(zone), now=clock.utc_now(), office_now=clock.office_now(zone))
    made = done.made
    for message in (*made.customers.messages(), *made.history.messages()):
        click.echo(message, err=True)
    run = f"cardsender{_config_option(made.workspace.config_path)}"
    click.echo(f"Wrote {made.workspace.config_path} and the database {made.workspace.database_path}")
    click.echo(
        f"Imported {_plural(made.customers.added, 'sample customer')} and "
        f"{_plural(made.history.added, 'contact event')} from the past year"
    )
    outbox_dir = made.workspace.config_path.parent / "outbox"
    click.echo(
        f"Sent {_plural(done.cycle.count('sent'), 'card')} due today as email files in {outbox_dir}"
        f" ({done.cycle.count('held')} held for review)"
    )
    click.echo(f"Card previews: {', '.join(str(p) for p in done.previews)}")
    if done.batch is not None:
        click.echo(f"This week's cards to print, with the writer's guide: {done.batch}")
    click.echo(f"The year ahead: {done.forecast}; the owner's report: {done.report}")
    click.echo("Try:")
    click.echo(f"  {run} status")
    click.echo(f"  {run} calls")
    click.echo(f"  {run} plan --days 7")
    click.echo(f"  {run} preview C001 birthday")
    click.echo(f"Demo ready in {directory}: {_plural(made.customers.added, 'customer')}.")


# Importing.


@cli.group("import")
def import_group() -> None:
    """Import customers, or their contact history, from a file."""


date_format_option = click.option(
    "--date-format",
    type=click.Choice(DATE_FORMATS),
    help="How to read dates such as 03/04/1980 (default: [import] date_format in the config).",
)


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a callback that draws a progress bar on a terminal, or None when output is redirected."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    with ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(length=total, label=label, file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        yield update


@contextmanager
def _spinner(label: str) -> Iterator[None]:
    """Say on a terminal that long work is under way; stay quiet when output is redirected."""
    if sys.stdout.isatty() and sys.stderr.isatty():
        click.echo(f"{label}...", err=True)
    yield


def _run_import(
    app: AppContext, importer: Callable[..., importers.ImportResult], file: Path, date_format: str | None, **more: Any
) -> importers.ImportResult:
    with _store(app) as store, _progress(f"Importing {file}") as progress:
        return importer(
            store,
            file,
            today=_today(app),
            now=clock.utc_now(),
            date_format=date_format or app.config.imports.date_format,
            progress=progress,
            **more,
        )


def _report_import(ctx: click.Context, result: importers.ImportResult, counts: str) -> None:
    """Print rejected rows on stderr, then the summary; exit with status 2 when a row was rejected."""
    for message in result.messages():
        click.echo(message, err=True)
    if result.ignored_columns:
        click.echo(f"Ignored columns cardsender does not use: {', '.join(result.ignored_columns)}", err=True)
    rejects = f" (rejects written to {result.rejects_path})" if result.rejects_path else ""
    click.echo(f"Imported {result.path}: {counts}, {result.rejected_count} rejected{rejects}")
    if result.rejected_count:
        ctx.exit(2)


@import_group.command("customers")
@click.argument("file", type=click.Path(path_type=Path))
@date_format_option
@click.pass_context
def import_customers(ctx: click.Context, file: Path, date_format: str | None) -> None:
    """Add or update customers from a CSV file or vCards (.vcf); rows are matched on their id."""
    config = ctx.obj.config
    days = {office.key: clock.office_today(office.timezone) for office in config.served()}
    result = _run_import(
        ctx.obj,
        importers.import_customers,
        file,
        date_format,
        offices=config.office_keys(),
        default_office=config.office.key,
        office_days=days,
    )
    _report_import(ctx, result, f"{result.added} added, {result.updated} updated")


@import_group.command("history")
@click.argument("file", type=click.Path(path_type=Path))
@date_format_option
@click.pass_context
def import_history(ctx: click.Context, file: Path, date_format: str | None) -> None:
    """Add contact events (purchases, calls, visits...) from a CSV file; importing twice adds nothing twice."""
    result = _run_import(ctx.obj, importers.import_history, file, date_format)
    _report_import(ctx, result, f"{result.added} added, {result.skipped} already present")


# Customers.


@cli.group("customers")
def customers_group() -> None:
    """List, show and edit customers."""


@customers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def customers_list(app: AppContext, as_json: bool) -> None:
    """List every customer with their last contact and the days since."""
    with _store(app) as store:
        summaries = customers.list_customers(store, _today(app))
    if as_json:
        _print_json([customers.summary_to_json(summary) for summary in summaries])
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
    click.echo(f"{_plural(len(summaries), 'customer')}, {never} never contacted.")


@customers_group.command("show")
@customer_id_argument
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def customers_show(app: AppContext, customer_id: str, as_json: bool) -> None:
    """Show every stored field of one customer and their contact history."""
    with _store(app) as store:
        detail = customers.show_customer(store, customer_id, _today(app))
    if as_json:
        _print_json(customers.detail_to_json(detail))
        return
    fields = customers.customer_to_json(detail.summary.customer)
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
        f"last contact {summary.last_contact.isoformat()}, {_plural(summary.days_since or 0, 'day')} ago"
        if summary.last_contact
        else "never contacted"
    )
    years = _plural(detail.years_as_customer, "year") if detail.years_as_customer else "less than a year"
    click.echo(
        f"{_who(summary.customer)}: {last}; a customer for {years}; "
        f"{_plural(len(detail.history), 'event')} in the history."
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
    with _store(app) as store:
        result = customers.edit_customer(
            store,
            customer_id,
            assignments,
            now=clock.utc_now(),
            date_format=date_format or app.config.imports.date_format,
            offices=app.config.office_keys(),
        )
    if result.changed:
        click.echo(f"Updated {_who(result.customer)}: {', '.join(result.changed)}.")
    else:
        click.echo(f"No change to {_who(result.customer)}: every value was already set.")


# Contacts and preferences.


@cli.command("log")
@customer_id_argument
@click.option("--kind", required=True, type=click.Choice(EVENT_KINDS), help="What kind of contact it was.")
@click.option("--note", default="", help="What it was about.")
@click.option("--at", metavar="DATE", help="When: YYYY-MM-DD or YYYY-MM-DDTHH:MM, office time (default: now).")
@click.pass_obj
def log_contact(app: AppContext, customer_id: str, kind: str, note: str, at: str | None) -> None:
    """Record a contact made outside cardsender; any kind but a note restarts the keep-in-touch clock."""
    office_now = clock.office_now(app.config.office.timezone)
    occurred_at = customers.parse_event_time(at) if at else office_now
    with _store(app) as store:
        logged = customers.log_contact(
            store, customer_id, kind, occurred_at=occurred_at, office_now=office_now, now=clock.utc_now(), summary=note
        )
    when = logged.event.occurred_at.strftime("%Y-%m-%d %H:%M")
    if not logged.added:
        click.echo(f"Already recorded: {kind} for {_who(logged.customer)} at {when}; nothing added.")
    elif logged.event.is_touch:
        click.echo(f"Logged {kind} for {_who(logged.customer)} at {when}.")
    else:
        click.echo(f"Logged note for {_who(logged.customer)} at {when} (a note does not count as a contact).")


_OPT_LABELS = {"no_email": "email", "no_post": "post", "no_humor": "humor", "do_not_contact": "all contact"}


def _opt_flag_options(command: Callable[..., Any]) -> Callable[..., Any]:
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
    chosen = [flag for flag, given in flags.items() if given]
    if not chosen:
        verb = "opt out of" if opted_out else "opt back in to"
        raise click.UsageError(f"say what to {verb}: --email, --post, --humor, or --all (any contact at all)")
    with _store(app) as store:
        result = customers.set_opt_outs(store, customer_id, chosen, opted_out=opted_out, now=clock.utc_now())
    labels = ", ".join(_OPT_LABELS[flag] for flag in result.changed)
    if not result.changed:
        head = f"No change for {_who(result.customer)}"
    elif opted_out:
        head = f"Opted {_who(result.customer)} out of {labels}"
    else:
        head = f"Opted {_who(result.customer)} back in to {labels}"
    current = customers.opted_out_of(result.customer)
    state = ", ".join(_OPT_LABELS[flag] for flag in current) if current else "nothing"
    click.echo(f"{head}; now opted out of: {state}.")


@cli.command("opt-out")
@customer_id_argument
@_opt_flag_options
@click.pass_obj
def opt_out(app: AppContext, /, customer_id: str, **flags: bool) -> None:
    """Stop email, posted cards, humorous cards, or --all contact for one customer."""
    _set_opt_outs(app, customer_id, flags, opted_out=True)


@cli.command("opt-in")
@customer_id_argument
@_opt_flag_options
@click.pass_obj
def opt_in(app: AppContext, /, customer_id: str, **flags: bool) -> None:
    """Undo an opt-out; --all clears do_not_contact and keeps the other choices."""
    _set_opt_outs(app, customer_id, flags, opted_out=False)


# Personal data.


@cli.command("export")
@customer_id_argument
@click.pass_obj
def export(app: AppContext, customer_id: str) -> None:
    """Print everything stored about one customer as JSON (for a data access request)."""
    with _store(app) as store:
        data = customers.export_customer(store, customer_id)
    _print_json(data)


@cli.command("forget")
@customer_id_argument
@click.option("--yes", is_flag=True, help="Delete without asking.")
@click.pass_context
def forget(ctx: click.Context, customer_id: str, yes: bool) -> None:
    """Delete one customer and their whole contact history, for good."""
    app: AppContext = ctx.obj
    with _store(app) as store:
        if not yes:
            detail = customers.show_customer(store, customer_id, _today(app))
            what = f"{_who(detail.summary.customer)} and {_plural(len(detail.history), 'contact event')}"
            if not sys.stdin.isatty():
                raise InputError(f"forget would delete {what} for good; add --yes to confirm (no terminal to ask on)")
            if not click.confirm(f"Delete {what} for good?", default=False):
                click.echo("Nothing deleted.")
                ctx.exit(1)
        result = customers.forget_customer(
            store, customer_id, now=clock.utc_now(), mail_folders=[app.config.email.outbox_dir]
        )
    click.echo(f"Forgot {_who(result.customer)}: deleted with {_plural(result.events_removed, 'contact event')}.")
    if result.files_removed:
        click.echo(f"Removed {_plural(len(result.files_removed), 'email file')} about them:")
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


# Planning: what is due, who to call, what is coming, how well customers are covered.

on_option = click.option("--on", metavar="DATE", help="The day, YYYY-MM-DD (default: today at the office).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
# Ten years is far beyond any useful plan or forecast, and keeps a typo from running for hours.
MAX_RANGE_DAYS = 3660


def _touch_rows(touches: list[Touch], names: dict[str, str], explain: bool) -> str:
    rows = []
    for t in touches:
        who = f"{names.get(t.customer_id, t.customer_id)} ({t.customer_id})"
        row = [t.due_date.isoformat(), who, occasion_label(t.occasion), t.channel, t.arrives.isoformat()]
        why = f"late (its mail-by date has passed): {t.reason}" if t.late else t.reason
        row.append(f"not sent: {t.suppressed_reason}" if t.suppressed_reason else why)
        rows.append(row)
    headers = ("Due", "Customer", "Occasion", "Channel", "Arrives", "Why")
    return format_table(rows, headers) if rows else ""


@cli.command("plan")
@on_option
@click.option(
    "--days", type=click.IntRange(1, MAX_RANGE_DAYS), default=1, show_default=True, help="How many days to plan."
)
@json_option
@click.option("--explain", is_flag=True, help="Also list the cards left out (collisions, opt-outs, missed) and why.")
@click.pass_obj
def plan(app: AppContext, on: str | None, days: int, as_json: bool, explain: bool) -> None:
    """List the cards due on a day (or over --days days), each as if the ones before went out on time."""
    first = _today(app, on)
    with _store(app) as store:
        touches = agenda.plan_touches(store, app.config, first, days, explain=explain)
        names = customers.display_names(store, (t.customer_id for t in touches)) if not as_json else {}
        waiting = outbox.awaiting_approval(store, app.config.office.key)
    if as_json:
        _print_json([t.to_json() for t in touches])
        return
    last = first + dt.timedelta(days=days - 1)
    span = f"on {first.isoformat()}" if days == 1 else f"from {first.isoformat()} to {last.isoformat()}"
    planned = [t for t in touches if t.suppressed_reason is None]
    if touches:
        click.echo(_touch_rows(touches, names, explain))
    by_channel = ", ".join(
        f"{sum(1 for t in planned if t.channel == channel)} by {channel}" for channel in ("email", "post")
    )
    left_out = len(touches) - len(planned)
    late = sum(1 for t in planned if t.late)
    tail = (f"; {late} late, arriving after the customer's day" if late else "") + (
        f"; {left_out} left out" if explain else ""
    )
    click.echo(f"{_plural(len(planned), 'card')} due {span} ({by_channel}){tail}.")
    if waiting:
        click.echo(f"{_approval_note(waiting)}.")


@cli.command("calls")
@on_option
@json_option
@click.pass_obj
def calls(app: AppContext, on: str | None, as_json: bool) -> None:
    """List the customers staff should call: untouched for call_after_days (56) or more, by owner."""
    today = _today(app, on)
    with _store(app) as store:
        entries = agenda.call_list(store, app.config, today)
    if as_json:
        _print_json([e.to_json() for e in entries])
        return
    owners: dict[str, list[agenda.CallEntry]] = {}
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
                    for flag, on in (("OVERDUE", e.overdue), ("CARD HELD", e.card_held), ("CARD FAILED", e.card_failed))
                    if on
                ),
            )
            for e in group
        ]
        click.echo(format_table(rows, ("  Customer", "Last contact", "Days", ""), align_right={2}))
    overdue = sum(1 for e in entries if e.overdue)
    limit = app.config.keep_in_touch.max_gap_days
    click.echo(
        f"{_plural(len(entries), 'customer')} to call on {today.isoformat()}, {overdue} overdue (over {limit} days)."
    )


@cli.command("forecast")
@click.option("--from", "first_text", metavar="DATE", help="First day (default: today at the office).")
@click.option("--to", "last_text", metavar="DATE", help="Last day (default: a year after the first, less a day).")
@json_option
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write an HTML page.")
@click.pass_obj
def forecast(app: AppContext, first_text: str | None, last_text: str | None, as_json: bool, html_path: Path | None):
    """Simulate a range of days as if every planned card went out on its due date and nobody called."""
    first = _today(app, first_text, "--from")
    last = _parse_day(last_text, "--to") if last_text else first + dt.timedelta(days=364)
    if last < first:
        raise InputError(f"--to {last.isoformat()} is before --from {first.isoformat()}; give the earlier day first")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InputError(f"the range is over {MAX_RANGE_DAYS} days; forecast ten years or less at a time")
    with _store(app) as store, _spinner("Simulating"):
        result = agenda.forecast(store, app.config, first, last)
    if html_path is not None:
        from cardsender.reports.forecast_page import write_forecast_html  # only the page needs it
        from cardsender.system.private import reserve_private

        write_forecast_html(result, reserve_private(html_path), office_name=app.config.office.name)
    if as_json:
        _print_json(result.to_json())
        return
    summary = result.to_json()["summary"]
    months = result.cards_per_month()
    occasions_seen = sorted({name for counts in months.values() for name in counts}, key=agenda.occasion_order)
    if months:
        rows = [
            (month, *(str(counts.get(o, 0)) for o in occasions_seen), str(sum(counts.values())))
            for month, counts in months.items()
        ]
        headers = ("Month", *(occasion_label(o) for o in occasions_seen), "Total")
        click.echo(format_table(rows, headers, align_right=set(range(1, len(headers)))))
    if html_path is not None:
        click.echo(f"Wrote {html_path}")
    limit = result.limit_days
    before = result.counted_before
    if before:
        since, until = before[0].day.replace(day=1), first - dt.timedelta(days=1)
        click.echo(
            f"{first:%Y-%m} also counts the {_plural(len(before), 'card')} already sent for "
            f"{since.isoformat()} to {until.isoformat()}, before the forecast starts."
        )
    if result.overdue_at_start:
        listed = ", ".join(f"{c.who}, {c.max_gap_days} days" for c in result.overdue_at_start)
        click.echo(f"Already overdue on the first day ({len(result.overdue_at_start)}): {listed}")
    if result.breached_by_plan:
        listed = ", ".join(f"{c.who}, {c.gap_of_plan} days" for c in result.breached_by_plan)
        click.echo(f"Breaches the plan would cause ({len(result.breached_by_plan)}): {listed}")
    click.echo(
        f"Forecast {first.isoformat()} to {last.isoformat()}: {_plural(result.card_count, 'card')} for "
        f"{_plural(len(result.contactable), 'contactable customer')}; longest gap {summary['max_gap_days']} days "
        f"(limit {limit}), {summary['customers_over_limit']} over the limit."
    )


@cli.command("report")
@on_option
@json_option
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write a one-page PDF.")
@click.pass_obj
def report(app: AppContext, on: str | None, as_json: bool, pdf_path: Path | None) -> None:
    """Show how well customers are kept in touch: coverage, at risk, overdue, and breaches ahead."""
    today = _today(app, on)
    with _store(app) as store, _spinner("Counting"):
        result = agenda.coverage_report(store, app.config, today)
    if pdf_path is not None:
        from cardsender.reports.report_pdf import write_report_pdf  # reportlab loads only for the PDF
        from cardsender.system.private import reserve_private

        kit = app.config.keep_in_touch
        write_report_pdf(result, reserve_private(pdf_path), office_name=app.config.office.name, keep_in_touch=kit)
    if as_json:
        _print_json(result.to_json())
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
        f"Coverage on {today.isoformat()}: {result.coverage_percent}% of contactable customers touched "
        f"within {kit.max_gap_days} days; {len(result.overdue)} overdue."
    )


# The words of the cards.

PREVIEW_FORMATS = ("text", "html", "eml", "pdf", "png")


@cli.command("preview")
@customer_id_argument
@click.argument("occasion", type=click.Choice(CARD_OCCASIONS))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(PREVIEW_FORMATS),
    default="text",
    show_default=True,
    help="text and html for the email's parts, eml for the whole message, pdf and png for the printed card.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead.")
@on_option
@click.pass_obj
def preview(app: AppContext, customer_id: str, occasion: str, fmt: str, out: Path | None, on: str | None) -> None:
    """Show exactly what a customer's card for OCCASION would say, as of --on DATE (default today)."""
    from cardsender.system.private import open_private, reserve_private

    today = _today(app, on)
    channel = "post" if fmt in ("pdf", "png") else "email"
    with _store(app) as store:
        shown = cards.preview_card(store, app.config, customer_id, occasion, today, channel)
    card, customer = shown.card, shown.customer
    if fmt in ("pdf", "png"):
        target = out or Path(f"cardsender-preview-{_safe_name(customer.id)}-{occasion}.{fmt}")
        from cardsender.printing.card_pdf import write_card_pdf, write_page_png  # reportlab only for printing

        if fmt == "pdf":
            write_card_pdf(card, reserve_private(target))
        else:
            with tempfile.TemporaryDirectory() as folder:
                pdf = Path(folder, "card.pdf")
                write_card_pdf(card, pdf)
                write_page_png(pdf, reserve_private(target))
        click.echo(f"Wrote {target}")
    else:
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
                raise InputError(f"{_who(customer)} has no email address; preview the printed card with --format pdf")
            from cardsender.sending.message import build_email

            body = build_email(card, customer, app.config.office, clock.utc_now()).data.decode().replace("\r\n", "\n")
        if out is None:
            click.echo(body, nl=False)
        else:
            with open_private(out, "w", encoding="utf-8") as fh:  # a card names the customer: private file
                fh.write(body)
            click.echo(f"Wrote {out}")
    variant = f"wording {card.variant}, {card.language}, for {shown.occasion_date.isoformat()}"
    if shown.held_because:
        click.echo(f"Held for review ({variant}): {shown.held_because}.", err=True)
    else:
        click.echo(f"Ready to send ({variant}).", err=True)


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


@cli.command("note")
@customer_id_argument
@click.argument("text")
@click.option("--occasion", type=click.Choice(CARD_OCCASIONS), help="Only for a card of this occasion.")
@click.pass_obj
def note(app: AppContext, customer_id: str, text: str, occasion: str | None) -> None:
    """Attach a personal note to a customer's next card (of --occasion, or any); it is used once."""
    with _store(app) as store:
        added = cards.add_note(store, customer_id, text, occasion, now=clock.utc_now())
    which = f"next {occasion_label(occasion).lower()} card" if occasion else "next card"
    click.echo(f'Noted for {_who(added.customer)}\'s {which}: "{added.text}"')
    if added.released:
        click.echo(f"{_plural(added.released, 'card')} held for review will go out with it.")


@cli.group("templates")
def templates_group() -> None:
    """Copy the bundled card templates to edit, and check templates before they are used."""


@templates_group.command("copy")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def templates_copy(directory: Path) -> None:
    """Copy the bundled card templates into DIRECTORY to edit; files already there are kept."""
    copied = cards.copy_templates(directory)
    kept = f", kept {_plural(len(copied.kept), 'file')} already there" if copied.kept else ""
    click.echo(f"Copied {_plural(len(copied.written), 'template file')} to {directory}{kept}.")
    click.echo(f'Use them: set dir = "{directory}" under [templates] in your config.')


@templates_group.command("check")
@click.pass_context
def templates_check(ctx: click.Context) -> None:
    """Render every template for varied sample customers and report what would go wrong."""
    app: AppContext = ctx.obj
    from cardsender.printing.card_pdf import panel_overflow  # reportlab only where cards are checked

    rendered, problems = cards.check_templates(app.config, panel_overflow)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"Rendered {_plural(rendered, 'card')}: {_plural(len(problems), 'problem')}.")
    if problems:
        ctx.exit(1)


# Sending.


def _transport(app: AppContext) -> Transport:
    """Return the configured email transport: files in a folder, or an SMTP server."""
    from cardsender.config.password import smtp_password
    from cardsender.sending.transport import FileTransport, SmtpTransport

    email = app.config.email
    if email.transport == "file":
        return FileTransport(email.outbox_dir)
    password = smtp_password(email, os.environ) if email.username else None
    return SmtpTransport(email, app.config.office.from_address, password)


@cli.command("send")
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
    today = _today(app, on)
    office_today = clock.office_today(app.config.office.timezone)
    if not dry_run and today > office_today:
        raise InputError(f"--on {today.isoformat()} is in the future; cards go out on their day, not before")
    from cardsender.sending.cycle import SendCycle, worker_name

    worker = worker_name()
    with _store(app) as store:
        cycle = SendCycle(
            store,
            app.config,
            today=today,
            now=clock.utc_now,
            office_now=clock.office_now(app.config.office.timezone),
            worker=worker,
        )
        if dry_run:
            folder = app.config.email.outbox_dir / "dry-run" / today.isoformat()
            report = cycle.dry_run(folder, limit)
        else:
            report = cycle.run(_transport(app), limit)
        waiting = outbox.awaiting_approval(store, app.config.office.key)
    for result in report.results:
        click.echo(f"{result.state:<10} {result.customer_id:<12} {occasion_label(result.occasion):<13} {result.detail}")
    if report.dry_run:
        would = report.count("would-send")
        click.echo(
            f"Dry run for {today.isoformat()}: {_plural(would, 'card')} would go out (written to {report.folder}), "
            f"{report.count('would-hold')} would be held for review. Send them with --no-dry-run."
        )
        if waiting:
            click.echo(f"{_approval_note(waiting)}.")
        return
    outcomes = (("pending", "to retry"), ("failed", "failed"), ("unknown", "unknown"), ("held", "held"))
    counts = ", ".join(f"{report.count(state)} {label}" for state, label in (*outcomes, ("cancelled", "cancelled")))
    recovered = f"; {report.recovered} left sending by a crash are now unknown" if report.recovered else ""
    if report.returned:
        recovered += f"; {report.returned} claimed by a run that stopped before sending them are pending again"
    approval = f"; {_approval_note(waiting)}" if waiting else ""
    click.echo(f"Sent {_plural(report.count('sent'), 'card')} on {today.isoformat()}: {counts}{recovered}{approval}.")
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


def _service_line(running: list[Lease], now: dt.datetime) -> str:
    """Describe the service heard from last: running or not, its heartbeat, last cycle and next run (times in
    UTC); and how many others are running beside it (PostgreSQL).  A service whose process on this machine
    has ended is not running, whatever its last heartbeat."""
    from cardsender.store.lease import is_alive, stopped_cleanly

    if not running:
        return "Service: never started ('cardsender run' starts it)."
    lease = running[0]
    age = int((now - lease.heartbeat_at).total_seconds())
    alive = is_alive(lease, now)
    others = sum(1 for other in running[1:] if is_alive(other, now))
    beside = f" (and {_plural(others, 'other service')} running)" if alive and others else ""
    if alive:
        state = f"running as {lease.holder}{beside}, heartbeat {age} s ago"
    elif stopped_cleanly(lease):
        state = "not running (stopped)"
    else:
        state = f"not running (last heard from {lease.heartbeat_at:%Y-%m-%d %H:%M} UTC, as {lease.holder})"
    last = f"; last cycle {lease.last_cycle_at:%Y-%m-%d %H:%M} UTC: {lease.last_cycle}" if lease.last_cycle_at else ""
    following = f"; next daily run {lease.next_run_at:%Y-%m-%d %H:%M} UTC" if alive and lease.next_run_at else ""
    return f"Service: {state}{last}{following}."


@cli.command("status")
@click.pass_obj
def status(app: AppContext) -> None:
    """Show the service, the outbox, and the cards that need someone: unknown, failed, held, or stuck."""
    with _store(app) as store:
        rows = outbox.needs_attention(store)
        late = outbox.late_check_ins(store, app.config, _today(app), clock.utc_now())
        unposted = outbox.unposted_batches(store)
        running = outbox.service_leases(store)
        counts = outbox.state_counts(store)
        waiting = outbox.awaiting_approval(store, app.config.office.key)
    click.echo(_service_line(running, clock.utc_now()))
    if counts:
        click.echo("Outbox: " + ", ".join(f"{count} {state}" for state, count in counts.items()) + ".")
    if rows:
        click.echo(_outbox_rows(rows))
    for batch, count in unposted:
        click.echo(
            f"Batch {batch}: {_plural(count, 'card')} printed, not yet marked mailed (cardsender mark-mailed {batch})"
        )
    if late:
        per_day, limit = _plural(app.config.email.rate_per_day, "email"), app.config.keep_in_touch.max_gap_days
        click.echo(
            f"Warning: at {per_day} a day, {_plural(late, 'check-in')} would go out after the customer's day "
            f"{limit}; raise [email] rate_per_day, or call them.",
            err=True,
        )
    if waiting:
        click.echo(f"{_approval_note(waiting)}.")
    unknown = sum(1 for r in rows if r.state == "unknown")
    hint = "; settle unknown ones with 'cardsender resolve ROW sent|resend|cancel'" if unknown else ""
    click.echo(f"{_plural(len(rows), 'card')} need attention{hint}.")


@cli.command("resolve")
@click.argument("row", type=int)
@click.argument("action", type=click.Choice(RESOLUTIONS))
@click.pass_obj
def resolve(app: AppContext, row: int, action: str) -> None:
    """Settle a card whose fate is unknown: it was sent, send it again, or cancel it."""
    with _store(app) as store:
        done = outbox.resolve(
            store, row, action, now=clock.utc_now(), office_now=clock.office_now(app.config.office.timezone)
        )
    click.echo(f"Row {done.row} ({done.customer_id}, {occasion_label(done.occasion)}) is now {done.state}.")


@cli.command("outbox")
@click.option("--state", "states", multiple=True, help="Only rows in this state (repeat for several).")
@json_option
@click.pass_obj
def outbox_command(app: AppContext, states: tuple[str, ...], as_json: bool) -> None:
    """List the outbox: every card planned, sent, held or failed."""
    with _store(app) as store:
        rows = outbox.list_outbox(store, states or None)
    if as_json:
        _print_json([row.to_json() for row in rows])
        return
    if rows:
        click.echo(_outbox_rows(rows))
    click.echo(f"{_plural(len(rows), 'card')} in the outbox.")


@cli.command("bounces")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_obj
def bounces(app: AppContext, file: Path) -> None:
    """Read bounce reports exported from the office mailbox (.mbox, .eml, or a folder of .eml files)."""
    from cardsender.sending.bounces import read_bounces

    scan = read_bounces(file)
    with _store(app) as store:
        applied = outbox.apply_bounces(store, scan, clock.utc_now())
    for bounce in scan.bounces:
        click.echo(f"{bounce.address}: {bounce.status} {bounce.diagnostic}".rstrip())
    if applied.unknown_addresses:
        click.echo(f"Not a customer's address: {', '.join(applied.unknown_addresses)}", err=True)
    click.echo(
        f"Read {file}: {len(scan.bounces)} bounced {'address' if len(scan.bounces) == 1 else 'addresses'}, "
        f"{_plural(len(applied.customers), 'customer')} no longer emailed (on the call list if a card failed), "
        f"{_plural(applied.cards_failed, 'card')} marked failed; {scan.delayed} delays and {scan.other} other "
        "messages left alone."
    )


# Printing.


@cli.command("print")
@click.option("--from", "first_text", metavar="DATE", help="First mail-by day (default: today at the office).")
@click.option("--to", "last_text", metavar="DATE", help="Last mail-by day (default: six days after the first).")
@click.option("--days", type=click.IntRange(1, 366), help="Or: how many days from the first.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write (default: cards-BATCH.pdf)."
)
@click.option(
    "--format",
    "card_format",
    type=click.Choice(("quarter-letter", "quarter-a4", "half-duplex", "postcard")),
    help="Card format (default: [print] card_format).",
)
@click.option("--envelopes", is_flag=True, help="Also print the envelopes, in the same order.")
@click.option("--labels", "labels", type=click.Choice(("5160", "L7160")), help="Or the address labels on this sheet.")
@click.option(
    "--start-at",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="The first free label of a partly used sheet.",
)
@click.option("--reprint", "batch", metavar="BATCH", help="Make the PDF of an earlier batch again.")
@click.pass_obj
def print_cards(
    app: AppContext,
    first_text: str | None,
    last_text: str | None,
    days: int | None,
    out: Path | None,
    card_format: str | None,
    envelopes: bool,
    labels: str | None,
    start_at: int,
    batch: str | None,
) -> None:
    """Print the posted cards to mail in the coming days, with a writer's guide, as one PDF batch."""
    today = clock.office_today(app.config.office.timezone)
    if batch is not None:
        target = out or Path(f"cards-{batch}.pdf")
        with _store(app) as store:
            done = printing.reprint(store, app.config, batch, target, today, card_format, now=clock.utc_now())
        left_out = (
            f"; {_plural(done.forgotten, 'card')} of this batch belonged to customers since forgotten and "
            f"{'is' if done.forgotten == 1 else 'are'} left out"
            if done.forgotten
            else ""
        )
        click.echo(f"Wrote {target} again: batch {batch}, {_plural(len(done.printed), 'card')}{left_out}.")
        return
    if last_text and days:
        raise InputError("give --to or --days, not both")
    if envelopes and labels:
        raise InputError("give --envelopes or --labels SHEET, not both")
    first = _today(app, first_text, "--from")
    last = _parse_day(last_text, "--to") if last_text else first + dt.timedelta(days=(days or 7) - 1)
    with _store(app) as store:
        made = printing.print_batch(
            store,
            app.config,
            first=first,
            last=last,
            out=out,
            today=today,
            now=clock.utc_now(),
            card_format=card_format,
            envelopes=envelopes,
            labels=labels,
            start_at=start_at,
        )
    for row, why in made.held:
        click.echo(f"Held {row.customer_id} {occasion_label(row.occasion)}: {why}", err=True)
    already = f"; {made.already_printed} already printed earlier (use --reprint BATCH)" if made.already_printed else ""
    late = f" ({made.late} late: past their mail-by date, mail them first)" if made.late else ""
    if made.batch is None:
        click.echo(f"Nothing to print for {first.isoformat()} to {last.isoformat()}{already}.")
        return
    click.echo(
        f"Wrote {made.path}: batch {made.batch}, {_plural(len(made.printed), 'card')}{late} to mail from "
        f"{first.isoformat()} to {last.isoformat()}{already}. Once posted: cardsender mark-mailed {made.batch}"
    )
    if made.addresses is not None:
        click.echo(f"Wrote {made.addresses}: the addresses in the same order; print it at actual size.")


@cli.command("mark-mailed")
@click.argument("batch")
@on_option
@click.option("--except", "spoiled", type=int, multiple=True, metavar="ROW", help="A card not posted (repeatable).")
@click.pass_obj
def mark_mailed(app: AppContext, batch: str, on: str | None, spoiled: tuple[int, ...]) -> None:
    """Record that a print batch was posted: each card counts as a contact on its occasion date."""
    with _store(app) as store:
        mailed, back = printing.mark_mailed(
            store, batch, mailed_on=_today(app, on), now=clock.utc_now(), spoiled=spoiled
        )
    again = f"; {_plural(back, 'card')} back to print again" if back else ""
    click.echo(f"Batch {batch}: {_plural(mailed, 'card')} mailed{again}.")


# The service.


@cli.command("run")
@click.pass_obj
def run(app: AppContext) -> None:
    """Run the service: send what is due now, daily at the send time, and every 15 minutes to catch up."""
    from cardsender.service.daemon import run_service, setup_logging

    log_file = setup_logging(app.verbose)
    click.echo(f"Logging to {log_file}", err=True)
    with _store(app) as store:
        code = run_service(store, app.config, _transport(app))
    sys.exit(code)


@cli.command("approve")
@click.argument("rows", type=int, nargs=-1, metavar="[ROW...]")
@click.option("--all", "approve_all", is_flag=True, help="Approve every card waiting, due by --on (default today).")
@on_option
@click.pass_obj
def approve(app: AppContext, rows: tuple[int, ...], approve_all: bool, on: str | None) -> None:
    """Let cards held for approval go out with the next cycle."""
    if bool(rows) == approve_all:
        raise InputError("name the rows to approve, or give --all; see 'cardsender status' for the cards waiting")
    with _store(app) as store:
        count = outbox.approve(
            store, rows or None, due_by=_today(app, on), now=clock.utc_now(), office=app.config.office.key
        )
    click.echo(f"Approved {_plural(count, 'card')}; the next cycle sends them.")


@cli.command("skip")
@click.argument("row", type=int)
@click.pass_obj
def skip(app: AppContext, row: int) -> None:
    """Cancel a card waiting to go out, so it never does."""
    with _store(app) as store:
        done = outbox.skip(store, row, now=clock.utc_now())
    click.echo(f"Row {done.row} ({done.customer_id}, {occasion_label(done.occasion)}) is cancelled.")


@cli.command("digest")
@on_option
@click.pass_obj
def digest_command(app: AppContext, on: str | None) -> None:
    """Show the morning digest the service sends the office once a day."""
    from cardsender.reports import digest

    with _store(app) as store:
        written = digest.compose(store, app.config, _today(app, on))
    click.echo(f"Subject: {written.subject}\n\n{written.text}", nl=False)

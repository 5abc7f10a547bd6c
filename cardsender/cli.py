"""The command line: parse arguments, call one library function, print, translate errors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from cardsender import __version__, clock, customers, importers, workspace
from cardsender.config import DATE_FORMATS, Config, load_config
from cardsender.errors import CardsenderError, InputError
from cardsender.fields import parse_date
from cardsender.records import EVENT_KINDS, Customer
from cardsender.store import Store
from cardsender.table import format_table


class AppContext:
    """What every command needs: the loaded config, opened lazily."""

    def __init__(self, config_path: str | None, verbose: bool) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
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
@click.option("-v", "--verbose", is_flag=True, help="Show details, and tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Personal cards and keep-in-touch messages for your customers."""
    ctx.obj = AppContext(config_path, verbose)


def main() -> None:
    """Run the command line."""
    cli(prog_name="cardsender")


# Helpers shared by the commands.


def _store(app: AppContext) -> Store:
    """Open the configured database; use it in a ``with`` block so it is closed."""
    return Store.open(app.config.database.url)


def _today(app: AppContext, on: str | None = None) -> dt.date:
    """Return the day a command works on: ``--on DATE`` when given, else today in the office time zone."""
    if on:
        return parse_date(on, None, "--on")
    return clock.office_today(app.config.office.timezone)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
    made = workspace.init_workspace(directory, clock.local_today())
    config = made.config_path
    run = f"cardsender{_config_option(config)}"
    click.echo(f"Wrote {config} (start_date is today; the database is {workspace.DATABASE_FILENAME} beside it)")
    verb = "Opened the existing" if made.database_existed else "Created the"
    click.echo(f"{verb} database {made.database_path}")
    click.echo("Next:")
    click.echo(f"  1. Edit {config}: your office name, sender, postal address, time zone and email settings.")
    click.echo(f"  2. Import your customers:  {run} import customers customers.csv")
    click.echo(f"  3. Import their history:   {run} import history history.csv")
    click.echo(f"Initialised {directory}.")


@cli.command()
@click.argument("directory", default="cardsender-demo", type=click.Path(path_type=Path))
def demo(directory: Path) -> None:
    """Create a demo in a new DIRECTORY (default: cardsender-demo) with sample customers and a year of history."""
    made = workspace.create_demo(directory, today=clock.local_today(), now=clock.utc_now())
    for message in (*made.customers.messages(), *made.history.messages()):
        click.echo(message, err=True)
    run = f"cardsender{_config_option(made.workspace.config_path)}"
    click.echo(f"Wrote {made.workspace.config_path} and the database {made.workspace.database_path}")
    click.echo(
        f"Imported {_plural(made.customers.added, 'sample customer')} and "
        f"{_plural(made.history.added, 'contact event')} from the past year"
    )
    click.echo("Try:")
    click.echo(f"  {run} customers list")
    click.echo(f"  {run} customers show C001")
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


def _run_import(
    app: AppContext, importer: Callable[..., importers.ImportResult], file: Path, date_format: str | None
) -> importers.ImportResult:
    with _store(app) as store, _progress(f"Importing {file}") as progress:
        return importer(
            store,
            file,
            today=_today(app),
            now=clock.utc_now(),
            date_format=date_format or app.config.imports.date_format,
            progress=progress,
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
    result = _run_import(ctx.obj, importers.import_customers, file, date_format)
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
    click.echo(f"{_who(summary.customer)}: {last}; {_plural(len(detail.history), 'event')} in the history.")


@customers_group.command("edit")
@customer_id_argument
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field to change, as in an import file (repeat for several; 'email=' clears the email).",
)
@click.pass_obj
def customers_edit(app: AppContext, customer_id: str, assignments: tuple[str, ...]) -> None:
    """Change one customer without a re-import; values are checked as in an import."""
    with _store(app) as store:
        result = customers.edit_customer(
            store, customer_id, assignments, now=clock.utc_now(), date_format=app.config.imports.date_format
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
        result = customers.forget_customer(store, customer_id)
    click.echo(f"Forgot {_who(result.customer)}: deleted with {_plural(result.events_removed, 'contact event')}.")

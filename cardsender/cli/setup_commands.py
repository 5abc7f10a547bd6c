"""Setting up: ``init`` writes a config and database, ``demo`` a folder of sample data run once."""

from __future__ import annotations

from pathlib import Path

import click

from cardsender.cli.app_context import AppContext, config_option, plural
from cardsender.domain.vocabulary import OutboxState


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.pass_obj
def init(app: AppContext, directory: Path) -> None:
    """Write a commented cardsender.toml and create the database in DIRECTORY (default: here).

    An existing cardsender.toml is never overwritten: init then changes nothing.
    """
    from cardsender.app import office, workspace

    made = office.init_workspace(directory, app.clock)
    config = made.config_path
    run = f"cardsender{config_option(config)}"
    click.echo(f"Wrote {config} (start_date is today; the database is {workspace.DATABASE_FILENAME} beside it)")
    verb = "Opened the existing" if made.database_existed else "Created the"
    click.echo(f"{verb} database {made.database_path}")
    click.echo("Next:")
    click.echo(f"  1. Edit {config}: your office name, sender, postal address, time zone and email settings.")
    click.echo(f"  2. Import your customers:  {run} import customers customers.csv")
    click.echo(f"  3. Import their history:   {run} import history history.csv")
    click.echo(f"Initialised {directory.resolve()}.")


@click.command()
@click.argument("directory", default="cardsender-demo", type=click.Path(path_type=Path))
@click.pass_obj
def demo(app: AppContext, directory: Path) -> None:
    """Make a demo in a new DIRECTORY (default: cardsender-demo): sample data, a send cycle, previews, reports."""
    from cardsender.app import office

    done = office.make_demo(directory, app.clock)
    made = done.made
    for message in (*made.customers.messages(), *made.history.messages()):
        click.echo(message, err=True)
    run = f"cardsender{config_option(made.workspace.config_path)}"
    click.echo(f"Wrote {made.workspace.config_path} and the database {made.workspace.database_path}")
    click.echo(
        f"Imported {plural(made.customers.added, 'sample customer')} and "
        f"{plural(made.history.added, 'contact event')} from the past year"
    )
    outbox_dir = made.workspace.config_path.parent / "outbox"
    click.echo(
        f"Sent {plural(done.cycle.count(OutboxState.SENT), 'card')} due today as email files in {outbox_dir}"
        f" ({done.cycle.count(OutboxState.HELD)} held for review)"
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
    click.echo(f"Demo ready in {directory}: {plural(made.customers.added, 'customer')}.")


COMMANDS = (init, demo)

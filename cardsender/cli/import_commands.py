"""``cardsender import``: customers, or their contact history, from a file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardsender.cli.app_context import AppContext, date_format_option, progress

if TYPE_CHECKING:
    from cardsender.importers.results import ImportResult


@click.group("import")
def import_group() -> None:
    """Import customers, or their contact history, from a file."""


def _report_import(ctx: click.Context, result: ImportResult, counts: str) -> None:
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
    app: AppContext = ctx.obj
    with app.office() as office, progress(f"Importing {file}") as bar:
        result = office.import_customers(file, date_format, bar)
    _report_import(ctx, result, f"{result.added} added, {result.updated} updated")


@import_group.command("history")
@click.argument("file", type=click.Path(path_type=Path))
@date_format_option
@click.pass_context
def import_history(ctx: click.Context, file: Path, date_format: str | None) -> None:
    """Add contact events (purchases, calls, visits...) from a CSV file; importing twice adds nothing twice."""
    app: AppContext = ctx.obj
    with app.office() as office, progress(f"Importing {file}") as bar:
        result = office.import_history(file, date_format, bar)
    _report_import(ctx, result, f"{result.added} added, {result.skipped} already present")


COMMANDS = (import_group,)

"""The words of the cards: ``preview``, ``note``, and ``templates copy|check``."""

from __future__ import annotations

from pathlib import Path

import click

from cardsender.cli.app_context import AppContext, customer_id_argument, on_option, parse_day, plural, who
from cardsender.domain.occasions import occasion_label
from cardsender.domain.records import CARD_OCCASIONS
from cardsender.domain.vocabulary import PreviewFormat


@click.command("preview")
@customer_id_argument
@click.argument("occasion", type=click.Choice(CARD_OCCASIONS))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([str(f) for f in PreviewFormat]),
    default="text",
    show_default=True,
    help="text and html for the email's parts, eml for the whole message, pdf and png for the printed card.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead.")
@on_option
@click.pass_obj
def preview(app: AppContext, customer_id: str, occasion: str, fmt: str, out: Path | None, on: str | None) -> None:
    """Show exactly what a customer's card for OCCASION would say, as of --on DATE (default today)."""
    day = parse_day(on)
    with app.office() as office:
        shown = office.preview(customer_id, occasion, fmt, out=out, on=day)
    if shown.written is not None:
        click.echo(f"Wrote {shown.written}")
    elif shown.body is not None:
        click.echo(shown.body, nl=False)
    card = shown.preview.card
    variant = f"wording {card.variant}, {card.language}, for {shown.preview.occasion_date.isoformat()}"
    if shown.preview.held_because:
        click.echo(f"Held for review ({variant}): {shown.preview.held_because}.", err=True)
    else:
        click.echo(f"Ready to send ({variant}).", err=True)


@click.command("note")
@customer_id_argument
@click.argument("text")
@click.option("--occasion", type=click.Choice(CARD_OCCASIONS), help="Only for a card of this occasion.")
@click.pass_obj
def note(app: AppContext, customer_id: str, text: str, occasion: str | None) -> None:
    """Attach a personal note to a customer's next card (of --occasion, or any); it is used once."""
    with app.office() as office:
        added = office.add_note(customer_id, text, occasion)
    which = f"next {occasion_label(occasion).lower()} card" if occasion else "next card"
    click.echo(f'Noted for {who(added.customer)}\'s {which}: "{added.text}"')
    if added.released:
        click.echo(f"{plural(added.released, 'card')} held for review will go out with it.")


@click.group("templates")
def templates_group() -> None:
    """Copy the bundled card templates to edit, and check templates before they are used."""


@templates_group.command("copy")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def templates_copy(directory: Path) -> None:
    """Copy the bundled card templates into DIRECTORY to edit; files already there are kept."""
    from cardsender.app.office import copy_templates

    copied = copy_templates(directory)
    kept = f", kept {plural(len(copied.kept), 'file')} already there" if copied.kept else ""
    click.echo(f"Copied {plural(len(copied.written), 'template file')} to {directory}{kept}.")
    click.echo(f'Use them: set dir = "{directory}" under [templates] in your config.')


@templates_group.command("check")
@click.pass_context
def templates_check(ctx: click.Context) -> None:
    """Render every template for varied sample customers and report what would go wrong."""
    app: AppContext = ctx.obj
    with app.office() as office:
        checked = office.check_templates()
    for problem in checked.problems:
        click.echo(str(problem), err=True)
    click.echo(f"Rendered {plural(checked.rendered, 'card')}: {plural(len(checked.problems), 'problem')}.")
    if checked.problems:
        ctx.exit(1)


COMMANDS = (preview, note, templates_group)

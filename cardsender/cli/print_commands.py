"""Printing: ``print`` a batch of posted cards (or ``--reprint`` one), and ``mark-mailed`` once it is posted."""

from __future__ import annotations

from pathlib import Path

import click

from cardsender.cli.app_context import AppContext, on_option, parse_day, plural
from cardsender.domain.occasions import occasion_label
from cardsender.domain.vocabulary import CardFormat


@click.command("print")
@click.option("--from", "first_text", metavar="DATE", help="First mail-by day (default: today at the office).")
@click.option("--to", "last_text", metavar="DATE", help="Last mail-by day (default: six days after the first).")
@click.option("--days", type=click.IntRange(1, 366), help="Or: how many days from the first.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write (default: cards-BATCH.pdf)."
)
@click.option(
    "--format",
    "card_format",
    type=click.Choice([str(f) for f in CardFormat]),
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
    if batch is not None:
        with app.office() as office:
            done = office.reprint(batch, out, card_format)
        left_out = (
            f"; {plural(done.forgotten, 'card')} of this batch belonged to customers since forgotten and "
            f"{'is' if done.forgotten == 1 else 'are'} left out"
            if done.forgotten
            else ""
        )
        click.echo(f"Wrote {done.path} again: batch {batch}, {plural(len(done.printed), 'card')}{left_out}.")
        return
    first_day = parse_day(first_text, "--from")
    last_day = parse_day(last_text, "--to")
    with app.office() as office:
        run = office.print_batch(
            first_day,
            last_day,
            days=days,
            out=out,
            card_format=card_format,
            envelopes=envelopes,
            labels=labels,
            start_at=start_at,
        )
    made, first, last = run.batch, run.first, run.last
    for row, why in made.held:
        click.echo(f"Held {row.customer_id} {occasion_label(row.occasion)}: {why}", err=True)
    already = f"; {made.already_printed} already printed earlier (use --reprint BATCH)" if made.already_printed else ""
    late = f" ({made.late} late: past their mail-by date, mail them first)" if made.late else ""
    if made.batch is None:
        click.echo(f"Nothing to print for {first.isoformat()} to {last.isoformat()}{already}.")
        return
    click.echo(
        f"Wrote {made.path}: batch {made.batch}, {plural(len(made.printed), 'card')}{late} to mail from "
        f"{first.isoformat()} to {last.isoformat()}{already}. Once posted: cardsender mark-mailed {made.batch}"
    )
    if made.addresses is not None:
        click.echo(f"Wrote {made.addresses}: the addresses in the same order; print it at actual size.")


@click.command("mark-mailed")
@click.argument("batch")
@on_option
@click.option("--except", "spoiled", type=int, multiple=True, metavar="ROW", help="A card not posted (repeatable).")
@click.pass_obj
def mark_mailed(app: AppContext, batch: str, on: str | None, spoiled: tuple[int, ...]) -> None:
    """Record that a print batch was posted: each card counts as a contact on its occasion date."""
    day = parse_day(on)
    with app.office() as office:
        done = office.mark_mailed(batch, spoiled, on=day)
    again = f"; {plural(done.back, 'card')} back to print again" if done.back else ""
    click.echo(f"Batch {batch}: {plural(done.mailed, 'card')} mailed{again}.")


COMMANDS = (print_cards, mark_mailed)

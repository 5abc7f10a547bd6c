"""Print batches of posted cards for a handwritten note, and record them printed, then mailed.

A batch takes the post cards whose mail-by date falls in a window, plus any earlier
one still worth mailing, records them ``printed`` with the batch id (so printing
the window again makes no second copy), and writes one PDF.  ``mark_mailed`` then
records the cards as posted: each becomes a contact on its occasion date, which
restarts the 70-day clock.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cardsender.cards import context as cards
from cardsender.cards.render import CardTemplates, TemplateError
from cardsender.config.model import Config
from cardsender.domain.customer_file import CustomerFile
from cardsender.domain.errors import InputError, NotFoundError
from cardsender.domain.occasions import occasion_label
from cardsender.domain.records import ContactEvent
from cardsender.domain.vocabulary import Channel, EventKind, EventSource, OutboxState
from cardsender.planning import agenda
from cardsender.planning.planner import is_late
from cardsender.store import Store, traces
from cardsender.store import notes as card_queries
from cardsender.store import outbox as queries
from cardsender.store.customers import add_event, load_files
from cardsender.system.private import private_folder, remove_stale_temp_files, reserve_private, temp_name

if TYPE_CHECKING:
    from cardsender.printing.layout import PrintedCard


@dataclass(frozen=True, slots=True)
class Batch:
    """A print batch: its id, the cards in it, the file, and what was left out and why."""

    batch: str | None
    path: Path | None
    printed: tuple[queries.OutboxRow, ...]
    held: tuple[tuple[queries.OutboxRow, str], ...]
    already_printed: int
    addresses: Path | None = None
    forgotten: int = 0  # cards of the batch that belonged to customers since forgotten, left out of a reprint
    late: int = 0  # cards mailed after their mail-by date, which reach the customer after their day


def _printed_card(
    file: CustomerFile | None,
    templates: CardTemplates,
    config: Config,
    row: queries.OutboxRow,
    today: dt.date,
    variant: str | None,
    card_format: str,
) -> PrintedCard:
    """Render one post card for print with its guide line; raise TemplateError or InputError when it cannot be."""
    from cardsender.printing.fonts import missing_glyphs
    from cardsender.printing.layout import PrintedCard, check_fits  # reportlab loads only to print

    if file is None:  # the outbox row's customer was deleted after the batch's rows were read
        raise NotFoundError(f"no customer with id '{row.customer_id}'; see 'cardsender customers list'")
    composed = cards.compose_card(
        file,
        templates,
        config,
        row.occasion,
        row.occasion_date,
        today,
        "post",
        variant=variant,
        with_note=variant is None,
    )
    customer, card, context = composed.customer, composed.card, composed.context
    if composed.held_because:
        raise InputError(composed.held_because)
    # The guide is for staff: in the office's language, whatever the card's.
    staff = cards.card_context(
        customer,
        composed.history,
        occasion=composed.occasion,
        occasion_date=row.occasion_date,
        today=today,
        office=config.office,
        note=composed.note,
        language=config.office.language,
    )
    guide = templates.render_part("_guide.txt", staff.variables)
    missing = missing_glyphs(" ".join((card.card_front, card.card_inside, customer.display_name, guide)))
    if missing:
        raise InputError(
            f"the font cannot print {''.join(missing)} in {customer.display_name}'s card ({row.customer_id}); "
            "it would come out as boxes"
        )
    purchase = context.view.last_purchase
    printed = PrintedCard(
        row=row.row,
        customer_id=row.customer_id,
        name=customer.display_name,
        occasion=occasion_label(row.occasion),
        card=card,
        last_purchase=f"{purchase.item} ({purchase.date})" if purchase else "",
        notes=customer.notes,
        years=context.view.years_as_customer,
        owner=customer.owner,
        suggestion=guide,
        address=customer.address_lines,
        late=is_late(row.occasion, row.channel, row.occasion_date, row.due_date, config),
    )
    check_fits(printed, card_format, config.print.paper)
    return printed


def print_batch(
    store: Store,
    config: Config,
    *,
    first: dt.date,
    last: dt.date,
    out: Path | None,
    today: dt.date,
    now: dt.datetime,
    card_format: str | None = None,
    envelopes: bool = False,
    labels: str | None = None,
    start_at: int = 1,
) -> Batch:
    """Print the post cards to mail from ``first`` to ``last`` (and earlier ones still due) as one batch.

    The PDF goes to ``out``, by default ``cards-BATCH.pdf`` in the current folder; with
    ``envelopes`` or ``labels`` (a sheet: 5160 or L7160) a second PDF beside it holds the
    addresses in the same order.
    """
    from cardsender.printing.layout import write_batch_pdf

    card_format = card_format or config.print.card_format
    if last < first:
        raise InputError(f"--to {last.isoformat()} is before --from {first.isoformat()}; give the earlier day first")
    touches = agenda.plan_touches(store, config, first, (last - first).days + 1)
    posted = [t for t in touches if t.channel is Channel.POST]
    with store.begin() as conn:
        ids = queries.customer_row_ids(conn, (t.customer_id for t in posted))
        queries.record_touches(conn, posted, ids, config.occasions.grace_days, now)
        due = queries.printable_rows(conn, last, today, config.office.key)
        already = len(queries.printed_between(conn, first, last, config.office.key))
        files = load_files(conn, (row.customer_row for row in due))
    templates = cards.card_templates(config)
    ready: list[PrintedCard] = []
    held: list[tuple[queries.OutboxRow, str]] = []
    for row in due:
        try:
            ready.append(_printed_card(files.get(row.customer_row), templates, config, row, today, None, card_format))
        except (TemplateError, InputError) as exc:
            held.append((row, str(exc)))
    with store.begin() as conn:
        for row, why in held:
            queries.move_row(conn, row.row, (OutboxState.PENDING,), OutboxState.HELD, now, last_error=why)
    if not ready:
        return Batch(None, None, (), tuple(held), already)
    by_row = {row.row: row for row in due}
    ready.sort(key=lambda c: (by_row[c.row].due_date, c.name.casefold()))  # by mail-by date, then name
    with store.begin() as conn:
        batch = queries.next_batch_id(conn, today)
        out = out or Path(f"cards-{batch}.pdf")
        remove_stale_temp_files(out.parent)
        written: list[tuple[Path, Path]] = []  # (temporary, final)
        try:
            temporary = _write_beside(
                out,
                lambda path: write_batch_pdf(ready, path, batch, config.office.name, card_format, config.print.paper),
            )
            written.append((temporary, out))
            extra = _addresses_beside(out, ready, config, card_format, envelopes, labels, start_at)
            if extra is not None:
                written.append(extra)
            for item in ready:
                row = by_row[item.row]
                queries.mark_printed(conn, row.row, batch, item.card.variant, now)
                card_queries.use_note(conn, row.customer_row, row.occasion, row.row, now)  # its note, if it had one
            for _, final in written:
                traces.record_print_file(conn, batch, final, now)
        except BaseException:
            for temporary, _ in written:
                temporary.unlink(missing_ok=True)
            raise
        for temporary, final in written:
            os.replace(temporary, final)  # the files appear only with the batch recorded
    return Batch(
        batch,
        out,
        tuple(by_row[item.row] for item in ready),
        tuple(held),
        already,
        extra[1] if extra else None,
        late=sum(1 for item in ready if item.late),
    )


# The envelope that fits each card format; a postcard needs none.
ENVELOPE_FOR = {
    ("quarter-letter", "letter"): "A2",
    ("quarter-letter", "a4"): "A2",
    ("quarter-a4", "letter"): "C6",
    ("quarter-a4", "a4"): "C6",
    ("half-duplex", "letter"): "A7",
}


def _addresses_beside(
    out: Path,
    ready: list[PrintedCard],
    config: Config,
    card_format: str,
    envelopes: bool,
    labels: str | None,
    start_at: int,
) -> tuple[Path, Path] | None:
    """Write the envelopes or labels of a batch beside its PDF under a temporary name; return it and its final name."""
    from cardsender.printing.envelopes import MailPiece, write_envelopes, write_labels

    if not envelopes and labels is None:
        return None
    pieces = [MailPiece(item.name, item.address) for item in ready]
    try:
        if envelopes:
            envelope = config.print.envelope or ENVELOPE_FOR.get((card_format, config.print.paper))
            if envelope is None:
                raise InputError(f"there is no envelope for {card_format} cards; print --labels instead")
            sender = MailPiece(config.office.name, tuple(config.office.postal_address.splitlines()))
            final = out.with_name(f"{out.stem}-envelopes.pdf")
            return _write_beside(final, lambda path: write_envelopes(pieces, sender, path, envelope)), final
        assert labels is not None
        final = out.with_name(f"{out.stem}-labels.pdf")
        return _write_beside(final, lambda path: write_labels(pieces, path, labels, start_at)), final
    except ValueError as exc:  # an address too long, a glyph missing, a label outside the sheet
        raise InputError(str(exc)) from exc


def _write_beside(out: Path, write: Callable[[Path], None]) -> Path:
    """Write a file next to ``out`` under a temporary name, created 0600, and return that name.

    The name carries this process's id, so a print run killed halfway leaves a file that the next
    print into the folder recognises as abandoned and removes.
    """
    private_folder(out.parent)
    temporary = temp_name(out)
    reserve_private(temporary)  # the PDF writer truncates the file, which keeps its mode
    try:
        write(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def reprint(
    store: Store,
    config: Config,
    batch: str,
    out: Path,
    today: dt.date,
    card_format: str | None = None,
    *,
    now: dt.datetime,
) -> Batch:
    """Make the PDF of a batch again, with the same cards and wording; cards of forgotten customers are left out."""
    card_format = card_format or config.print.card_format
    from cardsender.printing.layout import write_batch_pdf

    with store.begin() as conn:
        rows = queries.rows_of_batch(conn, batch)
        forgotten = traces.forgotten_cards_in(conn, batch)
        files = load_files(conn, (row.customer_row for row in rows))
    if not rows and forgotten:
        raise NotFoundError(
            f"every card of batch {batch} belonged to customers since forgotten; there is nothing to reprint, "
            "and its printed copies should be destroyed"
        )
    if not rows:
        raise NotFoundError(f"no print batch {batch}; see 'cardsender status' for the batches printed")
    templates = cards.card_templates(config)
    ready = [
        _printed_card(files.get(row.customer_row), templates, config, row, today, row.variant, card_format)
        for row in rows
    ]
    remove_stale_temp_files(out.parent)
    temporary = _write_beside(
        out, lambda path: write_batch_pdf(ready, path, batch, config.office.name, card_format, config.print.paper)
    )
    try:
        with store.begin() as conn:
            traces.record_print_file(conn, batch, out, now)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, out)
    return Batch(batch, out, tuple(rows), (), 0, forgotten=forgotten)


def mark_mailed(
    store: Store, batch: str, *, mailed_on: dt.date, now: dt.datetime, spoiled: tuple[int, ...] = ()
) -> tuple[int, int]:
    """Record a batch as posted: each card becomes mailed and a contact on its occasion date.

    Cards listed in ``spoiled`` were not posted: they go back to pending, to print again.
    Returns how many were mailed and how many went back.
    """
    with store.begin() as conn:
        rows = [r for r in queries.rows_of_batch(conn, batch) if r.state is OutboxState.PRINTED]
        if not rows:
            raise NotFoundError(f"no printed cards in batch {batch}; see 'cardsender status'")
        unknown = sorted(set(spoiled) - {r.row for r in rows})
        if unknown:
            raise InputError(f"row {unknown[0]} is not a printed card of batch {batch}")
        mailed = 0
        for row in rows:
            if row.row in spoiled:
                queries.move_row(conn, row.row, (OutboxState.PRINTED,), OutboxState.PENDING, now, batch=None)
                continue
            queries.move_row(conn, row.row, (OutboxState.PRINTED,), OutboxState.MAILED, now, sent_at=now)
            summary = f"{occasion_label(row.occasion)} card by post, mailed {mailed_on.isoformat()}"
            on_its_day = dt.datetime.combine(row.occasion_date, dt.time())
            event = ContactEvent(row.customer_id, on_its_day, EventKind.CARD, summary, EventSource.CARD)
            add_event(conn, row.customer_row, event, now)
            mailed += 1
    return mailed, len(spoiled)

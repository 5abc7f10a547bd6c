"""The printed-card layout engine: one card's panels on its sheets in one of four formats, for print and preview.

- ``quarter-letter`` and ``quarter-a4``: one sheet per card, quarter-folded, single-sided:
  the bottom half holds the back (left) and the front (right) upright; the top half
  holds the two inside panels rotated 180 degrees, so that after folding the top half
  back and then the left half back, the card opens on the printed
  greeting (left) beside a bounded blank panel for the handwritten note (right).
- ``half-duplex``: a 5 x 7 in card (A5 on A4 paper) half-folded from a sheet printed on
  both sides: outside (back, front) then inside (greeting, note panel); the PDF asks
  for duplex flipped on the short edge.
- ``postcard``: 4 x 6 in, the front, then the address side with the message on the left
  and the address in the zone the postal service reads, the barcode strip kept clear.

Print, the preview and the template check all go through ``card_sheets`` and the one fit
rule of ``cardsender.printing.panels``: what a person approves in a preview is what prints,
and a card the check passes is a card print accepts.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from cardsender.cards.render import RenderedCard
from cardsender.config.model import Config
from cardsender.domain.errors import InputError
from cardsender.domain.records import Customer
from cardsender.domain.vocabulary import CardFormat, Paper
from cardsender.printing.guide import draw_guide
from cardsender.printing.panels import (
    BOLD,
    FONT,
    MIN_SIZE,
    Box,
    draw_note_box,
    draw_text,
    fit,
    inset,
)
from cardsender.printing.panels import wrap as _wrap

__all__ = ["BOLD", "FONT", "_wrap"]  # _wrap: the name the line-breaking test has always imported

FORMATS = tuple(CardFormat)
# Postcard: the post reads the address zone at the lower right and keeps the bottom 5/8 in for its barcode.
POSTCARD = (6 * inch, 4 * inch)
ADDRESS_ZONE = (3.3 * inch, 2.4 * inch)
ZONE_RIGHT, ZONE_BOTTOM, BARCODE_STRIP = 0.275 * inch, 0.25 * inch, 5 / 8 * inch
# The preview's images: 150 dpi shows 8 pt text sharply on a screen and keeps a Letter sheet under 2,000 px.
PREVIEW_DPI = 150


@dataclass(frozen=True, slots=True)
class PrintedCard:
    """One card of a batch: its words, its address, and what the writer's guide says about its customer."""

    row: int
    customer_id: str
    name: str
    occasion: str
    card: RenderedCard
    last_purchase: str
    notes: str
    years: int
    owner: str
    suggestion: str
    address: tuple[str, ...] = ()
    # Mailed after its mail-by date: it reaches the customer after their day.
    late: bool = False


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel of a sheet: its box, what it holds (a text kind of ``panels.STYLES``, or the note box), its turn."""

    kind: str
    box: Box
    text: str = ""
    rotated: bool = False
    middle: bool = False


@dataclass(frozen=True, slots=True)
class Sheet:
    """One printed page of a card: its size, its panels in drawing order, and its fold lines."""

    size: tuple[float, float]
    panels: tuple[Panel, ...]
    vertical_fold: bool = False
    horizontal_fold: bool = False


@dataclass(frozen=True, slots=True)
class Overflow:
    """A panel whose text does not fit even at its minimum size."""

    kind: str
    needed: float  # points, at the minimum size
    room: float

    def describe(self) -> str:
        """Return the problem as the template check reports it."""
        return (
            f"the {self.kind} text needs {self.needed / inch:.1f} in of a {self.room / inch:.1f} in panel "
            f"even at {MIN_SIZE[self.kind]:g} pt"
        )


def page_size(card_format: str, paper: str) -> tuple[float, float]:
    """Return the size of a card sheet: Letter or A4 for quarter folds, 10 x 7 in (or A4 across) flat, 6 x 4 in."""
    match card_format:
        case CardFormat.QUARTER_LETTER:
            return letter
        case CardFormat.QUARTER_A4:
            return A4
        case CardFormat.HALF_DUPLEX:
            return (10 * inch, 7 * inch) if paper == Paper.LETTER else landscape(A4)
        case CardFormat.POSTCARD:
            return POSTCARD
    raise ValueError(f"unknown card format {card_format!r}; use one of: {', '.join(FORMATS)}")


def card_sheets(item: PrintedCard, office: str, card_format: str, paper: str) -> tuple[Sheet, ...]:
    """Return where every panel of a card sits on its sheets, in the order they print."""
    size = page_size(card_format, paper)
    front, inside = item.card.card_front, item.card.card_inside
    if card_format == CardFormat.POSTCARD:
        return _postcard(item, size)
    w = size[0] / 2
    if card_format == CardFormat.HALF_DUPLEX:
        h = size[1]
        outside = (
            Panel("back", inset(0, 0, w, h), office, middle=True),
            Panel("front", inset(w, 0, w, h), front, middle=True),
        )
        opened = (Panel("inside", inset(0, 0, w, h), inside), Panel("note", inset(w, 0, w, h)))
        return (Sheet(size, outside, vertical_fold=True), Sheet(size, opened, vertical_fold=True))
    h = size[1] / 2
    panels = (
        Panel("back", inset(0, 0, w, h), office, middle=True),
        Panel("front", inset(w, 0, w, h), front, middle=True),
        Panel("inside", inset(w, h, w, h), inside, rotated=True),  # inside left: the greeting
        Panel("note", inset(0, h, w, h), rotated=True),  # inside right: the handwritten note
    )
    return (Sheet(size, panels, vertical_fold=True, horizontal_fold=True),)


def _postcard(item: PrintedCard, size: tuple[float, float]) -> tuple[Sheet, ...]:
    """Return a postcard's two sides: the front line over the note's frame; the message beside the address zone."""
    width, height = size
    x, y, inner_width, inner_height = inset(0, 0, width, height)
    title = (x, y + inner_height * 0.62, inner_width, inner_height * 0.38)
    front = (
        Panel("front", title, item.card.card_front, middle=True),
        Panel("note", (x, y, inner_width, inner_height * 0.58)),
    )
    zone_x = width - ZONE_RIGHT - ADDRESS_ZONE[0]
    message = (0.25 * inch, BARCODE_STRIP, zone_x - 0.45 * inch, height - BARCODE_STRIP - 0.25 * inch)
    # The address sits in the zone, above the barcode strip; nothing else is printed there.
    zone = (
        zone_x + 0.1 * inch,
        BARCODE_STRIP,
        ADDRESS_ZONE[0] - 0.2 * inch,
        ZONE_BOTTOM + ADDRESS_ZONE[1] - BARCODE_STRIP,
    )
    address = "\n".join((item.name, *item.address))
    back = (Panel("inside", message, item.card.card_inside), Panel("address", zone, address, middle=True))
    return (Sheet(size, front), Sheet(size, back))


def overflows(item: PrintedCard, card_format: str, paper: str, office: str = "") -> list[Overflow]:
    """Return every panel of a card whose text does not fit even at its minimum size, in print order."""
    found = []
    for sheet in card_sheets(item, office, card_format, paper):
        for panel in sheet.panels:
            if panel.kind != "note":
                fitted = fit(panel.text, panel.kind, panel.box[2], panel.box[3])
                if not fitted.fits:
                    found.append(Overflow(panel.kind, fitted.height, fitted.room))
    # The panels print front first, as a person reads the card.
    return sorted(found, key=lambda o: ("front", "inside", "address", "back").index(o.kind))


def _refusal(item: PrintedCard, overflow: Overflow, office: str) -> InputError:
    who = office if overflow.kind == "back" else item.name
    return InputError(
        f"the {overflow.kind} of {who}'s card does not fit its panel even at {MIN_SIZE[overflow.kind]:g} pt; "
        "shorten the note or the template"
    )


def check_fits(item: PrintedCard, card_format: str, paper: str, office: str = "") -> None:
    """Raise InputError, naming the customer, when a card's text does not fit its panels in a format."""
    found = overflows(item, card_format, paper, office)
    if found:
        raise _refusal(item, found[0], office)


def template_overflow(card: RenderedCard, card_format: str, paper: str) -> list[str]:
    """Return the panels whose text print would refuse in a format, as the template check reports them."""
    # The customer's name and address are not the template's: a short name keeps them out of the count.
    return [o.describe() for o in overflows(_preview_item(card, "A. Sample", ()), card_format, paper)]


def _draw_card(canvas: Canvas, item: PrintedCard, office: str, card_format: str, paper: str) -> None:
    """Draw a card's sheets, one page each; raise InputError when a panel's text does not fit."""
    for sheet in card_sheets(item, office, card_format, paper):
        canvas.setPageSize(sheet.size)
        for panel in sheet.panels:
            if panel.kind == "note":
                draw_note_box(canvas, panel.box, panel.rotated)
                continue
            fitted = fit(panel.text, panel.kind, panel.box[2], panel.box[3])
            if not fitted.fits:
                raise _refusal(item, Overflow(panel.kind, fitted.height, fitted.room), office)
            draw_text(canvas, panel.box, fitted, rotated=panel.rotated, middle=panel.middle)
        _fold_lines(canvas, sheet)
        canvas.showPage()


def _fold_lines(canvas: Canvas, sheet: Sheet) -> None:
    width, height = sheet.size
    canvas.saveState()
    canvas.setStrokeColor(colors.Color(0.85, 0.85, 0.85))
    canvas.setDash(1, 4)
    if sheet.horizontal_fold:
        canvas.line(0, height / 2, width, height / 2)
    if sheet.vertical_fold:
        canvas.line(width / 2, 0, width / 2, height)
    canvas.restoreState()


@contextmanager
def _card_canvas(target: str | BinaryIO, title: str, card_format: str) -> Iterator[Canvas]:
    """Yield a canvas set up as every card PDF is (print's and the preview's alike), and save it."""
    # Binary (compressed) streams without the ASCII-85 layer reportlab adds by default: a third
    # smaller and faster to write; every PDF reader of this century takes them.
    ascii85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas = Canvas(target, pagesize=letter, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
        canvas.setTitle(title)
        if card_format == CardFormat.HALF_DUPLEX:
            canvas.setViewerPreference("Duplex", "DuplexFlipShortEdge")
        yield canvas
        canvas.save()
    finally:
        rl_config.useA85 = ascii85


def write_batch_pdf(
    cards: Sequence[PrintedCard],
    path: Path,
    batch: str,
    office_name: str,
    card_format: str = CardFormat.QUARTER_LETTER,
    paper: str = Paper.LETTER,
) -> None:
    """Write the guide, then every card in the order given, in one format."""
    page_size(card_format, paper)  # an unknown format is refused before anything is drawn
    with _card_canvas(str(path), f"{office_name}: cards, batch {batch}", card_format) as canvas:
        draw_guide(canvas, cards, batch)
        for item in cards:
            _draw_card(canvas, item, office_name, card_format, paper)


def card_pdf(item: PrintedCard, office_name: str, card_format: str, paper: str) -> bytes:
    """Return one card's sheets as a PDF, page for page what print makes of it."""
    buffer = io.BytesIO()
    with _card_canvas(buffer, f"{office_name}: {item.occasion} card for {item.name}", card_format) as canvas:
        _draw_card(canvas, item, office_name, card_format, paper)
    return buffer.getvalue()


def pdf_page_pngs(pdf: bytes, dpi: int = PREVIEW_DPI) -> list[bytes]:
    """Render every page of a PDF to a PNG image at ``dpi`` dots per inch."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for page in document:
            image = io.BytesIO()
            page.render(scale=dpi / 72).to_pil().save(image, format="PNG")
            images.append(image.getvalue())
        return images
    finally:
        document.close()


def _preview_item(card: RenderedCard, name: str, address: tuple[str, ...], customer_id: str = "") -> PrintedCard:
    return PrintedCard(0, customer_id, name, card.occasion, card, "", "", 0, "", "", address)


def preview_pdf(config: Config, card: RenderedCard, customer: Customer, card_format: str | None = None) -> bytes:
    """Return the PDF of a customer's card as print makes it, in a format (default: the office's [print] card_format).

    Raise InputError, naming the customer, when print would refuse the card.
    """
    item = _preview_item(card, customer.display_name, customer.address_lines, customer.id)
    return card_pdf(item, config.office.name, card_format or config.print.card_format, config.print.paper)


def preview_pngs(
    config: Config, card: RenderedCard, customer: Customer, card_format: str | None = None, dpi: int = PREVIEW_DPI
) -> list[bytes]:
    """Return every page of a customer's printed card as a PNG image, at ``dpi`` dots per inch (default 150)."""
    return pdf_page_pngs(preview_pdf(config, card, customer, card_format), dpi)


# The band between two pages in a one-image preview, in pixels.
PAGE_GAP = 24


def preview_png(
    config: Config, card: RenderedCard, customer: Customer, card_format: str | None = None, dpi: int = PREVIEW_DPI
) -> bytes:
    """Return one PNG image of every page of a customer's printed card, top to bottom, with a grey band between."""
    from PIL import Image

    pages: list[Image.Image] = []
    for data in preview_pngs(config, card, customer, card_format, dpi):
        with Image.open(io.BytesIO(data)) as png:
            pages.append(png.convert("RGB"))
    width = max(page.width for page in pages)
    height = sum(page.height for page in pages) + PAGE_GAP * (len(pages) - 1)
    sheet = Image.new("RGB", (width, height), (200, 200, 200))
    top = 0
    for page in pages:
        sheet.paste(page, (0, top))
        top += page.height + PAGE_GAP
    image = io.BytesIO()
    sheet.save(image, format="PNG")
    return image.getvalue()

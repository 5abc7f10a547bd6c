"""A print batch as one PDF: the writer's guide, then the cards in one of four formats.

- ``quarter-letter`` and ``quarter-a4``: one sheet per card, quarter-folded, single-sided
  (REFERENCE.md, Print): the bottom half holds the back (left) and the front (right)
  upright; the top half holds the two inside panels rotated 180 degrees, so that after
  folding the top half back and then the left half back, the card opens on the printed
  greeting (left) beside a bounded blank panel for the handwritten note (right).
- ``half-duplex``: a 5 x 7 in card (A5 on A4 paper) half-folded from a sheet printed on
  both sides: outside (back, front) then inside (greeting, note panel); the PDF asks
  for duplex flipped on the short edge.
- ``postcard``: 4 x 6 in, the front, then the address side with the message on the left
  and the address in the zone the postal service reads, the barcode strip kept clear.

Text is data: escaped before it reaches Paragraph markup.  Text too long for its panel
shrinks step by step down to a minimum size, and is then refused naming the customer:
never cut off, never shrunk into illegibility.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, Paragraph, Table, TableStyle

from cardsender.errors import InputError
from cardsender.fonts import register_fonts
from cardsender.render import RenderedCard

FONT, BOLD = register_fonts()
MARGIN = 0.4 * inch
FRONT = ParagraphStyle("front", fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER)
INSIDE = ParagraphStyle("inside", fontName=FONT, fontSize=11, leading=15, spaceAfter=8)
ADDRESS = ParagraphStyle("address", fontName=FONT, fontSize=10, leading=13)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, alignment=TA_CENTER, textColor=colors.grey)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=CELL, fontName=BOLD)
TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6)
GUIDE_ROWS_PER_PAGE = 14
# The smallest sizes text may shrink to before a card is refused.
MIN_SIZE = {"front": 12.0, "inside": 8.0, "address": 8.0}
FORMATS = ("quarter-letter", "quarter-a4", "half-duplex", "postcard")
# Postcard (REFERENCE.md): the address zone at the lower right, the bottom 5/8 in for the barcode.
POSTCARD = (6 * inch, 4 * inch)
ADDRESS_ZONE = (3.3 * inch, 2.4 * inch)
ZONE_RIGHT, ZONE_BOTTOM, BARCODE_STRIP = 0.275 * inch, 0.25 * inch, 5 / 8 * inch


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


def missing_glyphs(text: str) -> list[str]:
    """Return the characters of a text that the embedded font cannot draw."""
    face = pdfmetrics.getFont(FONT).face  # type: ignore[attr-defined]
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in face.charToGlyph})


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return [Paragraph(escape(block).replace("\n", "<br/>"), style) for block in blocks]


def _fitted(text: str, style: ParagraphStyle, width: float, height: float, kind: str, who: str) -> list[Flowable]:
    """Return the text as paragraphs at the largest size, down to the minimum, that fits; else refuse the card."""
    size = float(style.fontSize)
    while size >= MIN_SIZE[kind]:
        scaled = ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size,
                                leading=size * style.leading / style.fontSize,
                                spaceAfter=style.spaceAfter * size / style.fontSize)  # fmt: skip
        story = _paragraphs(text, scaled)
        if sum(p.wrap(width, height)[1] + scaled.spaceAfter for p in story) <= height:
            return story
        size -= 0.5
    raise InputError(
        f"the {kind} of {who}'s card does not fit its panel even at {MIN_SIZE[kind]:g} pt; shorten the note or "
        "the template"
    )


def _draw(canvas: Canvas, box: tuple[float, float, float, float], story: list[Flowable], *, rotated: bool = False,
          middle: bool = False) -> None:  # fmt: skip
    """Draw a story inside box = (x, y, width, height), upside down when ``rotated``, centred when ``middle``."""
    x, y, width, height = box
    canvas.saveState()
    if rotated:
        canvas.translate(x + width, y + height)
        canvas.rotate(180)
    else:
        canvas.translate(x, y)
    if middle:
        used = sum(p.wrap(width, height)[1] for p in story)
        top = (height + used) / 2
        for paragraph in story:
            _, h = paragraph.wrap(width, height)
            paragraph.drawOn(canvas, 0, top - h)
            top -= h
    else:
        Frame(0, 0, width, height, 0, 0, 0, 0).addFromList(list(story), canvas)
    canvas.restoreState()


def _note_box(canvas: Canvas, box: tuple[float, float, float, float], rotated: bool) -> None:
    """Draw the bounded blank area for the handwritten note and signature."""
    x, y, width, height = box
    canvas.saveState()
    if rotated:
        canvas.translate(x + width, y + height)
        canvas.rotate(180)
    else:
        canvas.translate(x, y)
    canvas.setStrokeColor(colors.lightgrey)
    canvas.setDash(3, 3)
    canvas.rect(0, 0, width, height)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(colors.grey)
    canvas.drawString(4, height - 10, "Your note and signature")
    canvas.restoreState()


def _inset(x: float, y: float, width: float, height: float) -> tuple[float, float, float, float]:
    return (x + MARGIN, y + MARGIN, width - 2 * MARGIN, height - 2 * MARGIN)


def _quarter(canvas: Canvas, item: PrintedCard, office: str, page: tuple[float, float]) -> None:
    w, h = page[0] / 2, page[1] / 2
    inner = _inset(0, 0, w, h)
    front = _fitted(item.card.card_front, FRONT, inner[2], inner[3], "front", item.name)
    inside = _fitted(item.card.card_inside, INSIDE, inner[2], inner[3], "inside", item.name)
    _draw(canvas, _inset(0, 0, w, h), [Paragraph(escape(office), SMALL)], middle=True)  # back
    _draw(canvas, _inset(w, 0, w, h), front, middle=True)  # front
    _draw(canvas, _inset(w, h, w, h), inside, rotated=True)  # inside left: the greeting
    _note_box(canvas, _inset(0, h, w, h), rotated=True)  # inside right: the handwritten note
    _fold_lines(canvas, page, vertical=True, horizontal=True)
    canvas.showPage()


def _half_duplex(canvas: Canvas, item: PrintedCard, office: str, page: tuple[float, float]) -> None:
    w, h = page[0] / 2, page[1]
    inner = _inset(0, 0, w, h)
    front = _fitted(item.card.card_front, FRONT, inner[2], inner[3], "front", item.name)
    inside = _fitted(item.card.card_inside, INSIDE, inner[2], inner[3], "inside", item.name)
    _draw(canvas, _inset(0, 0, w, h), [Paragraph(escape(office), SMALL)], middle=True)  # outside: back
    _draw(canvas, _inset(w, 0, w, h), front, middle=True)  # outside: front
    _fold_lines(canvas, page, vertical=True, horizontal=False)
    canvas.showPage()
    _draw(canvas, _inset(0, 0, w, h), inside)  # inside left: the greeting
    _note_box(canvas, _inset(w, 0, w, h), rotated=False)  # inside right: the note
    _fold_lines(canvas, page, vertical=True, horizontal=False)
    canvas.showPage()


def _postcard(canvas: Canvas, item: PrintedCard, office: str, page: tuple[float, float]) -> None:
    width, height = page
    front_box = _inset(0, 0, width, height)
    _draw(canvas, front_box, _fitted(item.card.card_front, FRONT, front_box[2], front_box[3], "front", item.name),
          middle=True)  # fmt: skip
    canvas.showPage()
    zone_x = width - ZONE_RIGHT - ADDRESS_ZONE[0]
    message = (0.25 * inch, BARCODE_STRIP, zone_x - 0.45 * inch, height - BARCODE_STRIP - 0.25 * inch)
    _draw(canvas, message, _fitted(item.card.card_inside, INSIDE, message[2], message[3], "inside", item.name))
    # The address sits in the zone, above the barcode strip; nothing else is printed there.
    zone = (
        zone_x + 0.1 * inch,
        BARCODE_STRIP,
        ADDRESS_ZONE[0] - 0.2 * inch,
        ZONE_BOTTOM + ADDRESS_ZONE[1] - BARCODE_STRIP,
    )
    lines = "\n".join((item.name, *item.address))
    _draw(canvas, zone, _fitted(lines, ADDRESS, zone[2], zone[3], "address", item.name), middle=True)
    canvas.showPage()


def _fold_lines(canvas: Canvas, page: tuple[float, float], *, vertical: bool, horizontal: bool) -> None:
    canvas.saveState()
    canvas.setStrokeColor(colors.Color(0.85, 0.85, 0.85))
    canvas.setDash(1, 4)
    if horizontal:
        canvas.line(0, page[1] / 2, page[0], page[1] / 2)
    if vertical:
        canvas.line(page[0] / 2, 0, page[0] / 2, page[1])
    canvas.restoreState()


Layout = Callable[[Canvas, PrintedCard, str, tuple[float, float]], None]


def page_size(card_format: str, paper: str) -> tuple[float, float]:
    """Return the size of a card sheet: Letter or A4 for quarter folds, 10 x 7 in (or A4 across) flat, 6 x 4 in."""
    if card_format == "quarter-letter":
        return letter
    if card_format == "quarter-a4":
        return A4
    if card_format == "half-duplex":
        return (10 * inch, 7 * inch) if paper == "letter" else landscape(A4)
    if card_format == "postcard":
        return POSTCARD
    raise ValueError(f"unknown card format {card_format!r}; use one of: {', '.join(FORMATS)}")


LAYOUTS: dict[str, Layout] = {
    "quarter-letter": _quarter,
    "quarter-a4": _quarter,
    "half-duplex": _half_duplex,
    "postcard": _postcard,
}


def check_fits(item: PrintedCard, card_format: str, paper: str) -> None:
    """Raise InputError when a card's text does not fit its panels in a format (drawing it on a scratch canvas)."""
    import io

    canvas = Canvas(io.BytesIO(), pagesize=page_size(card_format, paper), initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    LAYOUTS[card_format](canvas, item, "", page_size(card_format, paper))


def _guide(canvas: Canvas, cards: Sequence[PrintedCard], batch: str) -> None:
    """Draw the writer's guide on Letter pages: every card in print order, with what helps write something personal."""
    headers = ["#", "Customer", "Occasion", "Last purchase", "Notes", "Years", "Owner", "Try writing"]
    for start in range(0, max(len(cards), 1), GUIDE_ROWS_PER_PAGE):
        canvas.setPageSize(letter)
        rows: list[list[Flowable]] = [[Paragraph(h, HEAD) for h in headers]]
        for number, item in enumerate(cards[start : start + GUIDE_ROWS_PER_PAGE], start=start + 1):
            cells = [str(number), f"{item.name} ({item.customer_id})", item.occasion, item.last_purchase,
                     item.notes, str(item.years), item.owner, item.suggestion]  # fmt: skip
            rows.append([Paragraph(escape(cell), CELL) for cell in cells])
        widths = [0.3, 1.3, 0.8, 1.1, 1.2, 0.6, 0.6, 1.6]
        table = Table(rows, colWidths=[w * inch for w in widths], repeatRows=1)
        table.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.lightgrey),
        ]))  # fmt: skip
        title = Paragraph(escape(f"Writer's guide, batch {batch}: {len(cards)} cards"), TITLE)
        frame = Frame(0.5 * inch, 0.5 * inch, letter[0] - inch, letter[1] - inch, 0, 0, 0, 0)
        frame.addFromList([title, table], canvas)
        canvas.showPage()


def write_batch_pdf(
    cards: Sequence[PrintedCard], path: Path, batch: str, office_name: str, card_format: str = "quarter-letter",
    paper: str = "letter",
) -> None:  # fmt: skip
    """Write the guide, then every card in the order given, in one format."""
    canvas = Canvas(str(path), pagesize=letter, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(f"{office_name}: cards, batch {batch}")
    if card_format == "half-duplex":
        canvas.setViewerPreference("Duplex", "DuplexFlipShortEdge")
    _guide(canvas, cards, batch)
    size = page_size(card_format, paper)
    for item in cards:
        canvas.setPageSize(size)
        LAYOUTS[card_format](canvas, item, office_name, size)
    canvas.save()

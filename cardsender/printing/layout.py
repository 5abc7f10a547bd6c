"""A print batch as one PDF: the writer's guide, then the cards in one of four formats.

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

Text is data: it is drawn as plain strings, never parsed as markup.  Text too long for its panel
shrinks step by step down to a minimum size, and is then refused naming the customer:
never cut off, never shrunk into illegibility.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

from cardsender.cards.render import RenderedCard
from cardsender.domain.errors import InputError
from cardsender.printing.fonts import font_runs, paragraph_markup, register_fonts

FONT, BOLD = register_fonts()
MARGIN = 0.4 * inch
FRONT = ParagraphStyle("front", fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER)
INSIDE = ParagraphStyle("inside", fontName=FONT, fontSize=11, leading=15, spaceAfter=8)
ADDRESS = ParagraphStyle("address", fontName=FONT, fontSize=10, leading=13)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, alignment=TA_CENTER, textColor=colors.grey)
# The smallest sizes text may shrink to before a card is refused.
MIN_SIZE = {"front": 12.0, "inside": 8.0, "address": 8.0, "back": 6.0}
FORMATS = ("quarter-letter", "quarter-a4", "half-duplex", "postcard")
# Postcard: the post reads the address zone at the lower right and keeps the bottom 5/8 in for its barcode.
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
    # Mailed after its mail-by date: it reaches the customer after their day.
    late: bool = False


@cache
def _base_coverage() -> frozenset[str]:
    """Return the characters the base font draws (both weights of DejaVu Sans cover the same scripts)."""
    return frozenset(map(chr, pdfmetrics.getFont(FONT).face.charToGlyph))  # type: ignore[attr-defined]


def _in_base_font(text: str) -> bool:
    """Return whether the base font draws every character of a text but whitespace."""
    return all(ch.isspace() for ch in set(text) - _base_coverage())


@dataclass(frozen=True, slots=True)
class Fitted:
    """Text broken into lines for a panel at one size, ready to draw."""

    blocks: tuple[tuple[str, ...], ...]
    # Text beyond the base font (CJK, Hangul, Hebrew, Arabic) is drawn as Paragraphs with a font per run.
    paragraphs: tuple[tuple[Flowable, float], ...]
    font: str
    size: float
    leading: float
    gap: float
    centred: bool
    colour: colors.Color

    @property
    def height(self) -> float:
        """Return the height the text takes."""
        if self.paragraphs:
            return sum(height for _, height in self.paragraphs)
        lines = sum(len(block) for block in self.blocks)
        return lines * self.leading + self.gap * max(len(self.blocks) - 1, 0)


@lru_cache(maxsize=65_536)
def _word_width(word: str, font: str) -> float:
    """Return a word's width at 1 pt; cards repeat most of their words, so each is measured once."""
    return float(pdfmetrics.stringWidth(word, font, 1.0))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break a line of text into lines no wider than ``width`` at ``size`` pt, between words.

    Widths add up exactly (reportlab draws TrueType text without kerning); a word wider
    than the line stands on a line of its own, as reportlab's simpleSplit does.
    """
    limit = width / size
    space = _word_width(" ", font)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    for word in text.split():
        measure = _word_width(word, font)
        if current and used + space + measure > limit:
            lines.append(" ".join(current))
            current, used = [word], measure
        else:
            used += (space if current else 0.0) + measure
            current.append(word)
    if current or not lines:
        lines.append(" ".join(current))
    return lines


@lru_cache(maxsize=512)  # the back of every card, and repeated greetings, are fitted once
def _fitted(text: str, style: ParagraphStyle, width: float, height: float, kind: str, who: str) -> Fitted:
    """Return the text broken into lines at the largest size, down to the minimum, that fits; else refuse the card.

    Lines are drawn as plain strings (no markup), so customer text needs no escaping here.
    """
    paragraphs = [block.strip() for block in text.split("\n\n") if block.strip()]
    # The fast path draws plain lines in the base font; other scripts need a font per run (cardsender.fonts).
    runs = not _in_base_font(text)
    size = float(style.fontSize)
    while size >= MIN_SIZE[kind]:
        ratio = size / style.fontSize
        if runs:
            scaled = ParagraphStyle(
                f"{style.name}-{size}",
                parent=style,
                fontSize=size,
                leading=style.leading * ratio,
                spaceAfter=style.spaceAfter * ratio,
            )
            bold = style.fontName == BOLD
            wrapped = tuple(
                (p, p.wrap(width, height)[1] + scaled.spaceAfter)
                for p in (Paragraph(paragraph_markup(block, bold), scaled) for block in paragraphs)
            )
            fitted = Fitted((), wrapped, style.fontName, size, 0, 0, False, style.textColor)
        else:
            blocks = tuple(
                tuple(line for raw in block.split("\n") for line in _wrap(raw, style.fontName, size, width))
                for block in paragraphs
            )
            fitted = Fitted(
                blocks,
                (),
                style.fontName,
                size,
                style.leading * ratio,
                style.spaceAfter * ratio,
                style.alignment == TA_CENTER,
                style.textColor,
            )
        if fitted.height <= height:
            return fitted
        size -= 0.5
    raise InputError(
        f"the {kind} of {who}'s card does not fit its panel even at {MIN_SIZE[kind]:g} pt; shorten the note or "
        "the template"
    )


def _enter_panel(canvas: Canvas, box: tuple[float, float, float, float], rotated: bool) -> tuple[float, float]:
    """Save the canvas state and move the origin to a panel's corner (turned 180 degrees if asked); return its size."""
    x, y, width, height = box
    canvas.saveState()
    if rotated:
        canvas.translate(x + width, y + height)
        canvas.rotate(180)
    else:
        canvas.translate(x, y)
    return width, height


def _draw(
    canvas: Canvas,
    box: tuple[float, float, float, float],
    fitted: Fitted,
    *,
    rotated: bool = False,
    middle: bool = False,
) -> None:
    """Draw fitted text inside box = (x, y, width, height) from the top (or centred), upside down if asked."""
    width, height = _enter_panel(canvas, box, rotated)
    top = (height + fitted.height) / 2 if middle else height
    for paragraph, used in fitted.paragraphs:
        paragraph.drawOn(canvas, 0, top - (used - paragraph.getSpaceAfter()))
        top -= used
    if fitted.blocks:
        # One text object for the panel: much cheaper than a drawString per line.
        text = canvas.beginText()
        text.setFont(fitted.font, fitted.size)
        text.setFillColor(fitted.colour)
        baseline = top - fitted.size
        for block in fitted.blocks:
            for line in block:
                left = (width - pdfmetrics.stringWidth(line, fitted.font, fitted.size)) / 2 if fitted.centred else 0
                text.setTextOrigin(left, baseline)
                text.textOut(line)
                baseline -= fitted.leading
            baseline -= fitted.gap
        canvas.drawText(text)
    canvas.restoreState()


def _draw_runs(canvas: Canvas, x: float, y: float, line: str, size: float, bold: bool) -> None:
    """Draw one line from x, switching fonts per run of script (names in any script print, never as boxes)."""
    if _in_base_font(line):
        canvas.setFont(BOLD if bold else FONT, size)
        canvas.drawString(x, y, line)
        return
    for font, text in font_runs(line, bold):
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, font, size)


def _note_box(canvas: Canvas, box: tuple[float, float, float, float], rotated: bool) -> None:
    """Draw the bounded blank area for the handwritten note and signature."""
    width, height = _enter_panel(canvas, box, rotated)
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
    _draw(canvas, _inset(0, 0, w, h), _fitted(office, SMALL, inner[2], inner[3], "back", office), middle=True)
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
    _draw(canvas, _inset(0, 0, w, h), _fitted(office, SMALL, inner[2], inner[3], "back", office), middle=True)
    _draw(canvas, _inset(w, 0, w, h), front, middle=True)  # outside: front
    _fold_lines(canvas, page, vertical=True, horizontal=False)
    canvas.showPage()
    _draw(canvas, _inset(0, 0, w, h), inside)  # inside left: the greeting
    _note_box(canvas, _inset(w, 0, w, h), rotated=False)  # inside right: the note
    _fold_lines(canvas, page, vertical=True, horizontal=False)
    canvas.showPage()


def _postcard(canvas: Canvas, item: PrintedCard, office: str, page: tuple[float, float]) -> None:
    width, height = page
    # The front: the front line at the top, and the framed space for the handwritten note below it.
    x, y, inner_width, inner_height = _inset(0, 0, width, height)
    title = (x, y + inner_height * 0.62, inner_width, inner_height * 0.38)
    _draw(canvas, title, _fitted(item.card.card_front, FRONT, title[2], title[3], "front", item.name), middle=True)
    _note_box(canvas, (x, y, inner_width, inner_height * 0.58), rotated=False)
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
    headers = ("#", "Customer", "Occasion", "Last purchase", "Notes", "Years", "Owner", "Try writing")
    widths = [w * inch for w in (0.3, 1.3, 0.8, 1.1, 1.2, 0.6, 0.6, 1.6)]
    size, leading, pad = 8.0, 10.0, 3.0
    left, top, bottom = 0.5 * inch, letter[1] - 0.5 * inch, 0.5 * inch

    def row_lines(cells: Sequence[str], font: str) -> list[list[str]]:
        return [_wrap(cell, font, size, width - 2 * pad) for cell, width in zip(cells, widths, strict=True)]

    def draw_row(lines: list[list[str]], y: float, font: str) -> float:
        text = canvas.beginText()
        text.setFont(font, size)
        x = left
        for cell, width in zip(lines, widths, strict=True):
            for n, line in enumerate(cell):
                if _in_base_font(line):
                    text.setTextOrigin(x + pad, y - size - n * leading)
                    text.textOut(line)
                else:
                    _draw_runs(canvas, x + pad, y - size - n * leading, line, size, font == BOLD)
            x += width
        canvas.drawText(text)
        height = max(len(cell) for cell in lines) * leading + 2 * pad
        canvas.setStrokeColor(colors.lightgrey)
        canvas.line(left, y - height, left + sum(widths), y - height)
        return y - height

    def new_page() -> float:
        canvas.setPageSize(letter)
        canvas.setFont(BOLD, 16)
        canvas.setFillColor(colors.black)
        late = sum(1 for item in cards if item.late)
        canvas.drawString(
            left, top - 16, f"Writer's guide, batch {batch}: {len(cards)} cards" + (f", {late} late" if late else "")
        )
        return draw_row(row_lines(headers, BOLD), top - 28, BOLD)

    y = new_page()
    for number, item in enumerate(cards, start=1):
        occasion = f"{item.occasion}, late" if item.late else item.occasion
        cells = (
            str(number),
            f"{item.name} ({item.customer_id})",
            occasion,
            item.last_purchase,
            item.notes,
            str(item.years),
            item.owner,
            item.suggestion,
        )
        lines = row_lines(cells, FONT)
        if y - (max(len(cell) for cell in lines) * leading + 2 * pad) < bottom:
            canvas.showPage()
            y = new_page()
        y = draw_row(lines, y, FONT)
    canvas.showPage()


def write_batch_pdf(
    cards: Sequence[PrintedCard],
    path: Path,
    batch: str,
    office_name: str,
    card_format: str = "quarter-letter",
    paper: str = "letter",
) -> None:
    """Write the guide, then every card in the order given, in one format."""
    # Binary (compressed) streams without the ASCII-85 layer reportlab adds by default: a third
    # smaller and faster to write; every PDF reader of this century takes them.
    ascii85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
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
    finally:
        rl_config.useA85 = ascii85

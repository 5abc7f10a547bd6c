"""A print batch as one PDF: the writer's guide, then one quarter-fold card per US Letter sheet.

Quarter fold, single-sided (REFERENCE.md, Print): the bottom half holds the back
(left) and the front (right) upright; the top half holds the two inside panels
rotated 180 degrees, so that after folding the top half back and then the left
half back, the card opens on the printed greeting (left) beside a bounded blank
panel for the handwritten note and signature (right).  Text is data: escaped
before it reaches Paragraph markup, and every character must be in the embedded
font, or the card is refused rather than printed with boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, KeepInFrame, Paragraph, Table, TableStyle

from cardsender.fonts import register_fonts
from cardsender.render import RenderedCard

FONT, BOLD = register_fonts()
PANEL_W, PANEL_H = letter[0] / 2, letter[1] / 2
MARGIN = 0.4 * inch
FRONT = ParagraphStyle("front", fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER)
INSIDE = ParagraphStyle("inside", fontName=FONT, fontSize=11, leading=15, spaceAfter=8)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, alignment=TA_CENTER, textColor=colors.grey)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=CELL, fontName=BOLD)
TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=6)
GUIDE_ROWS_PER_PAGE = 14


@dataclass(frozen=True, slots=True)
class PrintedCard:
    """One card of a batch: its words, and what the writer's guide says about its customer."""

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


def missing_glyphs(text: str) -> list[str]:
    """Return the characters of a text that the embedded font cannot draw."""
    face = pdfmetrics.getFont(FONT).face  # type: ignore[attr-defined]
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in face.charToGlyph})


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return [Paragraph(escape(block).replace("\n", "<br/>"), style) for block in blocks]


def _panel(canvas: Canvas, x: float, y: float, story: list[Flowable], rotated: bool, middle: bool = False) -> None:
    """Draw a story in the panel whose lower left corner is (x, y), upside down when ``rotated``."""
    canvas.saveState()
    if rotated:
        canvas.translate(x + PANEL_W, y + PANEL_H)
        canvas.rotate(180)
    else:
        canvas.translate(x, y)
    width, height = PANEL_W - 2 * MARGIN, PANEL_H - 2 * MARGIN
    fitted = KeepInFrame(width, height, story, mode="shrink")
    if middle:
        _, used = fitted.wrapOn(canvas, width, height)
        fitted.drawOn(canvas, MARGIN, (PANEL_H - used) / 2)
    else:
        Frame(MARGIN, MARGIN, width, height, 0, 0, 0, 0).addFromList([fitted], canvas)
    canvas.restoreState()


def _note_box(canvas: Canvas, x: float, y: float) -> None:
    """Draw, upside down in the top-left panel, the bounded blank area for the handwritten note and signature."""
    canvas.saveState()
    canvas.translate(x + PANEL_W, y + PANEL_H)
    canvas.rotate(180)
    canvas.setStrokeColor(colors.lightgrey)
    canvas.setDash(3, 3)
    canvas.rect(MARGIN, MARGIN, PANEL_W - 2 * MARGIN, PANEL_H - 2 * MARGIN)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(colors.grey)
    canvas.drawString(MARGIN + 4, PANEL_H - MARGIN - 10, "Your note and signature")
    canvas.restoreState()


def _guide(canvas: Canvas, cards: Sequence[PrintedCard], batch: str) -> None:
    """Draw the writer's guide: every card in print order, with what helps write something personal."""
    headers = ["#", "Customer", "Occasion", "Last purchase", "Notes", "Years", "Owner", "Try writing"]
    for start in range(0, max(len(cards), 1), GUIDE_ROWS_PER_PAGE):
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


def write_batch_pdf(cards: Sequence[PrintedCard], path: Path, batch: str, office_name: str) -> None:
    """Write the guide, then one quarter-fold Letter sheet per card, in the order given."""
    canvas = Canvas(str(path), pagesize=letter, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(f"{office_name}: cards, batch {batch}")
    _guide(canvas, cards, batch)
    for item in cards:
        _panel(canvas, 0, 0, [Paragraph(escape(office_name), SMALL)], rotated=False, middle=True)  # back
        _panel(canvas, PANEL_W, 0, _paragraphs(item.card.card_front, FRONT), rotated=False, middle=True)  # front
        _panel(canvas, PANEL_W, PANEL_H, _paragraphs(item.card.card_inside, INSIDE), rotated=True)  # inside left
        _note_box(canvas, 0, PANEL_H)  # inside right
        canvas.setStrokeColor(colors.Color(0.85, 0.85, 0.85))
        canvas.setDash(1, 4)
        canvas.line(0, PANEL_H, letter[0], PANEL_H)  # fold lines, faint
        canvas.line(PANEL_W, 0, PANEL_W, letter[1])
        canvas.showPage()
    canvas.save()

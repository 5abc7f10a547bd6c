"""A single printed card as a PDF (front, then inside), and a page of it as a PNG image.

A simple quarter-letter card (4.25 x 5.5 in) in DejaVu Sans; the print batches with
their folds, envelopes and labels come with the print work.  Text is data: it is
escaped before it goes into Paragraph markup, which breaks on an unescaped "<".
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, KeepInFrame, Paragraph

from cardsender.cards.render import RenderedCard
from cardsender.printing.fonts import register_fonts

CARD_SIZE = (4.25 * inch, 5.5 * inch)
MARGIN = 0.4 * inch
FONT, BOLD = register_fonts()
FRONT = ParagraphStyle("front", fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER)
INSIDE = ParagraphStyle("inside", fontName=FONT, fontSize=11, leading=15, spaceAfter=8)


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return [Paragraph(escape(block).replace("\n", "<br/>"), style) for block in blocks]


def panel_overflow(card: RenderedCard) -> list[str]:
    """Return which panels of the printed card the text does not fit at its normal size (it would be shrunk)."""
    width, height = CARD_SIZE[0] - 2 * MARGIN, CARD_SIZE[1] - 2 * MARGIN
    problems = []
    for panel, text, style in (("front", card.card_front, FRONT), ("inside", card.card_inside, INSIDE)):
        needed = sum(p.wrap(width, height)[1] + style.spaceAfter for p in _paragraphs(text, style))
        if needed > height:
            problems.append(f"the {panel} text needs {needed / 72:.1f} in of a {height / 72:.1f} in panel")
    return problems


def write_card_pdf(card: RenderedCard, path: Path) -> None:
    """Write a card as two pages: the front line, then the inside greeting, each fitted to its panel."""
    width, height = CARD_SIZE
    canvas = Canvas(str(path), pagesize=CARD_SIZE, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(f"{card.occasion} card")
    inner_width, inner_height = width - 2 * MARGIN, height - 2 * MARGIN
    # The front: its line centred on the panel.
    front = KeepInFrame(inner_width, inner_height, _paragraphs(card.card_front, FRONT), mode="shrink")
    _, front_height = front.wrapOn(canvas, inner_width, inner_height)
    front.drawOn(canvas, MARGIN, (height - front_height) / 2)
    canvas.showPage()
    # The inside: the greeting from the top, shrunk if it must be to fit the panel.
    frame = Frame(MARGIN, MARGIN, inner_width, inner_height, 0, 0, 0, 0)
    frame.addFromList(
        [KeepInFrame(inner_width, inner_height, _paragraphs(card.card_inside, INSIDE), mode="shrink")], canvas
    )
    canvas.showPage()
    canvas.save()


def write_page_png(pdf: Path, png: Path, page: int = 0, dpi: int = 150) -> None:
    """Render one page of a PDF to a PNG image a person can look at."""
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        document[page].render(scale=dpi / 72).to_pil().save(png, format="PNG")
    finally:
        document.close()

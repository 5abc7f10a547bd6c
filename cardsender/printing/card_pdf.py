"""The earlier preview of a printed card, kept for its callers: now drawn by the layout engine.

``write_card_pdf`` writes a quarter-letter card's front and inside greeting as two 4.25 x 5.5 in
pages, each panel exactly as ``cardsender.printing.layout`` fits and draws it on the printed
sheet.  New code calls ``layout.preview_pdf`` and ``layout.preview_pngs``, which give the
printed sheets themselves in any format.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from cardsender.cards.render import RenderedCard
from cardsender.domain.errors import InputError
from cardsender.domain.vocabulary import CardFormat, Paper
from cardsender.printing.layout import PrintedCard, card_sheets
from cardsender.printing.panels import FONT, draw_text, fit, natural

CARD_SIZE = (4.25 * 72, 5.5 * 72)  # a quarter of a Letter sheet


def panel_overflow(card: RenderedCard) -> list[str]:
    """Return the panels of a quarter-letter card whose text the engine shrinks below its normal size.

    The template check's earlier, stricter rule; ``layout.template_overflow`` is print's own.
    """
    item = PrintedCard(0, "", "", card.occasion, card, "", "", 0, "", "")
    problems = []
    for panel in card_sheets(item, "", CardFormat.QUARTER_LETTER, Paper.LETTER)[0].panels:
        if panel.kind in ("front", "inside"):
            fitted = natural(panel.text, panel.kind, panel.box[2], panel.box[3])
            if not fitted.fits:
                problems.append(
                    f"the {panel.kind} text needs {fitted.height / 72:.1f} in of a {fitted.room / 72:.1f} in panel"
                )
    return problems


def write_card_pdf(card: RenderedCard, path: Path) -> None:
    """Write a quarter-letter card as two pages: the front, then the inside greeting, each as it prints."""
    item = PrintedCard(0, "", "this customer", card.occasion, card, "", "", 0, "", "")
    sheet = card_sheets(item, "", CardFormat.QUARTER_LETTER, Paper.LETTER)[0]
    canvas = Canvas(str(path), pagesize=CARD_SIZE, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(f"{card.occasion} card")
    for kind in ("front", "inside"):
        panel = next(p for p in sheet.panels if p.kind == kind)
        fitted = fit(panel.text, kind, panel.box[2], panel.box[3])
        if not fitted.fits:
            raise InputError(f"the {kind} of this card does not fit its panel; shorten the note or the template")
        x, y, width, height = panel.box
        # The panel's own corner on the page: the sheet's panel box less the quarter it sits in.
        box = (x % CARD_SIZE[0], y % CARD_SIZE[1], width, height)
        draw_text(canvas, box, fitted, middle=panel.middle)  # upright: the reader turns the card, not the sheet
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

"""The writer's guide: the first pages of a print batch, telling staff what helps write each card's note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from cardsender.printing.panels import BOLD, FONT, draw_runs, in_base_font, wrap

if TYPE_CHECKING:
    from cardsender.printing.layout import PrintedCard


def draw_guide(canvas: Canvas, cards: Sequence[PrintedCard], batch: str) -> None:
    """Draw the writer's guide on Letter pages: every card in print order, with what helps write something personal."""
    headers = ("#", "Customer", "Occasion", "Last purchase", "Notes", "Years", "Owner", "Try writing")
    widths = [w * inch for w in (0.3, 1.3, 0.8, 1.1, 1.2, 0.6, 0.6, 1.6)]
    size, leading, pad = 8.0, 10.0, 3.0
    left, top, bottom = 0.5 * inch, letter[1] - 0.5 * inch, 0.5 * inch

    def row_lines(cells: Sequence[str], font: str) -> list[list[str]]:
        return [wrap(cell, font, size, width - 2 * pad) for cell, width in zip(cells, widths, strict=True)]

    def draw_row(lines: list[list[str]], y: float, font: str) -> float:
        text = canvas.beginText()
        text.setFont(font, size)
        x = left
        for cell, width in zip(lines, widths, strict=True):
            for n, line in enumerate(cell):
                if in_base_font(line):
                    text.setTextOrigin(x + pad, y - size - n * leading)
                    text.textOut(line)
                else:
                    draw_runs(canvas, x + pad, y - size - n * leading, line, size, font == BOLD)
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

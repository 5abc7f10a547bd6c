"""Addresses printed for the post: one envelope per page, or address labels on Avery sheets.

Sizes and zones are the postal standards' and Avery's.  On a US envelope the delivery
address sits between 5/8 in and 2 3/4 in above the bottom edge, at least 1/2 in
from the sides; we start it at 40% of the width.  C6 and DL envelopes get the
right half, between 15 mm above the bottom and 60% of the height.  Labels sit at
the Avery geometry to the point, and both PDFs ask the viewer to print at actual
size, since a "fit to page" print misses every label.

Text is drawn with ``drawString`` rather than Paragraph markup, so a ``<`` in a
name is printed as it is and needs no escaping.  Every character must be in the
embedded DejaVu Sans: reportlab prints a missing glyph as a box without any
error, so such an address is refused instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reportlab.lib.pagesizes import A4, letter
from reportlab.lib.units import inch, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from cardsender.printing.fonts import font_runs, missing_glyphs, register_fonts

FONT, BOLD = register_fonts()
LEADING = 1.2  # line spacing, as a multiple of the font size
ASCENT = 0.8  # share of the line's em box above the baseline; the rest is below

ENVELOPES: dict[str, tuple[float, float]] = {
    "A2": (5.75 * inch, 4.375 * inch),
    "A7": (7.25 * inch, 5.25 * inch),
    "C6": (162 * mm, 114 * mm),
    "DL": (220 * mm, 110 * mm),
    "#10": (9.5 * inch, 4.125 * inch),
}
US_ENVELOPES = frozenset({"A2", "A7", "#10"})
ADDRESS_SIZE, ADDRESS_MIN = 12.0, 7.0
RETURN_SIZE, RETURN_MIN = 9.0, 7.0
RETURN_MARGIN = 0.35 * inch
LABEL_SIZE, LABEL_MIN = 10.0, 6.0
LABEL_PADDING = 6.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MailPiece:
    """Who a card goes to: the name and the address lines, in print order."""

    name: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelSheet:
    """A sheet of labels: the page, the grid, one label's size, the margins to the first label and the pitch."""

    page: tuple[float, float]
    columns: int
    rows: int
    width: float
    height: float
    top: float
    left: float
    pitch_x: float
    pitch_y: float

    @property
    def per_sheet(self) -> int:
        """Return how many labels a sheet holds."""
        return self.columns * self.rows

    def label_origin(self, index: int) -> tuple[float, float]:
        """Return the lower-left corner of label ``index`` (0-based, across then down) on its sheet."""
        row, column = divmod(index % self.per_sheet, self.columns)
        x = self.left + column * self.pitch_x
        y = self.page[1] - self.top - row * self.pitch_y - self.height
        return x, y


LABEL_SHEETS: dict[str, LabelSheet] = {
    "5160": LabelSheet(letter, 3, 10, 2.625 * inch, 1 * inch, 0.5 * inch, 0.1875 * inch, 2.75 * inch, 1 * inch),
    "L7160": LabelSheet(A4, 3, 7, 63.5 * mm, 38.1 * mm, 15.15 * mm, 7.2 * mm, 66.0 * mm, 38.1 * mm),
}


@dataclass(frozen=True, slots=True)
class _Box:
    """A rectangle on the page: lower-left corner, width and height."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class _Block:
    """Lines of text fitted to a box: each line with its font, the size, and the first baseline."""

    lines: tuple[tuple[str, str], ...]
    x: float
    first_baseline: float
    size: float


def _delivery_zone(envelope: str) -> _Box:
    """Return the area of an envelope where the delivery address goes."""
    width, height = ENVELOPES[envelope]
    if envelope in US_ENVELOPES:
        left, bottom, top = 0.4 * width, 5 / 8 * inch, 2.75 * inch
        return _Box(left, bottom, width - 0.5 * inch - left, top - bottom)
    left, bottom = width / 2, 15 * mm
    return _Box(left, bottom, width - 15 * mm - left, 0.6 * height - bottom)


def _width(text: str, font: str) -> float:
    """Return a line's width at 1 pt, each run of script in the font that draws it."""
    return sum(pdfmetrics.stringWidth(run, name, 1.0) for name, run in font_runs(text, bold=font == BOLD))


def _fit(
    piece: MailPiece, box: _Box, size: float, smallest: float, name_font: str, where: str, centred: bool = True
) -> _Block:
    """Fit a piece's name and non-empty lines into a box, centred or at the top; shrink down to ``smallest`` pt."""
    lines = ((piece.name, name_font), *((line, FONT) for line in piece.lines if line.strip()))
    for text, _ in lines:
        if missing := missing_glyphs(text):
            raise ValueError(f"{piece.name}: {where} holds characters no font can print: {' '.join(missing)}")
    widest = max(_width(text, font) for text, font in lines)
    tallest = (len(lines) - 1) * LEADING + 1.0  # the block's height at 1 pt: em boxes of the first and last lines
    fitted = min(size, box.width / widest if widest else size, box.height / tallest)
    if fitted < smallest:
        raise ValueError(
            f"{piece.name}: {where} does not fit even at {smallest:g} pt; shorten the longest line or use fewer lines"
        )
    top = box.y + (box.height + tallest * fitted) / 2 if centred else box.y + box.height
    return _Block(lines, box.x, top - ASCENT * fitted, fitted)


def _draw(canvas: Canvas, block: _Block) -> None:
    for number, (text, font) in enumerate(block.lines):
        x, y = block.x, block.first_baseline - number * LEADING * block.size
        for name, run in font_runs(text, bold=font == BOLD):  # names print in any script, in their own font
            canvas.setFont(name, block.size)
            canvas.drawString(x, y, run)
            x += pdfmetrics.stringWidth(run, name, block.size)


def _canvas(path: Path, page: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(str(path), pagesize=page, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(title)
    # Labels and postal zones only land where they should when printed at 100%.
    canvas.setViewerPreference("PrintScaling", "None")
    return canvas


def _choose(choices: dict[str, T], name: str, what: str) -> T:
    if name not in choices:
        raise ValueError(f"unknown {what} {name!r}; choose one of {', '.join(choices)}")
    return choices[name]


def write_envelopes(pieces: Sequence[MailPiece], return_address: MailPiece, path: Path, envelope: str) -> None:
    """Write one page per piece at the envelope's size: return address top left, delivery address in its zone."""
    page = _choose(ENVELOPES, envelope, "envelope")
    if not pieces:
        raise ValueError("no addresses to print on envelopes")
    zone = _delivery_zone(envelope)
    zone_top = zone.y + zone.height
    corner = _Box(RETURN_MARGIN, zone_top, 0.4 * page[0] - RETURN_MARGIN, page[1] - RETURN_MARGIN - zone_top)
    sender = _fit(return_address, corner, RETURN_SIZE, RETURN_MIN, BOLD, "the return address", centred=False)
    where = f"the address on the {envelope} envelope"
    blocks = [_fit(piece, zone, ADDRESS_SIZE, ADDRESS_MIN, FONT, where) for piece in pieces]
    canvas = _canvas(path, page, f"Envelopes ({envelope}): {len(pieces)}")
    for block in blocks:
        _draw(canvas, sender)
        _draw(canvas, block)
        canvas.showPage()
    canvas.save()


def write_labels(pieces: Sequence[MailPiece], path: Path, sheet: str, start_at: int = 1) -> None:
    """Write the addresses on label sheets, from label ``start_at`` (1-based) of the first sheet on."""
    layout = _choose(LABEL_SHEETS, sheet, "label sheet")
    if not 1 <= start_at <= layout.per_sheet:
        raise ValueError(f"start_at must be a label of the sheet, 1 to {layout.per_sheet} on {sheet}; got {start_at}")
    if not pieces:
        raise ValueError("no addresses to print on labels")
    inner_width, inner_height = layout.width - 2 * LABEL_PADDING, layout.height - 2 * LABEL_PADDING
    blocks = []
    for index, piece in enumerate(pieces, start=start_at - 1):
        x, y = layout.label_origin(index)
        box = _Box(x + LABEL_PADDING, y + LABEL_PADDING, inner_width, inner_height)
        blocks.append(_fit(piece, box, LABEL_SIZE, LABEL_MIN, BOLD, f"the address on the {sheet} label"))
    canvas = _canvas(path, layout.page, f"Labels ({sheet}): {len(pieces)}")
    for index, block in enumerate(blocks, start=start_at - 1):
        if index > start_at - 1 and index % layout.per_sheet == 0:
            canvas.showPage()
        _draw(canvas, block)
    canvas.showPage()
    canvas.save()

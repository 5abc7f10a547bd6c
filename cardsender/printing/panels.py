"""Text fitted to a panel of a printed card: the type sizes, the one fit rule, and drawing into a box.

The fit rule, the same for print and preview: text too long for its panel shrinks in half-point
steps down to a minimum size, and past that it does not fit (the card is refused, never cut off,
never shrunk into illegibility).  Text is data: it is drawn as plain strings, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

from cardsender.printing.fonts import font_runs, paragraph_markup, register_fonts

FONT, BOLD = register_fonts()
MARGIN = 0.4 * inch
FRONT = ParagraphStyle("front", fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER)
INSIDE = ParagraphStyle("inside", fontName=FONT, fontSize=11, leading=15, spaceAfter=8)
ADDRESS = ParagraphStyle("address", fontName=FONT, fontSize=10, leading=13)
SMALL = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=10, alignment=TA_CENTER, textColor=colors.grey)
# Each text panel's style and the smallest size its text may shrink to before the card is refused.
STYLES = {"front": FRONT, "inside": INSIDE, "address": ADDRESS, "back": SMALL}
MIN_SIZE = {"front": 12.0, "inside": 8.0, "address": 8.0, "back": 6.0}

Box = tuple[float, float, float, float]  # x, y, width, height in points


@cache
def _base_coverage() -> frozenset[str]:
    """Return the characters the base font draws (both weights of DejaVu Sans cover the same scripts)."""
    return frozenset(map(chr, pdfmetrics.getFont(FONT).face.charToGlyph))  # type: ignore[attr-defined]


def in_base_font(text: str) -> bool:
    """Return whether the base font draws every character of a text but whitespace."""
    return all(ch.isspace() for ch in set(text) - _base_coverage())


@dataclass(frozen=True, slots=True)
class Fitted:
    """Text broken into lines for a panel at one size, ready to draw, and the room the panel has."""

    blocks: tuple[tuple[str, ...], ...]
    # Text beyond the base font (CJK, Hangul, Hebrew, Arabic) is drawn as Paragraphs with a font per run.
    paragraphs: tuple[tuple[Flowable, float], ...]
    font: str
    size: float
    leading: float
    gap: float
    centred: bool
    colour: colors.Color
    room: float
    # The widest line and the panel's width: a word wider than the panel would run off the card.
    widest: float = 0.0
    width: float = 0.0

    @property
    def height(self) -> float:
        """Return the height the text takes."""
        if self.paragraphs:
            return sum(height for _, height in self.paragraphs)
        lines = sum(len(block) for block in self.blocks)
        return lines * self.leading + self.gap * max(len(self.blocks) - 1, 0)

    @property
    def fits(self) -> bool:
        """Return whether the text fits its panel."""
        return self.height <= self.room and self.widest <= self.width


@lru_cache(maxsize=65_536)
def _word_width(word: str, font: str) -> float:
    """Return a word's width at 1 pt; cards repeat most of their words, so each is measured once."""
    return float(pdfmetrics.stringWidth(word, font, 1.0))


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break a line of text into lines no wider than ``width`` at ``size`` pt, between words.

    Widths add up exactly (reportlab draws TrueType text without kerning); a word wider
    than the line stands on a line of its own, as reportlab's simpleSplit does, unless it
    breaks after a hyphen (a double-barrelled name on an address).
    """
    limit = width / size
    space = _word_width(" ", font)
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    split = text.split()
    if "-" not in text:  # the common case, kept to one pass: no word can break after a hyphen
        for word in split:
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
    # (word, whether the next word follows it without a space: the pieces of a word broken after a hyphen)
    words: list[tuple[str, bool]] = []
    for word in split:
        if "-" in word.strip("-") and _word_width(word, font) > limit:
            pieces = word.split("-")
            words += [(f"{piece}-", True) for piece in pieces[:-1]] + [(pieces[-1], False)]
        else:
            words.append((word, False))
    glued = False  # whether the word before continues into this one
    for word, into_next in words:
        measure = _word_width(word, font)
        glue = 0.0 if glued else space
        if current and used + glue + measure > limit:
            lines.append("".join(current))
            current, used = [word], measure
        else:
            current.append(word if glued or not current else f" {word}")
            used += (glue if len(current) > 1 else 0.0) + measure
        glued = into_next
    if current or not lines:
        lines.append("".join(current))
    return lines


def _at_size(text: str, style: ParagraphStyle, size: float, width: float, height: float) -> Fitted:
    """Return the text broken into lines for a panel at one size."""
    paragraphs = [block.strip() for block in text.split("\n\n") if block.strip()]
    ratio = size / style.fontSize
    if not in_base_font(text):  # other scripts need a font per run (cardsender.printing.fonts)
        scaled = ParagraphStyle(
            f"{style.name}-{size}",
            parent=style,
            fontSize=size,
            leading=style.leading * ratio,
            spaceAfter=style.spaceAfter * ratio,
        )
        wrapped = tuple(
            (p, p.wrap(width, height)[1] + scaled.spaceAfter)
            for p in (Paragraph(paragraph_markup(block, style.fontName == BOLD), scaled) for block in paragraphs)
        )
        return Fitted((), wrapped, style.fontName, size, 0, 0, False, style.textColor, height)
    blocks = tuple(
        tuple(line for raw in block.split("\n") for line in wrap(raw, style.fontName, size, width))
        for block in paragraphs
    )
    # Only a line of one word can be wider than the panel: wrap adds a word to a line only where it fits.
    lone = (line for block in blocks for line in block if " " not in line)
    widest = max((_word_width(line, style.fontName) * size for line in lone), default=0.0)
    return Fitted(
        blocks,
        (),
        style.fontName,
        size,
        style.leading * ratio,
        style.spaceAfter * ratio,
        style.alignment == TA_CENTER,
        style.textColor,
        height,
        widest,
        width,
    )


@lru_cache(maxsize=512)  # the back of every card, and repeated greetings, are fitted once
def fit(text: str, kind: str, width: float, height: float) -> Fitted:
    """Return a panel's text at the largest size, down to its minimum, that fits; else at the minimum (not fitting).

    Lines are drawn as plain strings (no markup), so customer text needs no escaping here.
    """
    style = STYLES[kind]
    size = float(style.fontSize)
    while True:
        fitted = _at_size(text, style, size, width, height)
        if fitted.fits or size - 0.5 < MIN_SIZE[kind]:
            return fitted
        size -= 0.5


def enter_panel(canvas: Canvas, box: Box, rotated: bool) -> tuple[float, float]:
    """Save the canvas state and move the origin to a panel's corner (turned 180 degrees if asked); return its size."""
    x, y, width, height = box
    canvas.saveState()
    if rotated:
        canvas.translate(x + width, y + height)
        canvas.rotate(180)
    else:
        canvas.translate(x, y)
    return width, height


def draw_text(canvas: Canvas, box: Box, fitted: Fitted, *, rotated: bool = False, middle: bool = False) -> None:
    """Draw fitted text inside the box from the top (or centred), upside down if asked."""
    width, height = enter_panel(canvas, box, rotated)
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


def draw_runs(canvas: Canvas, x: float, y: float, line: str, size: float, bold: bool) -> None:
    """Draw one line from x, switching fonts per run of script (names in any script print, never as boxes)."""
    if in_base_font(line):
        canvas.setFont(BOLD if bold else FONT, size)
        canvas.drawString(x, y, line)
        return
    for font, text in font_runs(line, bold):
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, font, size)


def draw_note_box(canvas: Canvas, box: Box, rotated: bool) -> None:
    """Draw the bounded blank area for the handwritten note and signature."""
    width, height = enter_panel(canvas, box, rotated)
    canvas.setStrokeColor(colors.lightgrey)
    canvas.setDash(3, 3)
    canvas.rect(0, 0, width, height)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(colors.grey)
    canvas.drawString(4, height - 10, "Your note and signature")
    canvas.restoreState()


def inset(x: float, y: float, width: float, height: float) -> Box:
    """Return a panel's box inside its margin."""
    return (x + MARGIN, y + MARGIN, width - 2 * MARGIN, height - 2 * MARGIN)

"""Fonts shipped with cardsender, registered with reportlab on first use.

reportlab's built-in fonts hold 256 characters and print a box, without any error,
for the rest (Ż, ř, Greek, Cyrillic...); DejaVu Sans covers Latin, Greek and
Cyrillic (REFERENCE.md, Print).  It is embedded in every PDF we write.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SANS, SANS_BOLD = "DejaVuSans", "DejaVuSans-Bold"
_FILES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf"}


@cache
def register_fonts() -> tuple[str, str]:
    """Register the shipped fonts with reportlab once; return the regular and bold font names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(__file__).parent
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD)
    return SANS, SANS_BOLD

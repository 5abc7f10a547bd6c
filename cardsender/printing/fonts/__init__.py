"""Fonts shipped with cardsender, registered with reportlab on first use.

reportlab's built-in fonts hold 256 characters and print a box, without any error,
for the rest (Ż, ř, Greek, Cyrillic...); DejaVu Sans covers Latin, Greek and
Cyrillic, Hebrew and Arabic.  It is embedded in every PDF we write.

reportlab has no per-character fallback, so text is cut into runs, each drawn by the
first font that has its glyphs: DejaVu Sans, then Droid Sans Fallback (Chinese and
Japanese, Apache-2.0), then NanumGothic (Korean Hangul, OFL-1.1), which Droid lacks.
Both are TrueType-outline fonts: Noto CJK's OpenType/CFF files do not load in reportlab.
There is no bold CJK font: bold text falls back to the regular CJK faces.

reportlab neither shapes Arabic nor orders right-to-left text: a line holding Hebrew or
Arabic letters is shaped with arabic-reshaper (presentation forms that DejaVu has) and put
in visual order with python-bidi before it is cut into runs.  Lines are reordered one by
one, so a right-to-left paragraph that reportlab itself wraps onto several lines comes
out with its lines in the wrong order: fine for names and short lines.

reportlab, arabic-reshaper and python-bidi are imported only when text is laid out,
because the CLI imports this module indirectly.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from reportlab.pdfbase.ttfonts import TTFont

SANS, SANS_BOLD = "DejaVuSans", "DejaVuSans-Bold"
CJK, HANGUL = "DroidSansFallback", "NanumGothic"
_FILES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf"}
_EXTRA_FILES = {CJK: "DroidSansFallbackFull.ttf", HANGUL: "NanumGothic.ttf"}
# Tried in order after the paragraph's base font; the bold paragraph falls back to regular DejaVu first.
_FALLBACKS = (SANS, CJK, HANGUL)
_RTL_CLASSES = frozenset({"R", "AL"})
_WORDS = re.compile(r"(\s+)")


@cache
def register_fonts() -> tuple[str, str]:
    """Register the shipped fonts with reportlab once; return the regular and bold font names."""
    from reportlab.pdfbase import pdfmetrics

    for name in _FILES:
        pdfmetrics.registerFont(_load(name))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD)
    return SANS, SANS_BOLD


@cache
def _load(name: str) -> TTFont:
    """Parse one shipped font file (once) without registering it."""
    from reportlab.pdfbase.ttfonts import TTFont

    return TTFont(name, str(Path(__file__).parent / (_FILES | _EXTRA_FILES)[name]))


@cache
def _register_extra(name: str) -> None:
    """Register a fallback font, as its own bold and italic so `<b>` around it still resolves."""
    from reportlab.pdfbase import pdfmetrics

    pdfmetrics.registerFont(_load(name))
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


@cache
def _coverage(name: str) -> frozenset[int]:
    """The code points that a shipped font has a glyph for."""
    return frozenset(_load(name).face.charToGlyph)


def _has(name: str, char: str) -> bool:
    return ord(char) in _coverage(name)


def _font_for(char: str, base: str) -> str | None:
    """The first font, base font first, that draws `char`; None when none does."""
    for name in (base, *_FALLBACKS):
        if _has(name, char):
            return name
    return None


@cache
def _reshaper() -> Any:
    """An Arabic reshaper whose ligatures are only those that both DejaVu faces can draw."""
    from arabic_reshaper import ArabicReshaper  # type: ignore[import-untyped]
    from arabic_reshaper.ligatures import LIGATURES  # type: ignore[import-untyped]

    drawable = _coverage(SANS) & _coverage(SANS_BOLD)
    config: dict[str, str] = {
        "language": "Arabic",
        "delete_harakat": "yes",  # vowel marks would need mark positioning, which reportlab does not do
        "delete_tatweel": "no",
        "support_zwj": "yes",
        "use_unshaped_instead_of_isolated": "no",
        "support_ligatures": "yes",
    }
    for key, (_match, forms) in LIGATURES:
        config[key] = "yes" if all(ord(c) in drawable for form in forms for c in form) else "no"
    return ArabicReshaper(configuration=config)


def _shape(line: str) -> str:
    """Join Arabic letters word by word; a word whose joined forms no font draws stays unjoined."""
    reshaper = _reshaper()
    words = []
    for word in _WORDS.split(line):
        shaped: str = reshaper.reshape(word)
        if shaped != word and not all(_font_for(c, SANS) for c in shaped):
            shaped = word
        words.append(shaped)
    return "".join(words)


def _visual(line: str) -> str:
    """One line of logical-order text in the order it is drawn, left to right."""
    if not any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in line):
        return line
    from bidi.algorithm import get_display  # type: ignore[import-untyped]

    if any(unicodedata.bidirectional(c) == "AL" for c in line):
        line = _shape(line)
    display = get_display(line)  # the pure-Python algorithm mirrors brackets; bidi.get_display (Rust) does not
    assert isinstance(display, str)
    return display


def font_runs(text: str, bold: bool = False) -> list[tuple[str, str]]:
    """Cut logical-order text into (font name, visual-order text) runs, each drawable by its font.

    Text is NFC-normalised; right-to-left lines are shaped and reordered.  Whitespace and
    combining marks join the run before them (leading whitespace the run after it); a space
    that the run's font lacks becomes a plain space.  Newlines stay in the text.  A character
    that no font draws stays in the base font (see `missing_glyphs`).  Every font named is
    registered with reportlab.
    """
    regular, bold_name = register_fonts()
    base = bold_name if bold else regular
    runs: list[list[str]] = []  # [font, text]
    pending = ""  # whitespace before the first run of the text
    for index, line in enumerate(unicodedata.normalize("NFC", text).replace("\r\n", "\n").split("\n")):
        if index:
            if runs:
                runs[-1][1] += "\n"
            else:
                pending += "\n"
        for char in _visual(line):
            current = runs[-1][0] if runs else None
            if char.isspace():
                if current is None:
                    pending += char
                else:
                    runs[-1][1] += char if _has(current, char) else " "
                continue
            if current is not None and unicodedata.category(char).startswith("M") and _has(current, char):
                runs[-1][1] += char
                continue
            font = _font_for(char, base) or base
            if font == current:
                runs[-1][1] += char
                continue
            if not runs and pending:
                char = "".join(c if c == "\n" or _has(font, c) else " " for c in pending) + char
                pending = ""
            runs.append([font, char])
    if not runs:
        return [(base, pending)] if pending else []
    for font, _ in runs:
        if font not in (regular, bold_name):
            _register_extra(font)
    return [(font, chunk) for font, chunk in runs]


def paragraph_markup(text: str, bold: bool = False) -> str:
    """Escaped reportlab Paragraph markup for plain text, with `<font>` tags where the font changes.

    The Paragraph's style must use the base font: `register_fonts()[1]` when `bold`, else `[0]`.
    Newlines become `<br/>`.
    """
    base = register_fonts()[1 if bold else 0]
    parts = []
    for font, chunk in font_runs(text, bold):
        markup = escape(chunk).replace("\n", "<br/>")
        parts.append(markup if font == base else f'<font name="{font}">{markup}</font>')
    return "".join(parts)


def missing_glyphs(text: str) -> list[str]:
    """The characters of `text` (sorted, unique, whitespace left out) that no shipped font can draw."""
    chars = set(unicodedata.normalize("NFC", text))
    return sorted(c for c in chars if not c.isspace() and _font_for(c, SANS_BOLD) is None)

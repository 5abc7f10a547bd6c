"""Shipped fonts: per-script runs, right-to-left shaping, missing glyphs, and names that really print."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata

import pypdf
import pypdfium2
import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from cardsender.printing.fonts import (
    CJK,
    HANGUL,
    SANS,
    SANS_BOLD,
    font_runs,
    missing_glyphs,
    paragraph_markup,
    register_fonts,
)

# Each name with the font that must draw it.
NAMES = {
    "Zoë Ødegård": SANS,
    "Łukasz Żółć": SANS,
    "Nguyễn Văn An": SANS,
    "Ελένη": SANS,
    "Ольга Ковальчук": SANS,
    "שרה כהן": SANS,
    "محمد حداد": SANS,
    "山田太郎": CJK,
    "王小明": CJK,
    "김민준": HANGUL,
    "<b>Bob</b>": SANS,
}
PAGE_HEIGHT, TOP, PITCH, LEADING, SIZE = 400.0, 20.0, 30.0, 18.0, 14.0
SCALE = 2.0


def line_bottom(index: int) -> float:
    """The PDF y of the bottom of the paragraph box holding name `index`."""
    return PAGE_HEIGHT - TOP - LEADING - index * PITCH


@pytest.fixture(scope="module")
def pdf() -> bytes:
    """A one-page PDF with each name as its own Paragraph built from `paragraph_markup`."""
    sans, _ = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(300, PAGE_HEIGHT), invariant=True, initialFontName=sans)  # type: ignore[arg-type]  # a font name; the stubs say float
    style = ParagraphStyle("name", fontName=sans, fontSize=SIZE, leading=LEADING)
    for index, name in enumerate(NAMES):
        paragraph = Paragraph(paragraph_markup(name), style)
        paragraph.wrapOn(canvas, 280, LEADING)
        paragraph.drawOn(canvas, 10, line_bottom(index))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def drawn_text(pdf: bytes) -> list[tuple[str, str]]:
    """The (text, base font name without subset prefix) chunks that pypdf reads from the page."""
    chunks: list[tuple[str, str]] = []

    def visit(text: str, cm: object, tm: object, font: dict[str, object] | None, size: object) -> None:
        if text.strip() and font is not None:
            chunks.append((text.strip(), str(font["/BaseFont"]).split("+")[-1]))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return chunks


def test_every_name_reads_back_in_its_font(pdf: bytes) -> None:
    """Every name reads back from the PDF, drawn by the expected font, with no missing glyph.

    pypdf returns Arabic as the presentation forms that were drawn (and, depending on its
    version, in logical or visual order), so each chunk is compared after NFKC, which maps
    presentation forms back to the base letters, in either order.
    """
    chunks = drawn_text(pdf)
    assert len(chunks) == len(NAMES)
    for (text, font), (name, expected_font) in zip(chunks, NAMES.items(), strict=True):
        assert "\x00" not in text
        assert unicodedata.normalize("NFKC", text) in (name, name[::-1])
        assert font == expected_font


def test_page_uses_no_standard_font(pdf: bytes) -> None:
    """The page embeds only shipped fonts: no Helvetica that a printer would substitute."""
    resources = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"].get_object()
    assert isinstance(resources, pypdf.generic.DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, pypdf.generic.DictionaryObject)
    names = {str(font.get_object()["/BaseFont"]).split("+")[-1] for font in fonts.values()}
    assert names == {SANS, CJK, HANGUL}


def test_every_line_is_drawn_in_ink(pdf: bytes) -> None:
    """Each name's band on the rendered page has dark pixels, and the gaps between bands stay white."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=SCALE).to_pil().convert("L")

    def dark_pixels(bottom: float, top: float) -> int:
        """Dark pixels between two PDF heights, across the page."""
        band = image.crop((0, round((PAGE_HEIGHT - top) * SCALE), image.width, round((PAGE_HEIGHT - bottom) * SCALE)))
        return sum(count for value, count in enumerate(band.histogram()) if value < 128)

    for index, name in enumerate(NAMES):
        bottom = line_bottom(index)
        assert dark_pixels(bottom, bottom + LEADING) > 20 * len(name.replace(" ", "")), name
        assert dark_pixels(bottom - (PITCH - LEADING) + 2, bottom - 1) == 0, name


def test_nothing_is_missing_for_real_names() -> None:
    """Every test name, in every script, has a glyph in a shipped font."""
    for name in NAMES:
        assert missing_glyphs(name) == [], name


def test_missing_glyphs_names_what_cannot_print() -> None:
    """An Egyptian hieroglyph is reported once, whitespace and printable letters are not."""
    assert missing_glyphs("Ann 𓀀 Lee 𓀀\t") == ["𓀀"]
    assert missing_glyphs("") == []


def test_runs_switch_to_cjk_and_back() -> None:
    """A Japanese name inside Latin text gets its own CJK run, with the following space, then back."""
    assert font_runs("Dear 山田 Taro") == [(SANS, "Dear "), (CJK, "山田 "), (SANS, "Taro")]
    assert font_runs("김민준 王小明") == [(HANGUL, "김민준 "), (CJK, "王小明")]


def test_bold_runs_use_the_bold_base_font() -> None:
    """Bold text stays in DejaVu Sans Bold and borrows the regular CJK font."""
    assert font_runs("Dear 山田", bold=True) == [(SANS_BOLD, "Dear "), (CJK, "山田")]


def test_whitespace_joins_its_neighbour() -> None:
    """Leading whitespace joins the first run; a space the run's font lacks becomes a plain space."""
    assert font_runs("  山田") == [(CJK, "  山田")]
    assert font_runs("山田\u3000太郎") == [(CJK, "山田\u3000太郎")]
    assert font_runs("Ann\u3000Lee") == [(SANS, "Ann Lee")]
    assert font_runs("   ") == [(SANS, "   ")]
    assert font_runs("") == []


def test_hebrew_is_reordered_for_drawing() -> None:
    """A Hebrew name comes back in visual order, with brackets mirrored."""
    assert font_runs("שרה כהן") == [(SANS, "ןהכ הרש")]
    assert font_runs("(שרה)") == [(SANS, "(הרש)")]


def test_arabic_is_shaped_and_reordered() -> None:
    """An Arabic name comes back as joined presentation forms, in visual order."""
    [(font, text)] = font_runs("محمد حداد")
    assert font == SANS
    assert all(
        unicodedata.name(c).startswith("ARABIC LETTER") and "FORM" in unicodedata.name(c) for c in text if c != " "
    )
    assert unicodedata.normalize("NFKC", text)[::-1] == "محمد حداد"


def test_arabic_ligatures_are_limited_to_drawable_ones() -> None:
    """Lam-alef joins into the ligature DejaVu has; "Allah" is not turned into a ligature DejaVu lacks."""
    assert font_runs("لا") == [(SANS, "\ufefb")]
    [(_, allah)] = font_runs("الله")
    assert "\ufdf2" not in allah
    assert missing_glyphs(allah) == []


def test_markup_escapes_and_switches_fonts() -> None:
    """Markup escapes each run, tags only non-base fonts, and turns newlines into line breaks."""
    assert paragraph_markup("<b>Bob</b> & 山田\nTaro") == (
        f'&lt;b&gt;Bob&lt;/b&gt; &amp; <font name="{CJK}">山田<br/></font>Taro'
    )
    assert paragraph_markup("Zoë", bold=True) == "Zoë"


def test_register_fonts_keeps_its_contract() -> None:
    """register_fonts still returns the DejaVu regular and bold names."""
    assert register_fonts() == (SANS, SANS_BOLD) == ("DejaVuSans", "DejaVuSans-Bold")


def test_import_does_not_load_reportlab() -> None:
    """Importing cardsender.printing.fonts imports neither reportlab nor the shaping libraries."""
    code = (
        "import sys, cardsender.printing.fonts\n"
        "loaded = {m.split('.')[0] for m in sys.modules} & {'reportlab', 'bidi', 'arabic_reshaper'}\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

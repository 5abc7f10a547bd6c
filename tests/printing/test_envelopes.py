"""Envelopes and address labels: real PDFs read back with pypdf and rendered with pypdfium2."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pypdf
import pytest
from reportlab.pdfbase import pdfmetrics

from cardsender.printing.envelopes import ENVELOPES, LABEL_SHEETS, MailPiece, write_envelopes, write_labels
from tests.images import ink_difference

INCH, MM = 72.0, 72.0 / 25.4
SHOP = MailPiece("Harbour Street Bikes", ("12 Harbour St", "Toronto ON M5J 2N8"))
ZOE = MailPiece("Zoë Ødegård", ("Storgata 5", "0155 Oslo", "Norway"))
WORLD = (
    ZOE,
    MailPiece("Łukasz Żółć", ("ul. Długa 7", "", "00-238 Warszawa", "Poland")),
    MailPiece("Nguyễn Văn An", ("12 Lê Lợi", "Quận 1, Hồ Chí Minh", "Việt Nam")),
    MailPiece("Ольга Ковальчук", ("вул. Хрещатик 22", "01001 Київ", "Україна")),
)
TOO_LONG = MailPiece("Bartholomew Long", ("The Very Long Street Name That Goes On " * 4,))


class Avery(NamedTuple):
    """An Avery sheet as Avery specifies it, written out here independently of the module."""

    page: tuple[float, float]
    columns: int
    rows: int
    height: float
    top: float
    left: float
    pitch_x: float
    pitch_y: float


AVERY = {
    "5160": Avery((8.5 * INCH, 11 * INCH), 3, 10, 1 * INCH, 0.5 * INCH, 0.1875 * INCH, 2.75 * INCH, 1 * INCH),
    "L7160": Avery((210 * MM, 297 * MM), 3, 7, 38.1 * MM, 15.15 * MM, 7.2 * MM, 66.0 * MM, 38.1 * MM),
}


def texts(page: pypdf.PageObject) -> list[tuple[str, float, float, float]]:
    """Return each line drawn on a page: its text, the x and y of its origin in page coordinates, and its size."""
    found: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text.strip("\n"), x, y, size))

    page.extract_text(visitor_text=visit)
    return found


def expected_baselines(count: int, size: float, bottom: float, top: float) -> list[float]:
    """Return the baselines of ``count`` lines at ``size`` pt, 1.2 leading, centred between bottom and top."""
    height = (count - 1) * 1.2 * size + size  # from the top of the first line's em box to the bottom of the last
    first = (bottom + top + height) / 2 - 0.8 * size
    return [first - n * 1.2 * size for n in range(count)]


@pytest.mark.parametrize(
    ("envelope", "size"),
    [
        ("A2", (414.0, 315.0)),
        ("A7", (522.0, 378.0)),
        ("C6", (459.21, 323.15)),
        ("DL", (623.62, 311.81)),
        ("#10", (684.0, 297.0)),
    ],
)
def test_envelope_page_has_the_envelope_size(tmp_path: Path, envelope: str, size: tuple[float, float]) -> None:
    """Every page of an envelope PDF is the envelope, landscape, to 0.01 pt."""
    pdf = tmp_path / "envelopes.pdf"
    write_envelopes([ZOE, ZOE], SHOP, pdf, envelope)
    pages = pypdf.PdfReader(pdf).pages
    assert len(pages) == 2
    for page in pages:
        assert float(page.mediabox.width) == pytest.approx(size[0], abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(size[1], abs=0.01)
    assert ENVELOPES[envelope] == pytest.approx(size, abs=0.01)


@pytest.mark.parametrize("envelope", ["A2", "A7", "#10"])
def test_delivery_address_sits_in_the_us_zone(tmp_path: Path, envelope: str) -> None:
    """The delivery address starts at 40% of the width, between 5/8 and 2 3/4 in up, 1/2 in clear of the sides."""
    pdf = tmp_path / "envelopes.pdf"
    write_envelopes([ZOE], SHOP, pdf, envelope)
    width, _ = ENVELOPES[envelope]
    lines = texts(pypdf.PdfReader(pdf).pages[0])[3:]  # after the return address: name and two lines
    assert [text for text, *_ in lines] == ["Zoë Ødegård", "Storgata 5", "0155 Oslo", "Norway"]
    baselines = expected_baselines(4, 12, 5 / 8 * INCH, 2.75 * INCH)
    for (text, x, y, size), baseline in zip(lines, baselines, strict=True):
        assert size == 12
        assert x == pytest.approx(0.4 * width, abs=0.5)
        assert y == pytest.approx(baseline, abs=0.5)
        assert x >= 0.5 * INCH
        assert x + pdfmetrics.stringWidth(text, "DejaVuSans", size) <= width - 0.5 * INCH
        assert y - 0.24 * size >= 5 / 8 * INCH  # DejaVu's descender
        assert y + 0.93 * size <= 2.75 * INCH  # and its ascender


@pytest.mark.parametrize("envelope", ["C6", "DL"])
def test_delivery_address_sits_in_the_lower_right_on_iso_envelopes(tmp_path: Path, envelope: str) -> None:
    """On C6 and DL the delivery address starts at half the width, 15 mm clear of the bottom and the right."""
    pdf = tmp_path / "envelopes.pdf"
    write_envelopes([ZOE], SHOP, pdf, envelope)
    width, height = ENVELOPES[envelope]
    lines = texts(pypdf.PdfReader(pdf).pages[0])[3:]
    baselines = expected_baselines(4, 12, 15 * MM, 0.6 * height)
    for (text, x, y, size), baseline in zip(lines, baselines, strict=True):
        assert x == pytest.approx(width / 2, abs=0.5)
        assert y == pytest.approx(baseline, abs=0.5)
        assert x + pdfmetrics.stringWidth(text, "DejaVuSans", size) <= width - 15 * MM


@pytest.mark.parametrize("envelope", list(ENVELOPES))
def test_return_address_sits_top_left_in_smaller_text(tmp_path: Path, envelope: str) -> None:
    """The return address starts 0.35 in from the left and top edges, at 9 pt, name first."""
    pdf = tmp_path / "envelopes.pdf"
    write_envelopes([ZOE], SHOP, pdf, envelope)
    _, height = ENVELOPES[envelope]
    lines = texts(pypdf.PdfReader(pdf).pages[0])[:2]
    assert [text for text, *_ in lines] == ["Harbour Street Bikes", "12 Harbour St"]
    (_, x, y, size), (_, _, second, _) = lines
    assert (x, size) == pytest.approx((0.35 * INCH, 9), abs=0.5)
    assert y == pytest.approx(height - 0.35 * INCH - 0.8 * 9, abs=0.5)
    assert second == pytest.approx(y - 1.2 * 9, abs=0.5)


def test_long_address_shrinks_to_fit_the_zone(tmp_path: Path) -> None:
    """A line too wide at 12 pt is printed smaller, no smaller than 7 pt, and still ends 1/2 in from the edge."""
    pdf = tmp_path / "envelopes.pdf"
    wide = MailPiece("Ada Wide", ("1234 Extraordinarily Long Boulevard Northwest, Suite 500",))
    write_envelopes([wide], SHOP, pdf, "A2")
    lines = texts(pypdf.PdfReader(pdf).pages[0])[3:]
    assert [text for text, *_ in lines] == ["Ada Wide", wide.lines[0]]
    for text, x, _, size in lines:
        assert 7 <= size < 12
        assert x + pdfmetrics.stringWidth(text, "DejaVuSans", size) <= 414 - 36 + 0.01


def test_empty_lines_are_skipped(tmp_path: Path) -> None:
    """Empty and blank address lines take no space: the next line follows at the usual leading."""
    pdf = tmp_path / "envelopes.pdf"
    write_envelopes([MailPiece("Ada", ("", "1 Main St", "  ", "Springfield"))], SHOP, pdf, "A2")
    lines = texts(pypdf.PdfReader(pdf).pages[0])[3:]
    assert [text for text, *_ in lines] == ["Ada", "1 Main St", "Springfield"]
    assert [y for *_, y, _ in lines] == pytest.approx(expected_baselines(3, 12, 45, 198), abs=0.5)


@pytest.mark.parametrize(("sheet", "label"), [(s, n) for s in AVERY for n in (1, 2, 4, "last")])
def test_label_sits_at_the_avery_position(tmp_path: Path, sheet: str, label: int | str) -> None:
    """An address on label N starts 6 pt inside the label's left edge, centred in its height, as Avery places it."""
    avery = AVERY[sheet]
    number = avery.columns * avery.rows if label == "last" else int(label)
    pdf = tmp_path / "labels.pdf"
    write_labels([ZOE], pdf, sheet, start_at=number)
    row, column = divmod(number - 1, avery.columns)
    page_width, page_height = avery.page
    left = avery.left + column * avery.pitch_x
    top = page_height - avery.top - row * avery.pitch_y
    bottom = top - avery.height
    page = pypdf.PdfReader(pdf).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (page_width, page_height), abs=0.01
    )
    assert LABEL_SHEETS[sheet].label_origin(number - 1) == pytest.approx((left, bottom), abs=0.01)
    lines = texts(page)
    assert [text for text, *_ in lines] == ["Zoë Ødegård", "Storgata 5", "0155 Oslo", "Norway"]
    for (_, x, y, size), baseline in zip(lines, expected_baselines(4, 10, bottom, top), strict=True):
        assert size == 10
        assert x == pytest.approx(left + 6, abs=0.5)
        assert y == pytest.approx(baseline, abs=0.5)


def test_label_name_is_bold_and_lines_regular(tmp_path: Path) -> None:
    """On a label the name is set in DejaVu Sans Bold and the address lines in DejaVu Sans."""
    pdf = tmp_path / "labels.pdf"
    write_labels([ZOE], pdf, "5160")
    fonts: list[str] = []
    pypdf.PdfReader(pdf).pages[0].extract_text(
        visitor_text=lambda text, cm, tm, font, size: fonts.append(str(font["/BaseFont"])) if text.strip() else None
    )
    assert [name.split("+")[-1] for name in fonts] == ["DejaVuSans-Bold"] + ["DejaVuSans"] * 3


def test_start_at_finishes_a_used_sheet_then_continues_on_new_sheets(tmp_path: Path) -> None:
    """With start_at=5 the first address goes on label 5; the 27th is label 31, the first label of a second sheet."""
    pdf = tmp_path / "labels.pdf"
    pieces = [MailPiece(f"Customer {n}", ("1 Main St",)) for n in range(1, 28)]
    write_labels(pieces, pdf, "5160", start_at=5)
    first, second = pypdf.PdfReader(pdf).pages
    on_first, on_second = texts(first), texts(second)
    label_5, label_1 = (792 - 36 - 72, 792 - 36 - 72 - 72), (792 - 36, 792 - 36 - 72)  # (top, bottom)
    first_baseline = expected_baselines(2, 10, label_5[1], label_5[0])[0]
    assert on_first[0][0] == "Customer 1"
    assert on_first[0][1:] == pytest.approx((13.5 + 198 + 6, first_baseline, 10), abs=0.5)
    assert [text for text, *_ in on_first][-2:] == ["Customer 26", "1 Main St"]
    assert [text for text, *_ in on_second] == ["Customer 27", "1 Main St"]
    first_baseline = expected_baselines(2, 10, label_1[1], label_1[0])[0]
    assert on_second[0][1:3] == pytest.approx((13.5 + 6, first_baseline), abs=0.5)


def test_a_thirty_first_piece_goes_on_a_second_sheet(tmp_path: Path) -> None:
    """Thirty-one pieces from label 1 fill one 5160 sheet and put the last on label 1 of the next."""
    pdf = tmp_path / "labels.pdf"
    write_labels([MailPiece(f"Customer {n}", ()) for n in range(1, 32)], pdf, "5160")
    first, second = pypdf.PdfReader(pdf).pages
    assert [text for text, *_ in texts(first)] == [f"Customer {n}" for n in range(1, 31)]
    assert [(text, round(x, 1)) for text, x, *_ in texts(second)] == [("Customer 31", 19.5)]


@pytest.mark.parametrize("start_at", [0, 31, -1])
def test_start_at_outside_the_sheet_is_refused(tmp_path: Path, start_at: int) -> None:
    """A start label that is not on a 5160 sheet (1 to 30) is refused with the valid range."""
    with pytest.raises(ValueError, match=rf"start_at must be a label of the sheet, 1 to 30 on 5160; got {start_at}"):
        write_labels([ZOE], tmp_path / "labels.pdf", "5160", start_at=start_at)
    assert not (tmp_path / "labels.pdf").exists()


@pytest.mark.parametrize("output", ["envelope", "label"])
def test_names_in_every_script_come_back_exactly(tmp_path: Path, output: str) -> None:
    """Polish, Norwegian, Vietnamese and Cyrillic names are embedded and extract back letter for letter."""
    pdf = tmp_path / "out.pdf"
    if output == "envelope":
        write_envelopes(WORLD, SHOP, pdf, "C6")
    else:
        write_labels(WORLD, pdf, "L7160")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "\x00" not in text
    for piece in WORLD:
        assert "\n".join([piece.name, *(line for line in piece.lines if line)]) in text


def test_markup_in_a_name_is_printed_literally(tmp_path: Path) -> None:
    """A name holding <b> is printed with the angle brackets, on envelopes and labels alike."""
    piece = MailPiece("Bob <b>Builder</b> & Sons", ("1 Main St",))
    write_envelopes([piece], SHOP, tmp_path / "envelopes.pdf", "A7")
    write_labels([piece], tmp_path / "labels.pdf", "5160")
    for name in ("envelopes.pdf", "labels.pdf"):
        lines = [text for text, *_ in texts(pypdf.PdfReader(tmp_path / name).pages[0])]
        assert "Bob <b>Builder</b> & Sons" in lines


@pytest.mark.parametrize("output", ["envelope", "label"])
def test_pdf_asks_the_viewer_to_print_at_actual_size(tmp_path: Path, output: str) -> None:
    """The catalog's ViewerPreferences set PrintScaling to /None, so nothing is scaled to fit the paper."""
    pdf = tmp_path / "out.pdf"
    if output == "envelope":
        write_envelopes([ZOE], SHOP, pdf, "#10")
    else:
        write_labels([ZOE], pdf, "L7160")
    preferences = pypdf.PdfReader(pdf).root_object["/ViewerPreferences"].get_object()
    assert isinstance(preferences, pypdf.generic.DictionaryObject)
    assert preferences["/PrintScaling"] == pypdf.generic.NameObject("/None")


def test_output_is_byte_stable(tmp_path: Path) -> None:
    """Writing the same envelopes and labels twice gives identical files."""
    for name in ("a", "b"):
        write_envelopes(WORLD, SHOP, tmp_path / f"{name}-envelopes.pdf", "DL")
        write_labels(WORLD, tmp_path / f"{name}-labels.pdf", "5160", start_at=3)
    assert (tmp_path / "a-envelopes.pdf").read_bytes() == (tmp_path / "b-envelopes.pdf").read_bytes()
    assert (tmp_path / "a-labels.pdf").read_bytes() == (tmp_path / "b-labels.pdf").read_bytes()


def test_address_too_long_for_an_envelope_names_the_customer(tmp_path: Path) -> None:
    """An address that does not fit even at 7 pt is refused, naming the customer, and no file is written."""
    message = r"^Bartholomew Long: the address on the A2 envelope does not fit even at 7 pt; shorten the longest line"
    with pytest.raises(ValueError, match=message):
        write_envelopes([ZOE, TOO_LONG], SHOP, tmp_path / "envelopes.pdf", "A2")
    assert not (tmp_path / "envelopes.pdf").exists()


def test_address_too_long_for_a_label_names_the_customer(tmp_path: Path) -> None:
    """A label address that does not fit even at 6 pt is refused, naming the customer."""
    tall = MailPiece("Tilly Tall", tuple(f"Line {n}" for n in range(9)))
    with pytest.raises(ValueError, match=r"^Tilly Tall: the address on the 5160 label does not fit even at 6 pt"):
        write_labels([ZOE, tall], tmp_path / "labels.pdf", "5160")
    with pytest.raises(ValueError, match=r"^Bartholomew Long: the address on the L7160 label does not fit"):
        write_labels([TOO_LONG], tmp_path / "labels.pdf", "L7160")


def test_return_address_too_long_names_the_sender(tmp_path: Path) -> None:
    """A return address that does not fit its corner is refused, naming whose it is."""
    with pytest.raises(ValueError, match=r"^Bartholomew Long: the return address does not fit"):
        write_envelopes([ZOE], TOO_LONG, tmp_path / "envelopes.pdf", "A2")


def test_characters_no_font_has_are_refused(tmp_path: Path) -> None:
    """A name with a character none of the shipped fonts can draw is refused instead of printed as a box."""
    with pytest.raises(ValueError, match=r"^Ankh 𓋹 Wang: the address on the 5160 label holds characters .*: 𓋹$"):
        write_labels([MailPiece("Ankh 𓋹 Wang", ())], tmp_path / "labels.pdf", "5160")


def test_names_in_any_script_print_on_labels(tmp_path: Path) -> None:
    """Chinese, Korean and Arabic names print on labels in their own fonts, with no missing glyph."""
    path = tmp_path / "labels.pdf"
    write_labels([MailPiece("王小明", ("北京市",)), MailPiece("김민준", ()), MailPiece("محمد حداد", ())], path, "5160")
    text = pypdf.PdfReader(path).pages[0].extract_text()
    assert "\x00" not in text
    assert "王小明" in text and "김민준" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda path: write_envelopes([ZOE], SHOP, path, "C5"),
            r"unknown envelope 'C5'; choose one of A2, A7, C6, DL, #10",
        ),
        (lambda path: write_labels([ZOE], path, "5161"), r"unknown label sheet '5161'; choose one of 5160, L7160"),
        (lambda path: write_envelopes([], SHOP, path, "A2"), r"no addresses to print on envelopes"),
        (lambda path: write_labels([], path, "5160"), r"no addresses to print on labels"),
    ],
)
def test_unknown_sizes_and_empty_batches_are_refused(tmp_path: Path, call: Any, message: str) -> None:
    """An unknown envelope or sheet name, or nothing to print, is refused with what to do instead."""
    with pytest.raises(ValueError, match=f"^{message}$"):
        call(tmp_path / "out.pdf")


@pytest.mark.parametrize(
    ("reference", "write"),
    [
        ("envelope_a2.png", lambda path: write_envelopes([ZOE], SHOP, path, "A2")),
        ("labels_5160.png", lambda path: write_labels(WORLD, path, "5160", start_at=4)),
    ],
)
def test_page_renders_like_the_reference(tmp_path: Path, reference: str, write: Any) -> None:
    """The first page rendered at 72 dpi matches its reference image where either has ink (mean difference under 2)."""
    pdf = tmp_path / "out.pdf"
    write(pdf)
    assert ink_difference(pdf, 0, reference) < 2

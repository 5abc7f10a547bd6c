"""Print batches: the quarter-fold PDF and its guide, no second copy, reprints, and mark-mailed restarting the clock."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from click.testing import Result

from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store.customers import add_event, insert_customer
from tests.images import ink_difference
from tests.support.cli import run
from tests.support.office import Office

WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
# Birthdays on Saturday Dec 12, 2026: mailed 7 days ahead (US First Class takes 4 to 6 business days), Friday Dec 4.
BIRTHDAY = dt.date(2026, 12, 12)
MAIL_BY = dt.date(2026, 12, 4)
ZOE = {
    "id": "P1",
    "first_name": "Zoë",
    "last_name": "Ødegård",
    "street": "Karl Johans gate 1",
    "city": "Oslo",
    "country": "NO",
    "channel": "post",
    "birthday": "--12-12",
    "owner": "Maria",
}
LUKASZ = {
    "id": "P2",
    "first_name": "Łukasz",
    "last_name": "Żółć",
    "street": "ul. Długa 5",
    "city": "Gdańsk",
    "country": "PL",
    "channel": "post",
    "birthday": "--12-12",
    "owner": "Tom",
}
OLGA = {
    "id": "P3",
    "first_name": "Ольга",
    "last_name": "Ковальчук",
    "street": "вул. Хрещатик 1",
    "city": "Київ",
    "country": "UA",
    "channel": "post",
    "birthday": "--12-12",
    "owner": "Aiko",
}
TARO = {
    "id": "P4",
    "first_name": "太郎",
    "last_name": "山田",
    "street": "千代田区丸の内1-1",
    "city": "東京都",
    "country": "JP",
    "channel": "post",
    "birthday": "--12-12",
}


@pytest.fixture
def shop(workspace: Office) -> Office:
    """Return a workspace whose post customers all have a birthday on Dec 12 and a purchase in November."""
    with workspace.open_store() as store, store.begin() as conn:
        for fields in (ZOE, LUKASZ, OLGA):
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            event = ContactEvent(fields["id"], dt.datetime(2026, 11, 10, 10), "purchase", "Winter tires", "import")
            add_event(conn, row, event, WRITTEN_AT)
    return workspace


def print_window(ws: Office, out: Path, *extra: str) -> Result:
    """Print the batch of the week of Dec 4."""
    return run(ws, "print", "--from", "2026-11-30", "--to", "2026-12-06", "--out", str(out), *extra)


def test_a_batch_holds_the_guide_then_one_sheet_per_card(shop: Office, tmp_path: Path) -> None:
    """The PDF has a guide page and a Letter sheet per card, every name readable, and the cards move to printed."""
    pdf = tmp_path / "cards.pdf"
    result = print_window(shop, pdf)
    assert result.exit_code == 0, result.output
    batch = result.stdout.split("batch ", 1)[1].split(",", 1)[0]
    assert result.stdout.strip().endswith(f"Once posted: cardsender mark-mailed {batch}")
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 4
    assert {(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages} == {(612.0, 792.0)}
    guide = reader.pages[0].extract_text()
    for name in ("Zoë Ødegård", "Łukasz Żółć", "Ольга Ковальчук"):
        assert name in guide
    assert "Ask how the Winter tires is working out." in " ".join(guide.split())
    text = "".join(page.extract_text() for page in reader.pages)
    assert "\x00" not in text  # no missing glyphs
    rows = json.loads(run(shop, "outbox", "--json").stdout)
    assert [(r["customer_id"], r["state"], r["batch"], r["due_date"]) for r in rows] == [
        ("P1", "printed", batch, MAIL_BY.isoformat()),
        ("P2", "printed", batch, MAIL_BY.isoformat()),
        ("P3", "printed", batch, MAIL_BY.isoformat()),
    ]


def test_the_inside_panels_are_upside_down_on_the_sheet(shop: Office, tmp_path: Path) -> None:
    """Quarter fold: the front reads upright at the lower right; the greeting reads only when the sheet is turned."""
    pdf = tmp_path / "cards.pdf"
    assert print_window(shop, pdf).exit_code == 0
    sheet = pypdf.PdfReader(pdf).pages[1]
    upright = sheet.extract_text(orientations=(0,))
    turned = sheet.extract_text(orientations=(180,))
    assert "Dear Zoë," in turned  # the greeting, printed upside down
    assert "Your note and signature" in turned
    assert "Dear" not in upright and "Your note" not in upright
    assert "Harbour Street Bikes" in upright  # the back
    image = pypdfium2.PdfDocument(pdf)[1].render(scale=0.25).to_pil().convert("L")
    width, height = image.size
    front = image.crop((width // 2, 0, width, height // 2))  # screen coordinates: the top half is the inside
    lower_right = image.crop((width // 2, height // 2, width, height))
    assert lower_right.getextrema()[0] < 100  # the front line is drawn at the lower right
    assert front.getextrema()[0] < 150  # and the greeting (upside down) above it


def test_printing_again_makes_no_second_copy_and_reprint_does(shop: Office, tmp_path: Path) -> None:
    """The same window printed twice prints nothing new; --reprint BATCH writes the same cards again."""
    first = print_window(shop, tmp_path / "a.pdf")
    batch = first.stdout.split("batch ", 1)[1].split(",", 1)[0]
    again = print_window(shop, tmp_path / "b.pdf")
    assert again.stdout == (
        "Nothing to print for 2026-11-30 to 2026-12-06; 3 already printed earlier (use --reprint BATCH).\n"
    )
    assert not (tmp_path / "b.pdf").exists()
    copy = run(shop, "print", "--reprint", batch, "--out", str(tmp_path / "c.pdf"))
    assert copy.stdout == f"Wrote {tmp_path / 'c.pdf'} again: batch {batch}, 3 cards.\n"
    assert len(pypdf.PdfReader(tmp_path / "c.pdf").pages) == len(pypdf.PdfReader(tmp_path / "a.pdf").pages)


def test_mark_mailed_restarts_the_clock_on_the_occasion_date(shop: Office, tmp_path: Path) -> None:
    """Mailed cards become contacts on their occasion date; a spoiled card goes back to print again."""
    result = print_window(shop, tmp_path / "a.pdf")
    batch = result.stdout.split("batch ", 1)[1].split(",", 1)[0]
    rows = json.loads(run(shop, "outbox", "--json").stdout)
    spoiled = next(r["row"] for r in rows if r["customer_id"] == "P3")
    assert "not yet marked mailed" in run(shop, "status").stdout
    mailed = run(shop, "mark-mailed", batch, "--on", "2026-12-04", "--except", str(spoiled))
    assert mailed.stdout == f"Batch {batch}: 2 cards mailed; 1 card back to print again.\n"
    shown = json.loads(run(shop, "customers", "show", "P1", "--json").stdout)
    assert shown["history"][-1]["kind"] == "card"
    assert shown["history"][-1]["occurred_at"] == f"{BIRTHDAY.isoformat()}T00:00:00"
    calls = json.loads(run(shop, "calls", "--on", "2027-02-01", "--json").stdout)
    assert "P1" not in [c["customer_id"] for c in calls]  # 51 days after the card, not 83 after the purchase
    states = {r["customer_id"]: r["state"] for r in json.loads(run(shop, "outbox", "--json").stdout)}
    assert states == {"P1": "mailed", "P2": "mailed", "P3": "pending"}


def test_every_script_prints_and_a_glyph_no_font_has_is_held(shop: Office, tmp_path: Path) -> None:
    """Japanese, Korean, Hebrew and Arabic names print in their fonts; a character no font has holds that card."""
    others = [
        TARO,
        {**TARO, "id": "P5", "first_name": "민준", "last_name": "김"},
        {**TARO, "id": "P6", "first_name": "שרה", "last_name": "כהן"},
        {**TARO, "id": "P7", "first_name": "محمد", "last_name": "حداد"},
        {**TARO, "id": "P8", "first_name": "Ankh 𓋹", "last_name": "Scribe"},
    ]
    with shop.open_store() as store, store.begin() as conn:
        for fields in others:
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            event = ContactEvent(fields["id"], dt.datetime(2026, 11, 10, 10), "purchase", "Winter tires", "import")
            add_event(conn, row, event, WRITTEN_AT)
    pdf = tmp_path / "cards.pdf"
    result = print_window(shop, pdf)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Held P8 Birthday: the font cannot print 𓋹 in Ankh 𓋹 Scribe's card (P8); it would come out as boxes\n"
    )
    assert "7 cards to mail" in result.stdout
    fonts: set[str] = set()

    def visit(text: str, cm: object, tm: object, font: dict[str, object] | None, size: float) -> None:
        if text.strip() and font is not None:
            fonts.add(str(font.get("/BaseFont", "")).split("+")[-1])

    text = ""
    for page in pypdf.PdfReader(pdf).pages:
        text += page.extract_text(visitor_text=visit, orientations=(0, 180))
    assert "\x00" not in text
    assert {"DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback", "NanumGothic"} <= fonts
    assert "太郎" in text and "민준" in text


@pytest.mark.parametrize(
    ("card_format", "size", "pages_per_card"),
    [
        ("quarter-letter", (612.0, 792.0), 1),
        ("quarter-a4", (595.28, 841.89), 1),
        ("half-duplex", (720.0, 504.0), 2),
        ("postcard", (432.0, 288.0), 2),
    ],
)
def test_each_format_has_its_page_size_and_count(
    shop: Office, tmp_path: Path, card_format: str, size: tuple[float, float], pages_per_card: int
) -> None:
    """Every format prints the guide on Letter, then its own sheets: one or two pages per card."""
    pdf = tmp_path / f"{card_format}.pdf"
    result = print_window(shop, pdf, "--format", card_format)
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1 + 3 * pages_per_card
    sheets = {(round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2)) for p in reader.pages[1:]}
    assert sheets == {size}
    if card_format == "half-duplex":
        assert reader.viewer_preferences is not None
        assert reader.viewer_preferences.get("/Duplex") == "/DuplexFlipShortEdge"


def test_a_postcard_keeps_the_address_in_its_zone_and_the_barcode_strip_clear(shop: Office, tmp_path: Path) -> None:
    """On the address side, the address lies inside the zone at the lower right and nothing prints below 5/8 in."""
    pdf = tmp_path / "postcards.pdf"
    assert print_window(shop, pdf, "--format", "postcard").exit_code == 0
    placed: list[tuple[str, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            placed.append((text.strip(), tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    pypdf.PdfReader(pdf).pages[2].extract_text(visitor_text=visit)
    zone_left, zone_right = 432 - 0.275 * 72 - 3.3 * 72, 432 - 0.275 * 72
    name = next((x, y) for text, x, y in placed if "Zoë Ødegård" in text)
    assert zone_left <= name[0] <= zone_right
    assert all(y >= 5 / 8 * 72 - 0.5 for _, _, y in placed)
    assert any("Oslo" in text for text, _, _ in placed)


def test_text_too_long_for_its_panel_holds_the_card_naming_the_customer(shop: Office, tmp_path: Path) -> None:
    """A note too long for the panel even at the smallest size holds that card; the others print."""
    run(shop, "note", "P2", "We loved seeing you at the shop. " * 60)
    result = print_window(shop, tmp_path / "cards.pdf")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Held P2 Birthday: the inside of Łukasz Żółć's card does not fit its panel even at 8 pt; "
        "shorten the note or the template\n"
    )
    assert "2 cards to mail" in result.stdout


@pytest.mark.parametrize(
    ("flag", "suffix", "size"),
    [
        (("--envelopes",), "envelopes", (414.0, 315.0)),
        (("--labels", "5160", "--start-at", "4"), "labels", (612.0, 792.0)),
    ],
)
def test_envelopes_or_labels_come_beside_the_batch_in_the_same_order(
    shop: Office, tmp_path: Path, flag: tuple[str, ...], suffix: str, size: tuple[float, float]
) -> None:
    """--envelopes writes one A2 envelope per card; --labels one label each from the first free one; same order."""
    pdf = tmp_path / "cards.pdf"
    result = print_window(shop, pdf, *flag)
    assert result.exit_code == 0, result.output
    extra = tmp_path / f"cards-{suffix}.pdf"
    assert result.stdout.splitlines()[-1] == f"Wrote {extra}: the addresses in the same order; print it at actual size."
    reader = pypdf.PdfReader(extra)
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == size
    text = " ".join(page.extract_text() for page in reader.pages)
    names = ["Zoë Ødegård", "Łukasz Żółć", "Ольга Ковальчук"]
    assert sorted(text.index(name) for name in names) == [text.index(name) for name in names]
    assert len(reader.pages) == (3 if suffix == "envelopes" else 1)


@pytest.mark.parametrize("card_format", ["quarter-letter", "quarter-a4", "half-duplex", "postcard"])
def test_a_card_sheet_renders_like_its_reference(shop: Office, tmp_path: Path, card_format: str) -> None:
    """The first card sheet of each format, rendered at 72 dpi, matches its reference image where either has ink."""
    pdf = tmp_path / "cards.pdf"
    assert print_window(shop, pdf, "--format", card_format).exit_code == 0
    assert ink_difference(pdf, 1, f"card_{card_format}.png") < 2


def test_the_configured_envelope_is_used(shop: Office, tmp_path: Path) -> None:
    """[print] envelope = "#10" prints #10 envelopes (9.5 x 4.125 in) instead of the card format's own."""
    with shop.config_path.open("a", encoding="utf-8") as fh:
        fh.write('\n[print]\nenvelope = "#10"\n')
    assert print_window(shop, tmp_path / "cards.pdf", "--envelopes").exit_code == 0
    page = pypdf.PdfReader(tmp_path / "cards-envelopes.pdf").pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (684.0, 297.0)


@pytest.mark.parametrize("width", [60.0, 150.0, 230.0])
def test_lines_break_where_reportlab_breaks_them(width: float) -> None:
    """The print layer's line breaking gives the same lines as reportlab's simpleSplit."""
    from reportlab.lib.utils import simpleSplit

    from cardsender.printing.layout import FONT, _wrap

    texts = [
        "Happy birthday! Wishing you good company, something delicious and a little time just for you.",
        "Zoë Ødegård and Łukasz Żółć, thank you for 12 years of rides together.",
        "Supercalifragilistic word",
        "",
        "  spaced   out  ",
    ]
    for text in texts:
        assert _wrap(text, FONT, 11, width) == (simpleSplit(text, FONT, 11, width) or [""]), text


def test_a_posted_card_past_its_mail_by_date_is_marked_late_everywhere(shop: Office, tmp_path: Path) -> None:
    """On Monday Dec 7 the birthdays of Dec 12 (mail by Friday Dec 4) go on that mail day, arriving Dec 14:
    plan, its JSON, the digest, print's summary and the writer's guide all say they are late."""
    planned = run(shop, "plan", "--on", "2026-12-07")
    assert planned.exit_code == 0, planned.output
    birthdays = [line for line in planned.stdout.splitlines() if "Birthday" in line]
    assert len(birthdays) == 3
    assert all("2026-12-14" in line and "late (its mail-by date has passed)" in line for line in birthdays)
    assert "3 late" in planned.stdout.splitlines()[-1]
    cards = json.loads(run(shop, "plan", "--on", "2026-12-07", "--json").stdout)
    assert [card.get("late") for card in cards if card["occasion"] == "birthday"] == [True] * 3
    digest = run(shop, "digest", "--on", "2026-12-07").stdout
    assert digest.count("Birthday, arrives 2026-12-14, LATE: its mail-by date has passed, so mail it today") == 3
    out = tmp_path / "late.pdf"
    printed = run(shop, "print", "--from", "2026-12-07", "--to", "2026-12-11", "--out", str(out))
    assert printed.exit_code == 0, printed.output
    assert "3 late" in printed.stdout
    guide = " ".join(pypdf.PdfReader(out).pages[0].extract_text().split())
    assert guide.count("Birthday, late") == 3

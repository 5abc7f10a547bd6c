"""The preview of a printed card is print's own layout: the same pages, the same fit rule, every page an image."""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import replace
from pathlib import Path

import pypdf
import pypdfium2
import pytest
from click.testing import Result
from PIL import Image, ImageChops

from cardsender.cards import context as cards
from cardsender.domain.records import ContactEvent
from cardsender.domain.vocabulary import CardFormat
from cardsender.importers.fields import parse_customer_fields
from cardsender.printing.layout import PAGE_GAP, preview_pdf, preview_pngs, template_overflow
from cardsender.store.customers import add_event, insert_customer
from tests.support.cli import run
from tests.support.office import Office

pytestmark = pytest.mark.sqlite_only  # the layout reads no database beyond the card's words

WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
TODAY = dt.date(2026, 12, 1)  # print's window below holds the Dec 12 birthdays, mailed by Friday Dec 4
POSTED = {"channel": "post", "birthday": "--12-12", "country": "JP", "city": "東京都"}
MESSY = [
    {
        **POSTED,
        "id": "M1",
        "first_name": "Maximiliana Alexandrovna",
        "last_name": "Featherstonehaugh-Cholmondeley-Wolfeschlegelsteinhausen",
        "street": "Apartment 12B, The Old Cornmill, 1234 Riverside Boulevard North",
        "postal_code": "K1A 0B1",
        "city": "Saint-Jean-sur-Richelieu",
        "country": "CA",
        "notes": "pref. txt not call; 2x svc/yr; ask re: wheel trueing appt <b>&amp;",
        "owner": "Maria",
    },
    {**POSTED, "id": "M2", "first_name": "太郎", "last_name": "山田", "street": "千代田区丸の内1-1"},
    {**POSTED, "id": "M3", "first_name": "محمد", "last_name": "حداد", "street": "شارع الملك فهد ١٢", "city": "الرياض"},
]
LONG_NOTE = (
    "It was so lovely to see you and the kids at the spring ride-out; thank you for bringing the lemon cake, "
    "everyone is still talking about it. Tom says the new saddle should be in by the end of the month, and we will "
    "call you as soon as it arrives so you can try it before the big tour. Happy birthday from all of us!"
)
PAGES: dict[CardFormat, tuple[tuple[float, float], int]] = {
    CardFormat.QUARTER_LETTER: ((612, 792), 1),
    CardFormat.QUARTER_A4: ((595.28, 841.89), 1),
    CardFormat.HALF_DUPLEX: ((720, 504), 2),
    CardFormat.POSTCARD: ((432, 288), 2),
}
# Set CARDSENDER_RENDERS to a folder to keep the pages these tests render, to look at them.
RENDERS = os.environ.get("CARDSENDER_RENDERS")


@pytest.fixture(autouse=True)
def _on_the_first_of_december(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make print's today the preview's: Dec 1, 2026."""
    monkeypatch.setenv("CARDSENDER_TEST_NOW", "2026-12-01T15:00:00+00:00")


def add_customers(ws: Office, customers: list[dict[str, str]]) -> None:
    """Add posted customers with a purchase in November, so their cards have something personal."""
    with ws.open_store() as store, store.begin() as conn:
        for fields in customers:
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            event = ContactEvent(fields["id"], dt.datetime(2026, 11, 10, 10), "purchase", "Road bike", "import")
            add_event(conn, row, event, WRITTEN_AT)


def set_office_format(ws: Office, card_format: str) -> None:
    """Make a card format the office's own."""
    with ws.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[print]\ncard_format = "{card_format}"\n')


def print_week(ws: Office, out: Path) -> Result:
    """Print the batch of the week of Dec 4 in the office's format."""
    return run(ws, "print", "--from", "2026-11-30", "--to", "2026-12-06", "--out", str(out))


def previews(ws: Office, ids: list[str]) -> dict[str, bytes]:
    """Return each customer's preview PDF of their birthday card in the office's format, before it prints."""
    config = ws.config()
    made = {}
    with ws.open_store() as store:
        for customer_id in ids:
            shown = cards.preview_card(store, config, customer_id, "birthday", TODAY, "post")
            made[customer_id] = preview_pdf(config, shown.card, shown.customer)
    return made


def images(pdf: bytes | Path) -> list[Image.Image]:
    """Render every page at 72 dpi."""
    document = pypdfium2.PdfDocument(pdf)
    return [page.render(scale=1).to_pil().convert("RGB") for page in document]


def texts(reader: pypdf.PdfReader, pages: range) -> list[str]:
    """Return the text of pages, upright and upside-down alike."""
    return [reader.pages[n].extract_text(orientations=(0, 180)) for n in pages]


def keep(name: str, image: Image.Image) -> None:
    """Save a rendered page for a person to look at, when asked to."""
    if RENDERS:
        image.save(Path(RENDERS) / f"{name}.png")


@pytest.mark.parametrize("card_format", list(CardFormat))
def test_the_preview_is_page_for_page_what_print_makes(workspace: Office, tmp_path: Path, card_format: str) -> None:
    """For a long name, Japanese and Arabic names and a long note, the preview has print's pages, text and ink."""
    set_office_format(workspace, card_format)
    add_customers(workspace, MESSY)
    assert run(workspace, "note", "M1", LONG_NOTE).exit_code == 0
    shown = previews(workspace, ["M1", "M2", "M3"])
    out = tmp_path / "cards.pdf"
    result = print_week(workspace, out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    reader = pypdf.PdfReader(out)
    per_card = PAGES[CardFormat(card_format)][1]
    printed_pages = images(out)
    # Print orders a batch by mail-by date, then name: Maximiliana, then the Arabic name, then the Japanese.
    for position, customer_id in enumerate(["M1", "M3", "M2"]):
        first = 1 + position * per_card  # the guide is page 0
        preview = pypdf.PdfReader(io.BytesIO(shown[customer_id]))
        assert len(preview.pages) == per_card
        assert texts(preview, range(per_card)) == texts(reader, range(first, first + per_card))
        for page, image in enumerate(images(shown[customer_id])):
            keep(f"{card_format}-{customer_id}-preview-{page + 1}", image)
            keep(f"{card_format}-{customer_id}-print-{page + 1}", printed_pages[first + page])
            assert ImageChops.difference(image, printed_pages[first + page]).getbbox() is None
    assert "ride-out" in " ".join(texts(reader, range(1, 1 + per_card))[-1].split())


@pytest.mark.parametrize("card_format", list(CardFormat))
def test_the_png_preview_has_every_page_at_150_dpi(workspace: Office, card_format: str) -> None:
    """preview_pngs gives one image per printed page, each the sheet's size at 150 dpi, with ink on it."""
    add_customers(workspace, MESSY[:1])
    config = workspace.config()
    with workspace.open_store() as store:
        shown = cards.preview_card(store, config, "M1", "birthday", TODAY, "post")
    pngs = preview_pngs(config, shown.card, shown.customer, card_format)
    (width, height), count = PAGES[CardFormat(card_format)]
    assert len(pngs) == count
    for png in pngs:
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert abs(image.width - width * 150 / 72) <= 1 and abs(image.height - height * 150 / 72) <= 1
            darkest, _ = image.convert("L").getextrema()
            assert isinstance(darkest, int) and darkest < 100


@pytest.mark.parametrize("card_format", list(CardFormat))
def test_the_fit_check_flags_exactly_the_cards_print_refuses(
    workspace: Office, tmp_path: Path, card_format: str
) -> None:
    """At the longest note that fits, the check passes and the card prints; one word more, both refuse it."""
    set_office_format(workspace, card_format)
    config = workspace.config()
    namesakes = [
        {**POSTED, "id": f"A{n}", "first_name": "Ana", "last_name": "Lima", "street": "Rua 1"} for n in range(9)
    ]
    add_customers(workspace, namesakes)
    with workspace.open_store() as store:
        wording = {
            f"A{n}": cards.preview_card(store, config, f"A{n}", "birthday", TODAY, "post").card for n in range(9)
        }
    # Three namesakes whose cards have the same wording: one probes the note's place, two get the notes.
    probe, fitting, over = [i for i in wording if wording[i].variant == wording["A0"].variant][:3]
    assert run(workspace, "note", probe, "NOTE").exit_code == 0
    with workspace.open_store() as store:
        card = cards.preview_card(store, config, probe, "birthday", TODAY, "post").card
    assert "NOTE" in card.card_inside

    def check(words: int) -> list[str]:
        inside = card.card_inside.replace("NOTE", " ".join(["ride"] * words))
        return template_overflow(replace(card, card_inside=inside), config.print.card_format, config.print.paper)

    fits = 1
    while not check(fits * 2):
        fits *= 2
    step = fits
    while step > 1:  # the longest note, in words, that the check passes
        step //= 2
        if not check(fits + step):
            fits += step
    assert check(fits) == []
    assert check(fits + 1)[0].startswith("the inside text needs ")
    assert run(workspace, "note", fitting, " ".join(["ride"] * fits)).exit_code == 0
    assert run(workspace, "note", over, " ".join(["ride"] * (fits + 1))).exit_code == 0
    out = tmp_path / "cards.pdf"
    result = print_week(workspace, out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Held {over} Birthday: the inside of Ana Lima's card does not fit its panel even at 8 pt; "
        "shorten the note or the template\n"
    )
    assert "8 cards to mail" in result.stdout
    reader = pypdf.PdfReader(out)
    printed = " ".join(" ".join(texts(reader, range(1, len(reader.pages)))).split())
    assert " ".join(["ride"] * fits) in printed


@pytest.mark.parametrize("card_format", list(CardFormat))
def test_preview_on_the_command_line_shows_every_printed_page(
    workspace: Office, tmp_path: Path, card_format: str
) -> None:
    """preview --format pdf writes print's pages; --format png one image of them all, top to bottom."""
    set_office_format(workspace, card_format)
    add_customers(workspace, MESSY[:1])
    pdf, png = tmp_path / "card.pdf", tmp_path / "card.png"
    for fmt, out in (("pdf", pdf), ("png", png)):
        result = run(workspace, "preview", "M1", "birthday", "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert result.stdout == f"Wrote {out}\n"
    (width, height), count = PAGES[CardFormat(card_format)]
    assert len(pypdf.PdfReader(pdf).pages) == count
    with Image.open(png) as image:
        assert abs(image.width - width * 150 / 72) <= 1
        assert abs(image.height - (count * height * 150 / 72 + (count - 1) * PAGE_GAP)) <= count

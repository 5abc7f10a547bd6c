"""The card commands: preview in every format, personal notes, and the bundled templates copied and checked."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from email.message import EmailMessage
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from sqlalchemy import select

from cardsender.cards.render import christmas_words
from cardsender.domain.records import CARD_OCCASIONS, Card, ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.planning.facts import add_card
from cardsender.store.customers import add_event, find_internal_id, insert_customer
from cardsender.store.schema import outbox
from cardsender.system import paths
from tests.support.cli import run
from tests.support.office import Office

ADDED = dt.date(2024, 1, 5)
WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
NOW = dt.datetime(2026, 3, 20, 12, 0)
ANA = {
    "id": "C1",
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "birthday": "1986-03-14",
    "country": "CA",
    "channel": "email",
    "owner": "Maria",
    "street": "1 Main St",
    "city": "Toronto",
}
ELODIE = {
    "id": "C2",
    "first_name": "Élodie",
    "last_name": "Tremblay",
    "email": "elodie@example.ca",
    "country": "CA",
    "language": "fr-CA",
    "channel": "email",
}
BOB = {"id": "C3", "first_name": "<b>Bob</b>", "last_name": "{{ 7*7 }}", "email": "bob@example.com", "channel": "email"}
NEW = {"id": "C4", "first_name": "Kim", "email": "kim@example.com", "channel": "email"}
HISTORY = {
    "C1": [(dt.date(2026, 2, 20), "purchase", "Road bike"), (dt.date(2026, 3, 1), "visit", "Saddle fitting")],
    "C2": [(dt.date(2025, 9, 2), "purchase", "Vélo de ville")],
    "C3": [(dt.date(2026, 1, 10), "purchase", "Helmet")],
}


@pytest.fixture
def shop(workspace: Office) -> Office:
    """Return a workspace with Ana (a bike and a fitting), Élodie (French), Bob (markup) and Kim (new in February)."""
    with workspace.open_store() as store, store.begin() as conn:
        for fields in (ANA, ELODIE, BOB, NEW):
            added = dt.date(2026, 2, 1) if fields is NEW else ADDED
            row = insert_customer(conn, parse_customer_fields(fields), added, WRITTEN_AT)
            for day, kind, summary in HISTORY.get(fields["id"], []):
                event = ContactEvent(fields["id"], dt.datetime.combine(day, dt.time(10)), kind, summary, "import")
                add_event(conn, row, event, WRITTEN_AT)
    return workspace


def test_preview_text_shows_the_email_and_the_printed_card(shop: Office) -> None:
    """preview prints who it goes to, the subject, the text and the printed card, and says it is ready."""
    result = run(shop, "preview", "C1", "birthday", "--on", "2026-03-14")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("To: Ana Silva <ana@example.com>\nSubject: ")
    assert "Ana" in result.stdout
    assert "--- printed card ---" in result.stdout
    assert result.stderr.startswith("Ready to send (wording v")
    assert result.stderr.rstrip().endswith(", en, for 2026-03-14).")


def test_preview_of_a_birthday_shows_the_next_one(shop: Office) -> None:
    """Without a date on the day, a birthday preview is for the customer's next birthday."""
    result = run(shop, "preview", "C1", "birthday", "--on", "2026-03-20")
    assert result.exit_code == 0, result.output
    assert "for 2027-03-14)." in result.stderr


def test_preview_in_french_uses_the_french_wording_and_dates(shop: Office, tmp_path: Path) -> None:
    """A fr-CA customer's card comes from the .fr templates."""
    result = run(shop, "preview", "C2", "thank_you", "--on", "2025-09-03")
    assert result.exit_code == 0, result.output
    assert "Élodie" in result.stdout
    assert ", fr-CA, for 2025-09-03)." in result.stderr
    english = run(shop, "preview", "C1", "thank_you", "--on", "2026-02-21")
    assert english.stdout.split("\n", 2)[1] != result.stdout.split("\n", 2)[1]


def test_preview_html_escapes_markup_in_names(shop: Office, tmp_path: Path) -> None:
    """The HTML shows <b>Bob</b> escaped and {{ 7*7 }} literally; the file opens in a browser."""
    page = tmp_path / "card.html"
    result = run(shop, "preview", "C3", "thank_you", "--format", "html", "--out", str(page), "--on", "2026-01-11")
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "&lt;b&gt;Bob&lt;/b&gt;" in html
    assert "<b>Bob</b>" not in html
    assert "49" not in html


def test_preview_eml_is_a_whole_message(shop: Office, tmp_path: Path) -> None:
    """eml is the message as it would go out: one Message-ID, a real text part, an HTML part, the opt-out header."""
    out = tmp_path / "card.eml"
    result = run(shop, "preview", "C2", "check_in", "--format", "eml", "--out", str(out), "--on", "2025-11-01")
    assert result.exit_code == 0, result.output
    message = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message.get_all("Message-ID") is not None and len(message.get_all("Message-ID") or []) == 1
    assert str(message["To"]) == "Élodie Tremblay <elodie@example.ca>"
    assert str(message["List-Unsubscribe"]) == "<mailto:hello@harbourbikes.example?subject=unsubscribe>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Élodie" in text.get_content()
    assert "<" not in text.get_content().split("\n")[0]
    assert "Élodie" in html.get_content()


def test_preview_pdf_and_png_show_the_printed_card(shop: Office, tmp_path: Path) -> None:
    """pdf writes the card as print lays it out (a quarter-folded letter sheet) and png renders that sheet."""
    pdf, png = tmp_path / "card.pdf", tmp_path / "card.png"
    assert (
        run(shop, "preview", "C1", "birthday", "--format", "pdf", "--out", str(pdf), "--on", "2026-03-14").exit_code
        == 0
    )
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == (612.0, 792.0)
    sheet = reader.pages[0].extract_text()
    assert "Ana" in sheet
    assert "\x00" not in sheet
    result = run(shop, "preview", "C1", "birthday", "--format", "png", "--out", str(png), "--on", "2026-03-14")
    assert result.exit_code == 0, result.output
    with Image.open(png) as image:
        assert image.size in ((1275, 1650), (1275, 1651))  # 8.5 x 11 in at 150 dpi, rounded either way
        darkest, _ = image.convert("L").getextrema()
        assert isinstance(darkest, int) and darkest < 100  # the front line is drawn


def test_a_customer_with_nothing_personal_is_held_until_a_note_is_added(shop: Office) -> None:
    """Kim has no history: the card would be held; with a note it is ready, and the note is in it."""
    held = run(shop, "preview", "C4", "check_in", "--on", "2026-03-01")
    assert held.exit_code == 0, held.output
    assert "Held for review" in held.stderr
    assert "nothing personal is known about this customer" in held.stderr
    noted = run(shop, "note", "C4", "Thanks for pointing us to the new trail map!", "--occasion", "check_in")
    assert noted.stdout == (
        'Noted for Kim (C4)\'s next check-in card: "Thanks for pointing us to the new trail map!"\n'
    )
    ready = run(shop, "preview", "C4", "check_in", "--on", "2026-03-01")
    assert "Thanks for pointing us to the new trail map!" in ready.stdout
    assert ready.stderr.startswith("Ready to send")


def test_a_note_for_another_occasion_is_not_used(shop: Office) -> None:
    """A note meant for the birthday card does not appear in a check-in."""
    run(shop, "note", "C4", "Happy trails on your birthday ride!", "--occasion", "birthday")
    assert "Happy trails" not in run(shop, "preview", "C4", "check_in", "--on", "2026-03-01").stdout


def test_preview_of_an_unknown_customer_or_missing_birthday_is_one_line(shop: Office) -> None:
    """Errors are one line that says what to do."""
    missing = run(shop, "preview", "C9", "birthday")
    assert (missing.exit_code, missing.output) == (
        1,
        "Error: no customer with id 'C9'; see 'cardsender customers list'\n",
    )
    no_birthday = run(shop, "preview", "C4", "birthday")
    assert no_birthday.output == (
        "Error: Kim (C4) has no birthday on file; "
        "set one with 'cardsender customers edit C4 --set birthday=YYYY-MM-DD'\n"
    )


def test_templates_copy_writes_the_bundled_set_and_keeps_edits(shop: Office, tmp_path: Path) -> None:
    """copy writes every bundled file, never overwrites an edited one, and an edited file is then used."""
    folder = tmp_path / "my-cards"
    first = run(shop, "templates", "copy", str(folder))
    bundled = sorted(
        p.relative_to(paths.bundled_templates() / "cards")
        for p in (paths.bundled_templates() / "cards").rglob("*")
        if p.is_file()
    )
    assert sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()) == bundled
    assert first.stdout.startswith(f"Copied {len(bundled)} template files to {folder}.")
    subject = folder / "check_in" / "v1" / "subject.txt"
    subject.write_text("A note from the shop for {{ customer.first_name }}", encoding="utf-8")
    again = run(shop, "templates", "copy", str(folder))
    assert again.stdout.startswith(f"Copied 0 template files to {folder}, kept {len(bundled)} files already there.")
    assert subject.read_text(encoding="utf-8").startswith("A note from the shop")


def test_bundled_templates_pass_the_check(shop: Office) -> None:
    """Every bundled template renders for every sample customer, fits its panel, and is personal."""
    result = run(shop, "templates", "check")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.endswith(": 0 problems.\n")


def test_the_check_reports_a_broken_or_christmassy_office_template(shop: Office, tmp_path: Path) -> None:
    """An office template with an unknown variable or Christmas wording makes the check fail and say where."""
    folder = tmp_path / "office-cards"
    (folder / "birthday" / "v1").mkdir(parents=True)
    (folder / "birthday" / "v1" / "subject.txt").write_text("Happy birthday {{ customer.nick }}", encoding="utf-8")
    (folder / "thank_you" / "v1").mkdir(parents=True)
    (folder / "thank_you" / "v1" / "subject.txt").write_text("Merry Christmas, {{ customer.first_name }}")
    with shop.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[templates]\ndir = "{folder.as_posix()}"\n')
    result = run(shop, "templates", "check")
    assert result.exit_code == 1
    assert "birthday/v1 for a long-time customer: template " in result.stderr
    assert "'CustomerView object' has no attribute 'nick'" in result.stderr
    assert (
        f"thank_you/v1 for every customer: template {folder}/thank_you/v1/subject.txt, line 1: 'Merry Christmas' "
        "is Christmas wording"
    ) in result.stderr


def test_bundled_templates_have_no_christmas_wording() -> None:
    """No bundled file mentions Christmas in any language."""
    for path in (paths.bundled_templates() / "cards").rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert christmas_words(path.read_text(encoding="utf-8")) == [], path


@pytest.mark.parametrize("occasion", CARD_OCCASIONS)
def test_every_occasion_has_variants_in_english_and_french(occasion: str) -> None:
    """Each occasion ships two or three wordings, each with every part in English and French."""
    folder = paths.bundled_templates() / "cards" / occasion
    variants = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert 2 <= len(variants) <= 3
    for variant in variants:
        names = {p.name for p in (folder / variant).iterdir()}
        assert names >= {
            "subject.txt",
            "body.txt",
            "body.html",
            "card.txt",
            "subject.fr.txt",
            "body.fr.txt",
            "body.fr.html",
            "card.fr.txt",
        }


def test_a_held_card_puts_the_customer_on_the_call_list_until_a_note_releases_it(shop: Office) -> None:
    """A card held for review sends its customer to the call list at once; a note puts the card back to pending."""
    with shop.open_store() as store, store.begin() as conn:
        row = find_internal_id(conn, "C4")
        add_card(conn, row, Card("C4", "check_in", dt.date(2026, 3, 20), "email", "held"), dt.date(2026, 3, 20), NOW)
    calls = [
        c for c in json.loads(run(shop, "calls", "--on", "2026-03-20", "--json").stdout) if c["customer_id"] == "C4"
    ]
    assert calls == [
        {
            "customer_id": "C4",
            "name": "Kim",
            "owner": "",
            "last_contact": None,
            "days_since_contact": 47,
            "overdue": False,
            "card_held": True,
            "card_failed": False,
        }
    ]
    kim = [line for line in run(shop, "calls", "--on", "2026-03-20").stdout.splitlines() if "(C4)" in line]
    assert kim[0].split()[-2:] == ["CARD", "HELD"]
    noted = run(shop, "note", "C4", "Loved your photos from the coast ride!", "--occasion", "check_in")
    assert noted.stdout.splitlines()[-1] == "1 card held for review will go out with it."
    with shop.open_store() as store, store.begin() as conn:
        states = conn.execute(select(outbox.c.state)).scalars().all()
    assert states == ["pending"]
    after = json.loads(run(shop, "calls", "--on", "2026-03-20", "--json").stdout)
    assert "C4" not in [c["customer_id"] for c in after]


def test_the_check_reports_printed_text_too_long_for_its_panel(shop: Office, tmp_path: Path) -> None:
    """A card whose inside does not fit the printed panel even at its smallest size is reported, with the sizes."""
    folder = tmp_path / "office-cards"
    (folder / "check_in" / "v1").mkdir(parents=True)
    long_inside = "Dear {{ customer.first_name }},\n" + "We have so much to tell you about the shop. " * 60
    (folder / "check_in" / "v1" / "card.txt").write_text("Hello!\n" + long_inside, encoding="utf-8")
    with shop.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[templates]\ndir = "{folder.as_posix()}"\n')
    result = run(shop, "templates", "check")
    assert result.exit_code == 1
    assert "check_in/v1 for a long-time customer: the inside text needs " in result.stderr
    assert " in of a 4.7 in panel" in result.stderr

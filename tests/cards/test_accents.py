"""The band at the top of an email card takes its colour from the occasion table, and the cards render exactly
as they did when the colours were written in the layout."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from cardsender.cards.context import card_context, render_card
from cardsender.cards.render import CardTemplates
from cardsender.config.model import OfficeConfig
from cardsender.domain.occasions import accent_of
from cardsender.domain.records import Birthday, ContactEvent, Customer
from cardsender.domain.vocabulary import Wording
from cardsender.system import paths

BUNDLED = paths.bundled_templates() / "cards"
OFFICE = OfficeConfig(
    name="Harbour Street Bikes",
    sender_name="Maria",
    from_address="hello@harbour.example",
    postal_address="12 Harbour Street\nPortland, ME 04101",
    signature="Maria and the team",
    website="https://harbour.example/",
)
TODAY = dt.date(2026, 3, 14)
CUSTOMERS = (
    Customer("C1", "Ana", "Silva", "ana@example.com", birthday=Birthday(3, 14, 1986), language="en"),
    Customer("C2", "Élodie", "Tremblay", "elodie@example.ca", birthday=Birthday(3, 14), language="fr-CA"),
)
HISTORY = [ContactEvent("C1", dt.datetime(2026, 2, 20, 10), "purchase", "Road bike")]
# The layout's colours as they were written in it before the occasion table held them.
WRITTEN_ACCENTS = (
    '{% set accent = {"birthday": "#d9534f", "birthday_belated": "#c8607a", "thanksgiving": "#b8692a", '
    '"april_fools": "#2f9c8f", "thank_you": "#4a6fa5", "check_in": "#5b8c5a"}.get(occasion, "#4a6fa5") %}'
)
SET_ACCENT = re.compile(r"^\{% set accent = .*%\}$", re.MULTILINE)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the bundled templates whose layout writes the colours itself, as it used to."""
    root = tmp_path_factory.mktemp("written") / "cards"
    shutil.copytree(BUNDLED, root)
    layout = root / "_layout.html"
    text, count = SET_ACCENT.subn(lambda _: WRITTEN_ACCENTS, layout.read_text(encoding="utf-8"))
    assert count == 1
    layout.write_text(text, encoding="utf-8")
    return root


def test_the_layout_names_no_colour_of_an_occasion() -> None:
    """The bundled layout reads the accents from the table, and holds none of their colours itself."""
    layout = (BUNDLED / "_layout.html").read_text(encoding="utf-8")
    assert SET_ACCENT.findall(layout) == ["{% set accent = accents.get(occasion, default_accent) %}"]
    assert not {accent_of(wording) for wording in Wording if wording is not Wording.THANK_YOU} & set(
        re.findall(r"#[0-9a-f]{6}", layout)
    )


@pytest.mark.parametrize("wording", list(Wording))
def test_every_card_renders_byte_for_byte_as_before(written: Path, wording: Wording) -> None:
    """Each variant of each wording, in English and in French, renders the same HTML with the table's colour
    as with the colours written in the layout, and its band is the wording's accent."""
    now, before = CardTemplates(BUNDLED), CardTemplates(written)
    rendered = 0
    for variant in now.variants(wording):
        for customer in CUSTOMERS:
            context = card_context(customer, HISTORY, occasion=wording, occasion_date=TODAY, today=TODAY, office=OFFICE)
            card, _ = render_card(now, context, wording, variant)
            old, _ = render_card(before, context, wording, variant)
            assert card.html == old.html
            assert f"background-color:{accent_of(wording)};" in card.html
            rendered += 1
    assert rendered == 2 * len(now.variants(wording)) >= 2

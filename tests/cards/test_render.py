"""Rendering card templates: the sandbox, strict variables, escaping, languages, variants and the checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cardsender.cards.context import card_context, format_day, render_card
from cardsender.cards.render import CardTemplates, PersonalDetail, TemplateError, choose_variant, generic_reason
from cardsender.config.model import OfficeConfig
from cardsender.domain.records import Birthday, ContactEvent, Customer

OFFICE = OfficeConfig(
    name="Harbour Street Bikes",
    sender_name="Maria",
    from_address="hello@harbour.example",
    postal_address="12 Harbour Street\nPortland, ME 04101",
    signature="Maria and the team",
)
TODAY = dt.date(2026, 3, 14)


def write_set(root: Path, occasion: str = "birthday", variant: str = "v1", **files: str) -> Path:
    """Write a template set: plain default parts, replaced or added to by ``files`` (dots as __)."""
    parts = {
        "subject.txt": "Happy birthday, {{ customer.first_name }}",
        "body.txt": "Dear {{ customer.first_name }},\n"
        "{% if last_purchase %}Enjoy the {{ last_purchase.item }}!{% endif %}",
        "body.html": '{% extends "_layout.html" %}'
        "{% block content %}<p>Dear {{ customer.first_name }}</p>{% endblock %}",
        "card.txt": "Happy birthday!\nDear {{ customer.first_name }}, enjoy the {{ last_purchase.item }}.",
    }
    parts.update({name.replace("__", "."): text for name, text in files.items()})
    folder = root / occasion / variant
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in parts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (root / "_layout.html").write_text("<html>{% block content %}{% endblock %}</html>", encoding="utf-8")
    return root


def context_for(customer: Customer, history: list[ContactEvent] | None = None, note: str = "") -> Any:
    """Return the card context of a birthday on TODAY."""
    return card_context(
        customer, history or [], occasion="birthday", occasion_date=TODAY, today=TODAY, office=OFFICE, note=note
    )


ANA = Customer("C1", "Ana", "Silva", "ana@example.com", birthday=Birthday(3, 14, 1986), language="en")
BIKE = [ContactEvent("C1", dt.datetime(2026, 2, 20, 10), "purchase", "Road bike")]


def test_a_card_renders_every_part(tmp_path: Path) -> None:
    """Subject, text, HTML and the printed card's front and inside come from their own templates."""
    templates = CardTemplates(write_set(tmp_path))
    card, held = render_card(templates, context_for(ANA, BIKE), "birthday", "v1")
    assert (card.subject, card.text, card.html) == (
        "Happy birthday, Ana",
        "Dear Ana,\nEnjoy the Road bike!\n",
        "<html><p>Dear Ana</p></html>\n",
    )
    assert (card.card_front, card.card_inside) == ("Happy birthday!", "Dear Ana, enjoy the Road bike.")
    assert held is None


def test_markup_and_template_syntax_in_names_show_literally(tmp_path: Path) -> None:
    """A name such as <b>Bob</b> or {{ 7*7 }} is data: escaped in HTML, literal in text."""
    bob = Customer("C2", "<b>Bob</b> {{ 7*7 }}", "Tables", "bob@example.com")
    card, _ = render_card(CardTemplates(write_set(tmp_path)), context_for(bob, BIKE), "birthday", "v1")
    assert card.subject == "Happy birthday, <b>Bob</b> {{ 7*7 }}"
    assert "<p>Dear &lt;b&gt;Bob&lt;/b&gt; {{ 7*7 }}</p>" in card.html
    assert "49" not in card.text + card.html


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ customer.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_sandbox_escapes_fail_with_a_clear_error(tmp_path: Path, attack: str) -> None:
    """A user template that reaches for Python internals is refused, naming the template and line."""
    templates = CardTemplates(write_set(tmp_path, **{"body__txt": f"Dear {{{{ customer.first_name }}}},\n{attack}"}))
    with pytest.raises(TemplateError) as caught:
        render_card(templates, context_for(ANA, BIKE), "birthday", "v1")
    message = str(caught.value)
    assert message.startswith(f"template {tmp_path / 'birthday' / 'v1' / 'body.txt'}, line 2: ")
    assert "__" in message or "undefined" in message


def test_a_missing_variable_names_the_template_line_and_variable(tmp_path: Path) -> None:
    """StrictUndefined: an unknown variable is an error with the file, the line and the name."""
    templates = CardTemplates(
        write_set(tmp_path, **{"card__txt": "Hello!\n\nDear {{ customer.first_name }},\n{{ nickname }}"})
    )
    with pytest.raises(TemplateError) as caught:
        render_card(templates, context_for(ANA, BIKE), "birthday", "v1")
    assert str(caught.value) == (
        f"template {tmp_path / 'birthday' / 'v1' / 'card.txt'}, line 4: 'nickname' is undefined; "
        "use only the variables listed in templates/cards/README.md"
    )


def test_an_attribute_of_a_missing_value_is_an_error_at_preview(tmp_path: Path) -> None:
    """Without a purchase, {{ last_purchase.item }} fails instead of printing an empty gap."""
    templates = CardTemplates(write_set(tmp_path))
    with pytest.raises(TemplateError) as caught:
        render_card(templates, context_for(ANA), "birthday", "v1")
    assert "card.txt, line 2: 'None' has no attribute 'item'" in str(caught.value)


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    """A broken tag is reported with its file and line."""
    templates = CardTemplates(write_set(tmp_path, **{"subject__txt": "Hi\n{% if %}"}))
    with pytest.raises(TemplateError) as caught:
        render_card(templates, context_for(ANA, BIKE), "birthday", "v1")
    assert str(caught.value).startswith("template birthday/v1/subject.txt, line 2: ")


def test_language_variants_fall_back_to_the_language_then_the_default(tmp_path: Path) -> None:
    """fr-CA uses body.fr.txt; a language without files uses the office default's, then the plain file."""
    write_set(
        tmp_path,
        **{"body__fr__txt": "Chère {{ customer.first_name }}", "body__de__txt": "Liebe {{ customer.first_name }}"},
    )
    french = Customer("C3", "Élodie", email="e@example.ca", language="fr-CA")
    spanish = Customer("C4", "Lucía", email="l@example.es", language="es")
    plain = CardTemplates(tmp_path)
    german_office = CardTemplates(tmp_path, default_language="de")
    assert render_card(plain, context_for(french, BIKE), "birthday", "v1")[0].text == "Chère Élodie\n"
    assert render_card(plain, context_for(spanish, BIKE), "birthday", "v1")[0].text.startswith("Dear Lucía,")
    assert render_card(german_office, context_for(spanish, BIKE), "birthday", "v1")[0].text == "Liebe Lucía\n"


def test_an_office_folder_overrides_the_bundled_files_one_by_one(tmp_path: Path) -> None:
    """A file in the office's folder replaces the bundled file of the same name; the others stay."""
    bundled = write_set(tmp_path / "bundled")
    office = tmp_path / "office"
    (office / "birthday" / "v1").mkdir(parents=True)
    (office / "birthday" / "v1" / "subject.txt").write_text("Many happy returns, {{ customer.first_name }}")
    card, _ = render_card(CardTemplates(bundled, office), context_for(ANA, BIKE), "birthday", "v1")
    assert card.subject == "Many happy returns, Ana"
    assert card.text == "Dear Ana,\nEnjoy the Road bike!\n"


def test_christmas_wording_is_refused(tmp_path: Path) -> None:
    """A template that wishes a merry Christmas is refused with the policy, whatever the case."""
    templates = CardTemplates(write_set(tmp_path, **{"body__txt": "Dear {{ customer.first_name }}, MERRY Xmas!"}))
    with pytest.raises(TemplateError) as caught:
        render_card(templates, context_for(ANA, BIKE), "birthday", "v1")
    assert str(caught.value) == (
        f"template {tmp_path / 'birthday' / 'v1' / 'body.txt'}, line 1: 'MERRY Xmas' is Christmas wording, and "
        "cardsender never sends Christmas cards: every business sends them, so they say nothing about the "
        "customer; take the words out of the template"
    )


def test_dates_follow_the_customer_language() -> None:
    """Dates are written as the customer's language writes them."""
    day = dt.date(2026, 3, 3)
    assert (format_day(day, "en"), format_day(day, "fr-CA"), format_day(day, "xx")) == (
        "March 3, 2026",
        "3 mars 2026",
        "March 3, 2026",
    )


def test_context_offers_age_only_with_a_birth_year_and_years_from_the_history() -> None:
    """Age and birth year appear only when the year is known; years as a customer count from the first contact."""
    history = [ContactEvent("C1", dt.datetime(2022, 3, 1, 9), "visit", "First fitting"), *BIKE]
    with_year = context_for(ANA, history).variables
    assert (with_year["age"], with_year["birth_year"], with_year["years_as_customer"]) == (40, 1986, 4)
    assert with_year["last_contact"].summary == "Road bike"
    assert with_year["purchases_count"] == 1
    no_year = context_for(Customer("C5", "Kim", birthday=Birthday(3, 14)), []).variables
    assert (no_year["age"], no_year["birth_year"], no_year["last_purchase"], no_year["last_contact"]) == (
        None,
        None,
        None,
        None,
    )


def test_generic_cards_are_told_apart() -> None:
    """A card needs the name and one personal detail that it actually shows."""
    bike = [PersonalDetail("the last purchase", "Road bike")]
    assert generic_reason("Dear Ana, enjoy the road bike!", "Ana", bike) is None
    assert generic_reason("Dear friend, enjoy!", "Ana", bike) == "the card does not use the customer's name (Ana)"
    assert generic_reason("Dear Ana, have a lovely day!", "Ana", bike) == (
        "the card uses none of what we know about the customer (the last purchase); add a note or edit the template"
    )
    assert str(generic_reason("Dear Ana!", "Ana", [])).startswith("nothing personal is known about this customer")


def test_a_note_makes_a_card_personal(tmp_path: Path) -> None:
    """A customer with no history gets a personal card once staff add a note that the template shows."""
    note_only = "Dear {{ customer.first_name }}, {{ personal_note }}"
    templates = CardTemplates(write_set(tmp_path, **{"body__txt": note_only, "card__txt": f"Hello\n{note_only}"}))
    new = Customer("C6", "Ana", email="ana@example.com")
    assert render_card(templates, context_for(new), "birthday", "v1")[1] is not None
    assert render_card(templates, context_for(new, note="See you at the race!"), "birthday", "v1")[1] is None


def test_variants_are_not_repeated_until_all_were_used() -> None:
    """The least-used wording goes next; ties go to the one unused longest, then a rotation by customer."""
    variants = ["v1", "v2", "v3"]
    assert choose_variant(variants, []) == "v1"
    assert choose_variant(variants, ["v1"]) == "v2"
    assert choose_variant(variants, ["v1", "v2"]) == "v3"
    assert choose_variant(variants, ["v1", "v2", "v3"]) == "v1"
    assert choose_variant(variants, ["v2", "v3", "v1", "v3"]) == "v2"
    sequence: list[str] = []
    for _ in range(9):
        sequence.append(choose_variant(variants, sequence, "C42"))
    assert sorted(sequence[:3]) == sorted(sequence[3:6]) == sorted(sequence[6:]) == variants
    assert {choose_variant(variants, [], key) for key in ("C1", "C2", "C3")} == set(variants)


def test_an_english_customer_gets_the_plain_files_in_a_french_office(tmp_path: Path) -> None:
    """The plain files are English: an English customer does not fall back to the office's French."""
    write_set(tmp_path, **{"body__fr__txt": "Chère {{ customer.first_name }}"})
    french_office = CardTemplates(tmp_path, default_language="fr-CA")
    assert render_card(french_office, context_for(ANA, BIKE), "birthday", "v1")[0].text.startswith("Dear Ana,")
    no_language = Customer("C7", "Lou", email="lou@example.com")
    context = card_context(
        no_language,
        BIKE,
        occasion="birthday",
        occasion_date=TODAY,
        today=TODAY,
        office=replace(OFFICE, language="fr-CA"),
    )
    assert render_card(french_office, context, "birthday", "v1")[0].text == "Chère Lou\n"


def test_the_written_language_follows_the_files_found(tmp_path: Path) -> None:
    """Dates are written in the language of the files used: fr-CA for .fr files, English when none match."""
    templates = CardTemplates(write_set(tmp_path, **{"body__fr__txt": "Chère {{ customer.first_name }}"}))
    assert templates.written_language("birthday", "v1", "fr-CA") == "fr-CA"
    assert templates.written_language("birthday", "v1", "uk") == "en"
    assert templates.written_language("birthday", "v1", "en-GB") == "en"
    ukrainian = Customer("C8", "Ольга", email="o@example.com", language="uk")
    context = card_context(
        ukrainian,
        BIKE,
        occasion="birthday",
        occasion_date=TODAY,
        today=TODAY,
        office=OFFICE,
        language=templates.written_language("birthday", "v1", "uk"),
    )
    assert context.variables["last_purchase"].date == "February 20, 2026"

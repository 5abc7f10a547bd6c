"""The words of each customer's card: what a template may use, which wording goes out, and preview.

``card_context`` and ``compose_card`` are pure: they build a card from a customer's file
(``CustomerFile``: the customer, their history, their waiting notes and the wordings sent),
read once for a whole batch of cards.  The functions that take a Store read the files and call them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from cardsender.cards.render import (
    CARD_FRONT_MAX,
    CardTemplates,
    PersonalDetail,
    RenderedCard,
    TemplateError,
    choose_variant,
    generic_reason,
)
from cardsender.config.model import Config, OfficeConfig
from cardsender.domain import christmas
from cardsender.domain.customer_file import CustomerFile
from cardsender.domain.errors import InputError
from cardsender.domain.records import CARD_OCCASIONS, Birthday, ContactEvent, Customer
from cardsender.domain.vocabulary import Channel, ChannelPreference, EventKind, Wording
from cardsender.planning import dates as occasions
from cardsender.store import Store
from cardsender.store import customers as customer_queries
from cardsender.store import notes as queries
from cardsender.store import outbox as outbox_queries
from cardsender.system import paths

# Contacts whose summary says something personal; a card or a purchase is told apart.
CONVERSATION_KINDS = (EventKind.CALL, EventKind.VISIT, EventKind.MEETING, EventKind.EMAIL)


@dataclass(frozen=True, slots=True)
class CustomerView:
    """The customer as templates see it."""

    first_name: str
    last_name: str
    display_name: str
    email: str | None
    city: str
    country: str


@dataclass(frozen=True, slots=True)
class PurchaseView:
    """The last purchase: the item (as the history gives it) and its date, formatted."""

    item: str
    date: str


@dataclass(frozen=True, slots=True)
class ContactView:
    """The last contact: its kind, summary and date, formatted."""

    kind: str
    summary: str
    date: str


@dataclass(frozen=True, slots=True)
class OfficeView:
    """The office as templates see it."""

    name: str
    sender_name: str
    signature: str
    phone: str
    website: str
    postal_address: str
    from_address: str


@dataclass(frozen=True, slots=True)
class CardVariables:
    """Every variable a card template sees (templates/cards/README.md lists them for template writers)."""

    customer: CustomerView
    age: int | None
    birth_year: int | None
    years_as_customer: int
    last_purchase: PurchaseView | None
    last_contact: ContactView | None
    purchases_count: int
    personal_note: str
    office: OfficeView
    occasion: str
    occasion_date: str
    language: str
    country: str
    opt_out_url: str


_VARIABLE_NAMES = tuple(field.name for field in fields(CardVariables))


@dataclass(frozen=True, slots=True)
class CardContext:
    """The variables of one card and the personal details it may show."""

    language: str
    view: CardVariables
    details: tuple[PersonalDetail, ...]
    name: str
    note: str = ""

    @property
    def variables(self) -> dict[str, Any]:
        """Return the variables as the namespace a template renders in (Jinja2 takes values of any type)."""
        view = self.view
        return {name: getattr(view, name) for name in _VARIABLE_NAMES}


@dataclass(frozen=True, slots=True)
class Preview:
    """One customer's card as it would go out, and whether it would be held for being generic."""

    customer: Customer
    occasion_date: dt.date
    card: RenderedCard
    held_because: str | None


def babel_locale(language: str) -> Locale:
    """Return the Babel locale of a language tag such as ``fr-CA``; English when it is not known."""
    try:
        return Locale.parse(language.replace("-", "_") or "en")
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_day(day: dt.date, language: str) -> str:
    """Return a date as the customer's language writes it: March 3, 2026; 3 mars 2026."""
    return str(format_date(day, format="long", locale=babel_locale(language)))


def opt_out_url(office: OfficeConfig) -> str:
    """Return where a customer opts out: the office's https page, else a mailto link to the office."""
    return office.unsubscribe_url or f"mailto:{office.reply_to or office.from_address}?subject=No%20more%20cards"


def age_on(birth_year: int | None, birth_month: int, birth_day: int, day: dt.date) -> int | None:
    """Return the age reached by ``day`` (the age turned on the birthday itself), or None without a year."""
    if not birth_year:
        return None
    return day.year - birth_year - ((day.month, day.day) < (birth_month, birth_day))


def years_as_customer(customer: Customer, first_contact: dt.date | None, today: dt.date) -> int:
    """Return whole years as a customer: from customer_since, else the earliest contact, else the day added."""
    since = customer.customer_since or first_contact or customer.added_on or today
    years = today.year - since.year - ((today.month, today.day) < (since.month, since.day))
    return max(years, 0)


def card_context(
    customer: Customer,
    history: Sequence[ContactEvent],
    *,
    occasion: str,
    occasion_date: dt.date,
    today: dt.date,
    office: OfficeConfig,
    note: str = "",
    language: str | None = None,
) -> CardContext:
    """Return the template variables for one card, from what is known on ``today``.

    ``language`` is the one the card is written in (after the templates' fallback); by
    default the customer's, else the office's.
    """
    language = language or customer.language or office.language
    past = [event for event in history if event.occurred_at.date() <= today]
    touches = [event for event in past if event.is_touch]
    purchases = [event for event in past if event.kind is EventKind.PURCHASE]
    conversations = [event for event in past if event.kind in (EventKind.PURCHASE, *CONVERSATION_KINDS)]
    last_purchase = max(purchases, key=lambda e: e.occurred_at, default=None)
    last_contact = max(conversations, key=lambda e: e.occurred_at, default=None)
    first_touch = min((e.occurred_at.date() for e in touches), default=None)
    years = years_as_customer(customer, first_touch, today)
    birthday = customer.birthday
    age = age_on(birthday.year, birthday.month, birthday.day, occasion_date) if birthday else None
    name = customer.first_name or customer.display_name

    details: list[PersonalDetail] = []
    if note:
        details.append(PersonalDetail("a personal note", note))
    if last_purchase and last_purchase.summary:
        details.append(PersonalDetail("the last purchase", last_purchase.summary))
    if last_contact and last_contact.summary and last_contact.kind in CONVERSATION_KINDS:
        details.append(PersonalDetail(f"the last {last_contact.kind}", last_contact.summary))
    if years >= 1:
        details.append(PersonalDetail(f"{years} years as a customer", str(years)))
    if age:
        details.append(PersonalDetail(f"age {age}", str(age)))

    view = CardVariables(
        customer=CustomerView(
            customer.first_name,
            customer.last_name,
            customer.display_name,
            customer.email,
            customer.city,
            customer.country,
        ),
        age=age,
        birth_year=birthday.year if birthday and birthday.year else None,
        years_as_customer=years,
        last_purchase=(
            PurchaseView(last_purchase.summary, format_day(last_purchase.occurred_at.date(), language))
            if last_purchase
            else None
        ),
        last_contact=(
            ContactView(last_contact.kind, last_contact.summary, format_day(last_contact.occurred_at.date(), language))
            if last_contact
            else None
        ),
        purchases_count=len(purchases),
        personal_note=note,
        office=OfficeView(
            office.name,
            office.sender_name,
            office.signature,
            office.phone,
            office.website,
            office.postal_address,
            office.from_address,
        ),
        occasion=occasion,
        occasion_date=format_day(occasion_date, language),
        language=language,
        country=customer.country or office.country,
        opt_out_url=opt_out_url(office),
    )
    return CardContext(language, view, tuple(details), name, note)


def card_templates(config: Config) -> CardTemplates:
    """Return the card templates: the configured folder over the bundled set."""
    return CardTemplates(paths.bundled_templates() / "cards", config.templates.dir, config.office.language)


def render_card(
    templates: CardTemplates, context: CardContext, occasion: str, variant: str, channel: str = "email"
) -> tuple[RenderedCard, str | None]:
    """Render a card and return it with why it is held for review (generic, or a Christmas note), or None.

    A template with Christmas wording raises TemplateError as it loads.  Only the office's
    words are checked: the templates and the note, never the customer's name or purchases.
    """
    card = templates.render(occasion, variant, context.language, context.variables)
    # A note stored before notes were checked must not go out either.
    in_note = christmas.find(context.note)
    if in_note:
        return card, f"the note waiting for this card cannot go out: {christmas.wording(in_note)}"
    checked = card.card_inside if channel == Channel.POST else card.text
    return card, generic_reason(checked, context.name, context.details)


def template_occasion(occasion: str, occasion_date: dt.date, today: dt.date) -> Wording:
    """Return the templates' occasion: a birthday sent after its day uses the belated wording."""
    return Wording.BIRTHDAY_BELATED if occasion == Wording.BIRTHDAY and today > occasion_date else Wording(occasion)


def next_occasion_date(occasion: str, customer: Customer, on: dt.date, config: Config) -> dt.date:
    """Return the occasion's next date on or after ``on`` (the day itself for a thank-you or check-in)."""
    if occasion in (Wording.THANK_YOU, Wording.CHECK_IN, Wording.BIRTHDAY_BELATED):
        return on
    if occasion == Wording.BIRTHDAY and customer.birthday is None:
        raise InputError(
            f"{customer.display_name} ({customer.id}) has no birthday on file; set one with "
            f"'cardsender customers edit {customer.id} --set birthday=YYYY-MM-DD'"
        )
    found = occasions.dates_between(
        occasion,
        on,
        on + dt.timedelta(days=366 * 2),
        birthday=customer.birthday,
        country=customer.country or config.office.country,
        feb29=config.occasions.birthday.feb29,
        thanksgiving_rules=config.occasions.thanksgiving.rules,
    )
    if not found:
        raise InputError(f"no {occasion} for {customer.display_name} ({customer.id}): no rule for their country")
    return found[0]


@dataclass(frozen=True, slots=True)
class ComposedCard:
    """A customer's card rendered from their file: the words, the wording chosen, and what they were made from."""

    file: CustomerFile
    occasion: str  # the templates' occasion: a birthday sent late is birthday_belated
    variant: str
    note: str
    context: CardContext
    card: RenderedCard
    held_because: str | None

    @property
    def customer(self) -> Customer:
        """Return the customer the card is for."""
        return self.file.customer

    @property
    def history(self) -> tuple[ContactEvent, ...]:
        """Return the customer's history the card was made from."""
        return self.file.history


def compose_card(
    file: CustomerFile,
    templates: CardTemplates,
    config: Config,
    occasion: str,
    occasion_date: dt.date,
    today: dt.date,
    channel: str,
    *,
    variant: str | None = None,
    with_note: bool = True,
) -> ComposedCard:
    """Render the card a customer gets for an occasion, as preview, sending and printing all make it.

    The wording is the one sent least often unless ``variant`` names it (a reprint); the note
    is the customer's next one unless ``with_note`` is False.  Raises TemplateError.
    """
    customer = file.customer
    note = file.next_note(occasion) if with_note else ""
    wording = template_occasion(occasion, occasion_date, today)
    variant = variant or choose_variant(templates.variants(wording), file.variants_sent(occasion), customer.id)
    language = templates.written_language(wording, variant, customer.language or config.office.language)
    context = card_context(
        customer,
        file.history,
        occasion=wording,
        occasion_date=occasion_date,
        today=today,
        office=config.office,
        note=note,
        language=language,
    )
    card, held = render_card(templates, context, wording, variant, channel)
    if not has_usable_name(customer):
        held = (
            "no name known: the card would greet the customer by their id; add the name with "
            f"'cardsender customers edit {customer.id} --set first_name=...'"
        )
    return ComposedCard(file, wording, variant, note, context, card, held)


def has_usable_name(customer: Customer) -> bool:
    """Return whether a customer has a name a card can greet: letters in it, and not their id again.

    Exports with ids only leave the names empty, or copy the id (or another number) into them.
    """
    for part in (customer.first_name, customer.last_name):
        words = part.strip()
        if words and words != customer.id and any(char.isalpha() for char in words):
            return True
    return False


def preview_card(
    store: Store,
    config: Config,
    customer_id: str,
    occasion: str,
    on: dt.date,
    channel: str | None = None,
    *,
    templates: CardTemplates | None = None,
) -> Preview:
    """Render the card a customer would get for an occasion on a day, with the wording that would be chosen."""
    if occasion not in CARD_OCCASIONS:
        raise InputError(f"'{occasion}' is not an occasion; use one of: {', '.join(CARD_OCCASIONS)}")
    with store.begin() as conn:
        file = customer_queries.load_file(conn, customer_id)
    customer = file.customer
    occasion_date = next_occasion_date(occasion, customer, on, config)
    if channel is None:
        channel = Channel.POST if customer.channel is ChannelPreference.POST else Channel.EMAIL
    templates = templates or card_templates(config)
    composed = compose_card(file, templates, config, occasion, occasion_date, on, channel)
    return Preview(customer, occasion_date, composed.card, composed.held_because)


@dataclass(frozen=True, slots=True)
class NoteAdded:
    """A personal note waiting for a customer's next card."""

    customer: Customer
    occasion: str | None
    text: str
    released: int


def add_note(store: Store, customer_id: str, text: str, occasion: str | None, *, now: dt.datetime) -> NoteAdded:
    """Attach a personal note to a customer's next card (of one occasion, or any)."""
    text = " ".join(text.split())
    if not text:
        raise InputError("the note is empty; write what you want the customer to read")
    found = christmas.find(text)
    if found:
        raise InputError(
            f"the note is refused: {christmas.wording(found)}; take the words out and write the note again"
        )
    if occasion is not None and occasion not in CARD_OCCASIONS:
        raise InputError(f"'{occasion}' is not an occasion; use one of: {', '.join(CARD_OCCASIONS)}")
    with store.begin() as conn:
        customer = customer_queries.get_customer(conn, customer_id)
        row_id = customer_queries.find_internal_id(conn, customer_id)
        queries.add_note(conn, row_id, text, occasion, now)
        # A card held for being generic can go out once it carries the note; it is checked again then.
        released = outbox_queries.release_held(conn, row_id, occasion, now)
    return NoteAdded(customer, occasion, text, released)


@dataclass(frozen=True, slots=True)
class CopiedTemplates:
    """What ``templates copy`` wrote, and what it left alone because it was there already."""

    folder: Path
    written: tuple[Path, ...]
    kept: tuple[Path, ...]


def copy_templates(folder: Path) -> CopiedTemplates:
    """Copy the bundled card templates into a folder to edit; a file already there is never overwritten."""
    source = paths.bundled_templates() / "cards"
    written: list[Path] = []
    kept: list[Path] = []
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        target = folder / path.relative_to(source)
        if target.exists():
            kept.append(target)
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        except OSError as exc:
            raise InputError(f"cannot write {target} ({exc.strerror}); choose a folder you can write to") from exc
        written.append(target)
    return CopiedTemplates(folder, tuple(written), tuple(kept))


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One problem found by ``templates check``."""

    occasion: str
    variant: str
    sample: str
    problem: str

    def __str__(self) -> str:
        return f"{self.occasion}/{self.variant} for {self.sample}: {self.problem}"


def sample_customers() -> list[tuple[str, Customer, list[ContactEvent]]]:
    """Return varied customers to render every template for: histories, names, scripts and languages."""
    at = dt.datetime(2026, 3, 5, 10, 0)
    history = [
        ContactEvent("S1", at - dt.timedelta(days=1200), EventKind.PURCHASE, "Road bike"),
        ContactEvent("S1", at - dt.timedelta(days=40), "visit", "Fitting for the new saddle"),
    ]
    recent = [ContactEvent("S2", at - dt.timedelta(days=30), EventKind.PURCHASE, "Rain jacket")]
    return [
        (
            "a long-time customer",
            Customer(
                "S1",
                "Emily",
                "Carter",
                "emily@example.com",
                city="Portland",
                birthday=Birthday(3, 5, 1986),
                country="US",
            ),
            history,
        ),
        (
            "a customer in French, in Canada",
            Customer("S2", "Élodie", "Tremblay", "elodie@example.ca", country="CA", language="fr-CA"),
            recent,
        ),
        (
            "a customer with no last name and no birth year",
            Customer("S3", "Kenji", "", "kenji@example.com", birthday=Birthday(3, 5)),
            recent,
        ),
        ("a customer with a name in Japanese", Customer("S4", "太郎", "山田", "taro@example.jp", country="JP"), recent),
        (
            "a customer with a name in Arabic",
            Customer("S5", "محمد", "حداد", "m@example.com", country="CA", language="fr"),
            history,
        ),
        ("a customer with markup in the name", Customer("S6", "<b>Bob</b>", "{{ 7*7 }}", "bob@example.com"), recent),
        ("a new customer without any history", Customer("S7", "Ana", "Silva", "ana@example.com"), []),
    ]


def check_templates(
    config: Config, overflow: Callable[[RenderedCard], list[str]], *, templates: CardTemplates | None = None
) -> tuple[int, list[TemplateProblem]]:
    """Render every variant of every occasion for every sample customer; return the count and the problems found.

    ``overflow`` measures a printed card's panels as the card is printed, and names each one whose text does not fit.

    Problems: a template error (a missing variable, a refused operation), Christmas
    wording, a printed card whose front or inside is too long for its panel, and a
    card that is generic for a customer with some history.
    """
    templates = templates or card_templates(config)
    today = dt.date(2026, 3, 5)
    problems: list[TemplateProblem] = []
    # Christmas wording is looked for in every file, even one no sample customer's card uses (body.de.txt).
    for name, problem in templates.wording_problems():
        occasion, variant, *_ = [*name.split("/")[:-1], "-", "-"]
        problems.append(TemplateProblem(occasion, variant, "every customer", problem))
    # A template's own error is the same for every customer: it is reported once.
    reported = {problem.problem for problem in problems}
    rendered = 0
    for occasion in CARD_OCCASIONS:
        try:
            variants = templates.variants(occasion)
        except TemplateError as exc:
            problems.append(TemplateProblem(occasion, "-", "every customer", str(exc)))
            continue
        for variant in variants:
            for sample, customer, history in sample_customers():
                note = "Thanks for the tip about the coffee place!" if customer.id == "S3" else ""
                language = templates.written_language(occasion, variant, customer.language or config.office.language)
                context = card_context(
                    customer,
                    history,
                    occasion=occasion,
                    occasion_date=today,
                    today=today,
                    office=config.office,
                    note=note,
                    language=language,
                )
                for channel in Channel:
                    try:
                        card, held = render_card(templates, context, occasion, variant, channel)
                    except TemplateError as exc:
                        if str(exc) not in reported:
                            reported.add(str(exc))
                            problems.append(TemplateProblem(occasion, variant, sample, str(exc)))
                        break
                    rendered += 1
                    if held and history:
                        problems.append(TemplateProblem(occasion, variant, sample, f"{channel}: {held}"))
                    if channel is Channel.POST:
                        problems += _fit_problems(occasion, variant, sample, card, overflow)
    return rendered, problems


def _fit_problems(
    occasion: str, variant: str, sample: str, card: RenderedCard, overflow: Callable[[RenderedCard], list[str]]
) -> list[TemplateProblem]:
    """Return the printed card's panels whose text does not fit, and a front line that is too long."""
    found = overflow(card)
    if len(card.card_front) > CARD_FRONT_MAX:
        found.append(f"the card's front line has {len(card.card_front)} characters (at most {CARD_FRONT_MAX})")
    return [TemplateProblem(occasion, variant, sample, problem) for problem in found]

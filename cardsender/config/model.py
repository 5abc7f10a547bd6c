"""The sections of ``cardsender.toml`` as frozen dataclasses; each field declares its key once (see ``fields``)."""

# The declaration helpers of ``fields`` return dataclasses.field(...) like ``field()`` itself, which RUF009
# (no function calls in dataclass defaults) recognises only by its own name.
# ruff: noqa: RUF009

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from cardsender.config.declarations import (
    choice,
    declared_keys,
    flag,
    parse_month_day,
    parse_send_time,
    parse_timezone,
    parsed,
    path,
    section,
    special,
    text,
    whole,
    word,
)
from cardsender.domain import christmas
from cardsender.domain.errors import ConfigError
from cardsender.domain.records import DEFAULT_OFFICE
from cardsender.domain.rules import ClosedDay, WeekdayRule
from cardsender.domain.vocabulary import CardFormat, Occasion, Paper

# The orders of slash dates that [import] date_format and --date-format accept.
DATE_FORMATS = ("DD/MM/YYYY", "MM/DD/YYYY")
# The card formats [print] card_format and print --format accept, as the words click's choices list.
CARD_FORMATS = tuple(card_format.value for card_format in CardFormat)
PAPERS = tuple(paper.value for paper in Paper)
TRANSPORTS = ("file", "smtp")
SECURITIES = ("starttls", "tls", "none")
# The port each security setting uses when [email] port is left out.
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
# Empty: the envelope that fits the card format.
ENVELOPES = ("", "A2", "A7", "C6", "DL", "#10")
FEB29_DAYS = ("feb28", "mar1")


def signature_problem(value: str) -> str | None:
    """Say what is wrong with a signature that has Christmas wording, which would go on every card.

    The office's name and the sender's are names, like a customer's, and are not searched:
    Noel's Bakery and a sender called Merry are who they are.
    """
    found = christmas.find(value)
    return f"{christmas.wording(found)}; take the words out of the signature" if found else None


def https_problem(value: str) -> str | None:
    """Say what is wrong with a link that is not https."""
    if value and not value.startswith("https://"):
        return f"{value!r} must start with https:// (mail providers ignore other links)"
    return None


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    """Who sends the cards, from where, and on which clock; ``key`` names the office in the database."""

    # Not a key of the file: the name of the [offices.<key>] table, or "main" for [office] alone.
    key: str = DEFAULT_OFFICE
    name: str = text("Our shop", doc="The business name, as customers know it.")
    sender_name: str = text(doc="The person the cards come from.")
    from_address: str = text("cards@example.com", doc="The address cards are emailed from, and where replies go.")
    reply_to: str = text(doc="Where replies go, when not to from_address.")
    phone: str = text(doc="The office's phone number, for the cards.")
    website: str = text(doc="The office's website, for the cards.")
    unsubscribe_url: str = text(doc="An https page where a customer opts out with one click.", check=https_problem)
    postal_address: str = text(doc="The return address on envelopes and the postal address in email footers.")
    signature: str = text(doc="How cards are signed.", check=signature_problem)
    timezone: str = parsed(
        "UTC", parse_timezone, "an IANA name such as 'America/Toronto'", doc="The office time zone (an IANA name)."
    )
    country: str = text("US", doc="The country of customers without one of their own.", upper=True)
    subdivision: str = text(doc="The state or province, for public holidays.", upper=True)
    language: str = text("en", doc="The language of customers without one of their own.")
    send_time: dt.time = parsed(
        dt.time(9, 0), parse_send_time, "a time such as '09:00'", doc="When the daily cycle sends."
    )
    start_date: dt.date | None = parsed(
        None, dt.date.fromisoformat, "a date such as 2026-11-22", doc="Occasions before this day are never missed."
    )

    @property
    def tz(self) -> ZoneInfo:
        """Return the office time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where the store lives."""

    url: str = special(
        "",
        doc="A SQLite file (relative to the config file) or a PostgreSQL URL.",
        computed="left out: sqlite:/// and cardsender.db in the platform data folder",
    )


@dataclass(frozen=True, slots=True)
class TemplatesConfig:
    """Where the office's own card templates are; they override the bundled ones file by file."""

    dir: Path | None = path(None, doc="A folder of the office's own card templates.")


@dataclass(frozen=True, slots=True)
class ImportConfig:
    """How import files are read."""

    date_format: str | None = special(None, doc="How slash dates such as 03/04/1980 are read; empty: never guess.")


@dataclass(frozen=True, slots=True)
class BirthdayConfig:
    """Birthday cards."""

    enabled: bool = flag(True, doc="Send birthday cards.")
    feb29: str = word("feb28", FEB29_DAYS, doc="The day a February 29 birthday is celebrated in other years.")


@dataclass(frozen=True, slots=True)
class ThanksgivingConfig:
    """Thanksgiving cards; ``rules`` adds countries beyond the built-in US and CA."""

    enabled: bool = flag(True, doc="Send Thanksgiving cards.")
    rules: Mapping[str, WeekdayRule] = special({}, doc="Thanksgiving's day in further countries, by country code.")


@dataclass(frozen=True, slots=True)
class AprilFoolsConfig:
    """April Fool's cards, never for customers who asked for no humour."""

    enabled: bool = flag(True, doc="Send April Fool's cards.")


@dataclass(frozen=True, slots=True)
class ThankYouConfig:
    """Thank-you notes after a purchase."""

    enabled: bool = flag(True, doc="Send thank-you notes.")
    delay_days: int = whole(1, 0, 60, doc="Days after a purchase that the thank-you goes out.")
    coalesce_days: int = whole(14, 0, 365, doc="Purchases within this many days share one thank-you.")


@dataclass(frozen=True, slots=True)
class CheckInConfig:
    """Personal check-ins that keep the 70-day promise."""

    enabled: bool = flag(True, doc="Send personal check-ins.")


@dataclass(frozen=True, slots=True)
class OccasionsConfig:
    """Which occasions are sent and how they are spaced; each occasion's table is named after it."""

    birthday: BirthdayConfig = section(BirthdayConfig, doc="Birthday cards.", key=Occasion.BIRTHDAY)
    thanksgiving: ThanksgivingConfig = section(ThanksgivingConfig, doc="Thanksgiving.", key=Occasion.THANKSGIVING)
    april_fools: AprilFoolsConfig = section(AprilFoolsConfig, doc="April Fool's.", key=Occasion.APRIL_FOOLS)
    thank_you: ThankYouConfig = section(ThankYouConfig, doc="Thank-you notes.", key=Occasion.THANK_YOU)
    check_in: CheckInConfig = section(CheckInConfig, doc="Check-ins.", key=Occasion.CHECK_IN)
    min_gap_days: int = whole(14, 0, 60, doc="Two automatic cards for one customer at least this many days apart.")
    grace_days: int = whole(3, 0, 30, doc="A card not sent on its day is still sent this many days late.")
    # Month and day, inclusive; the window wraps over the new year.
    quiet_start: tuple[int, int] = parsed(
        (12, 20), parse_month_day, "a month and day such as '12-20'", doc="The first day without check-ins."
    )
    quiet_end: tuple[int, int] = parsed(
        (1, 2), parse_month_day, "a month and day such as '01-02'", doc="The last day without check-ins."
    )

    def enabled(self, occasion: str) -> bool:
        """Return whether an occasion is switched on."""
        return bool(getattr(self, occasion).enabled)


@dataclass(frozen=True, slots=True)
class KeepInTouchConfig:
    """The keep-in-touch promise."""

    max_gap_days: int = whole(70, 14, 365, doc="No customer goes longer than this without hearing from you.")
    call_after_days: int = whole(56, 1, 365, doc="From this day after the last contact, staff call the customer.")
    check_in_lead_days: int = whole(7, 0, 60, doc="A check-in arrives this many days before max_gap_days ends.")


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """How email leaves the office."""

    transport: str = word("file", TRANSPORTS, doc="file: .eml files in outbox_dir; smtp: the mail server.")
    outbox_dir: Path = path(Path("outbox"), doc="The folder of the file transport's messages.")
    host: str = text(doc="The mail server, for transport = smtp.")
    port: int = whole(
        587, 1, 65535, doc="The mail server's port.", computed="left out: 587 for starttls, 465 for tls, 25 for none"
    )
    security: str = word("starttls", SECURITIES, doc="How the connection is encrypted.")
    allow_insecure: bool = flag(False, doc="Allow security = none for a server not on localhost.")
    username: str = text(doc="The SMTP user name; the password is never in the file.")
    ca_file: Path | None = path(None, doc="A PEM file of a private certificate authority to trust.")
    rate_per_minute: int = whole(30, 1, 60_000, doc="Most messages sent in a minute, by every sender together.")
    rate_per_day: int = whole(500, 1, 1_000_000, doc="Most messages sent in 24 hours, by every sender together.")
    # Planned email cards wait, held, until staff approve them.
    require_approval: bool = flag(False, doc="Planned email cards wait until staff approve them.")


@dataclass(frozen=True, slots=True)
class PrintConfig:
    """Printed cards."""

    paper: Paper = choice(Paper.LETTER, doc="The paper the printer holds.")
    card_format: CardFormat = choice(CardFormat.QUARTER_LETTER, doc="How a card is laid out on the paper.")
    postal_lead_days: int = whole(7, 0, 30, doc="Days a posted card takes to arrive.")
    # The envelope for --envelopes; empty: the one that fits the card format.
    envelope: str = word("", ENVELOPES, doc="The envelope print --envelopes prints; empty: the one that fits.")
    # Days the office mails nothing beyond weekends and public holidays: one date, or a day every year.
    closed_days: tuple[ClosedDay, ...] = special((), doc="Days the office mails nothing, beyond public holidays.")


@dataclass(frozen=True, slots=True)
class Config:
    """The whole, validated configuration."""

    path: Path | None
    office: OfficeConfig = section(OfficeConfig, doc="The office, and the defaults of every office.", required=True)
    database: DatabaseConfig = section(DatabaseConfig, doc="Where the store lives.", required=True)
    imports: ImportConfig = section(ImportConfig, doc="How import files are read.", key="import")
    occasions: OccasionsConfig = section(OccasionsConfig, doc="Which occasions are sent.")
    keep_in_touch: KeepInTouchConfig = section(KeepInTouchConfig, doc="The keep-in-touch promise.")
    email: EmailConfig = section(EmailConfig, doc="How email leaves the office.")
    print: PrintConfig = section(PrintConfig, doc="Printed cards.")
    templates: TemplatesConfig = section(TemplatesConfig, doc="The office's own card templates.")
    # Every office this config serves, ``office`` among them; commands act on ``office`` (--office chooses).
    offices: tuple[OfficeConfig, ...] = special(
        (), doc="Several offices: one [offices.<key>] table each, with the [office] settings that differ."
    )

    def served(self) -> tuple[OfficeConfig, ...]:
        """Return the offices this config serves, in the order written."""
        return self.offices or (self.office,)

    def office_keys(self) -> tuple[str, ...]:
        """Return the keys of the offices served."""
        return tuple(office.key for office in self.served())

    def for_office(self, key: str) -> Config:
        """Return this config acting for one of its offices; raise ConfigError naming the offices if unknown."""
        for office in self.served():
            if office.key == key:
                return replace(self, office=office)
        raise ConfigError(
            f"{self.path or 'the config'}: no office '{key}'; this config serves: {', '.join(self.office_keys())}"
        )


def config_keys() -> tuple[str, ...]:
    """Return the dotted key of every setting of the file, in the order declared."""
    return tuple(declared_keys(Config))

"""Plain records passed between the store, the planner and the commands."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

CHANNELS = ("email", "post", "both")
EVENT_KINDS = ("purchase", "call", "visit", "email", "meeting", "card", "note")
# A note is internal; every other kind reaches the customer and restarts the 70-day clock.
TOUCH_KINDS = tuple(kind for kind in EVENT_KINDS if kind != "note")
EVENT_SOURCES = ("import", "cli", "card")
OPT_FLAGS = ("no_email", "no_post", "no_humor", "do_not_contact")
# The occasions a card has wording for (a birthday sent late uses the belated one).
CARD_OCCASIONS = ("birthday", "birthday_belated", "thanksgiving", "april_fools", "thank_you", "check_in")
# The key of the office of a single-office config, and of every customer not given one.
DEFAULT_OFFICE = "main"
# An office key, as written in [offices.<key>] and in a customer's office column.
OFFICE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
# How staff settle a card whose fate is unknown.
RESOLUTIONS = ("sent", "resend", "cancel")


@dataclass(frozen=True, slots=True)
class Birthday:
    """A birthday; the year is optional."""

    month: int
    day: int
    year: int | None = None

    def __str__(self) -> str:
        """Return ``YYYY-MM-DD``, or ``--MM-DD`` without a year."""
        year = f"{self.year:04d}" if self.year else "-"
        return f"{year}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, slots=True)
class Customer:
    """One customer as stored; ``id`` is the stable external id from the import."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    birthday: Birthday | None = None
    country: str = ""
    subdivision: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    channel: str = "email"
    language: str = ""
    owner: str = ""
    customer_since: dt.date | None = None
    no_email: bool = False
    no_post: bool = False
    no_humor: bool = False
    do_not_contact: bool = False
    notes: str = ""
    added_on: dt.date | None = None
    # Set when the mail server refused the address for good; cleared when the email changes.
    email_bouncing: bool = False
    office: str = DEFAULT_OFFICE

    @property
    def display_name(self) -> str:
        """Return the name to show people: first and last, else the id."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.id

    @property
    def has_postal_address(self) -> bool:
        """Return whether a card can be posted: a street and a city or postal code."""
        return bool(self.street and (self.city or self.postal_code))


@dataclass(frozen=True, slots=True)
class ContactEvent:
    """A contact with a customer: a purchase, a call, a card sent, an internal note."""

    customer_id: str
    occurred_at: dt.datetime
    kind: str
    summary: str = ""
    source: str = "cli"

    @property
    def is_touch(self) -> bool:
        """Return whether the event reached the customer (a note does not)."""
        return self.kind in TOUCH_KINDS


def name_and_id(name: str, customer_id: str) -> str:
    """Return a customer as staff know them: "Name (id)", or the id alone when no other name is on file."""
    return f"{name} ({customer_id})" if name and name != customer_id else customer_id


# The reason ``skip`` records on a card it cancels; the planner then plans no other check-in for that gap.
SKIPPED_BY_STAFF = "skipped by staff"


@dataclass(frozen=True, slots=True)
class Card:
    """A card in the outbox: one customer, occasion, occasion date and channel, in some state."""

    customer_id: str
    occasion: str
    occasion_date: dt.date
    channel: str
    state: str


@dataclass(frozen=True, slots=True)
class Touch:
    """A planned (or, with ``suppressed_reason``, a dropped) card for one customer on one channel."""

    customer_id: str
    occasion: str
    channel: str
    occasion_date: dt.date
    due_date: dt.date
    reason: str
    suppressed_reason: str | None = None
    # A posted card whose mail-by date had passed when it was planned: it goes on the next mail day.
    late: bool = False
    # The day it reaches the customer when that is not its occasion date (a posted card: mail day + lead).
    arrival_date: dt.date | None = None

    @property
    def key(self) -> tuple[str, str, dt.date, str]:
        """Return the outbox key: customer, occasion, occasion date, channel."""
        return (self.customer_id, self.occasion, self.occasion_date, self.channel)

    @property
    def arrives(self) -> dt.date:
        """Return the day the card reaches the customer: the one the 70-day clock and the gaps count."""
        return self.arrival_date or self.occasion_date

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form used by ``plan --json``."""
        data: dict[str, Any] = {
            "customer_id": self.customer_id,
            "occasion": self.occasion,
            "channel": self.channel,
            "occasion_date": self.occasion_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "reason": self.reason,
        }
        if self.suppressed_reason is not None:
            data["suppressed_reason"] = self.suppressed_reason
        if self.late:
            data["late"] = True
        return data

"""Plain records passed between the store, the planner and the commands."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from cardsender.domain.vocabulary import (
    CHANNEL_BY_WORD,
    CHANNEL_PREFERENCE_BY_WORD,
    EVENT_KIND_BY_WORD,
    EVENT_SOURCE_BY_WORD,
    OCCASION_BY_WORD,
    OUTBOX_STATE_BY_WORD,
    Channel,
    ChannelPreference,
    EventKind,
    EventSource,
    Occasion,
    OutboxState,
    Resolution,
    Wording,
)

# The vocabularies' words as plain strings, for click's choices and for messages that list them.
CHANNELS = tuple(preference.value for preference in ChannelPreference)
EVENT_KINDS = tuple(kind.value for kind in EventKind)
# A note is internal; every other kind reaches the customer and restarts the 70-day clock.
TOUCH_KINDS = tuple(kind.value for kind in EventKind if kind.is_touch)
EVENT_SOURCES = tuple(source.value for source in EventSource)
OPT_FLAGS = ("no_email", "no_post", "no_humor", "do_not_contact")
# The occasions a card has wording for (a birthday sent late uses the belated one).
CARD_OCCASIONS = tuple(wording.value for wording in Wording)
# The key of the office of a single-office config, and of every customer not given one.
DEFAULT_OFFICE = "main"
# An office key, as written in [offices.<key>] and in a customer's office column.
OFFICE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
# How staff settle a card whose fate is unknown.
RESOLUTIONS = tuple(resolution.value for resolution in Resolution)


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


@dataclass(frozen=True, slots=True, init=False)
class Customer:
    """One customer as stored; ``id`` is the stable external id from the import."""

    id: str
    first_name: str
    last_name: str
    email: str | None
    birthday: Birthday | None
    country: str
    subdivision: str
    street: str
    city: str
    postal_code: str
    channel: ChannelPreference
    language: str
    owner: str
    customer_since: dt.date | None
    no_email: bool
    no_post: bool
    no_humor: bool
    do_not_contact: bool
    notes: str
    added_on: dt.date | None
    # Set when the mail server refused the address for good; cleared when the email changes.
    email_bouncing: bool
    office: str

    def __init__(
        self,
        id: str,
        first_name: str = "",
        last_name: str = "",
        email: str | None = None,
        birthday: Birthday | None = None,
        country: str = "",
        subdivision: str = "",
        street: str = "",
        city: str = "",
        postal_code: str = "",
        channel: ChannelPreference | str = ChannelPreference.EMAIL,
        language: str = "",
        owner: str = "",
        customer_since: dt.date | None = None,
        no_email: bool = False,
        no_post: bool = False,
        no_humor: bool = False,
        do_not_contact: bool = False,
        notes: str = "",
        added_on: dt.date | None = None,
        email_bouncing: bool = False,
        office: str = DEFAULT_OFFICE,
    ) -> None:
        """Make a customer; the channel may be given as its stored word."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "id", id)
        set_field(self, "first_name", first_name)
        set_field(self, "last_name", last_name)
        set_field(self, "email", email)
        set_field(self, "birthday", birthday)
        set_field(self, "country", country)
        set_field(self, "subdivision", subdivision)
        set_field(self, "street", street)
        set_field(self, "city", city)
        set_field(self, "postal_code", postal_code)
        set_field(self, "channel", CHANNEL_PREFERENCE_BY_WORD.get(channel) or ChannelPreference(channel))
        set_field(self, "language", language)
        set_field(self, "owner", owner)
        set_field(self, "customer_since", customer_since)
        set_field(self, "no_email", no_email)
        set_field(self, "no_post", no_post)
        set_field(self, "no_humor", no_humor)
        set_field(self, "do_not_contact", do_not_contact)
        set_field(self, "notes", notes)
        set_field(self, "added_on", added_on)
        set_field(self, "email_bouncing", email_bouncing)
        set_field(self, "office", office)

    @property
    def display_name(self) -> str:
        """Return the name to show people: first and last, else the id."""
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.id

    @property
    def has_postal_address(self) -> bool:
        """Return whether a card can be posted: a street and a city or postal code."""
        return bool(self.street and (self.city or self.postal_code))

    @property
    def address_lines(self) -> tuple[str, ...]:
        """Return the delivery address lines under the name: street, postal code and city, country."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return tuple(line for line in (self.street, town, self.country) if line)


@dataclass(frozen=True, slots=True, init=False)
class ContactEvent:
    """A contact with a customer: a purchase, a call, a card sent, an internal note."""

    customer_id: str
    occurred_at: dt.datetime
    kind: EventKind
    summary: str
    source: EventSource

    def __init__(
        self,
        customer_id: str,
        occurred_at: dt.datetime,
        kind: EventKind | str,
        summary: str = "",
        source: EventSource | str = EventSource.CLI,
    ) -> None:
        """Make an event; its kind and source may be given as their stored words."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "customer_id", customer_id)
        set_field(self, "occurred_at", occurred_at)
        set_field(self, "kind", EVENT_KIND_BY_WORD.get(kind) or EventKind(kind))
        set_field(self, "summary", summary)
        set_field(self, "source", EVENT_SOURCE_BY_WORD.get(source) or EventSource(source))

    @property
    def is_touch(self) -> bool:
        """Return whether the event reached the customer (a note does not)."""
        return self.kind.is_touch


def name_and_id(name: str, customer_id: str) -> str:
    """Return a customer as staff know them: "Name (id)", or the id alone when no other name is on file."""
    return f"{name} ({customer_id})" if name and name != customer_id else customer_id


# The reason ``skip`` records on a card it cancels; the planner then plans no other check-in for that gap.
SKIPPED_BY_STAFF = "skipped by staff"


class CardKey(NamedTuple):
    """What makes a card one card: the outbox holds at most one under each key."""

    customer_id: str
    occasion: Occasion
    occasion_date: dt.date
    channel: Channel


@dataclass(frozen=True, slots=True, init=False)
class Card:
    """A card in the outbox: one customer, occasion, occasion date and channel, in some state."""

    customer_id: str
    occasion: Occasion
    occasion_date: dt.date
    channel: Channel
    state: OutboxState
    # A check-in staff skipped (stored as cancelled, "skipped by staff"): it settles its gap, and no other
    # check-in is planned for the same last contact.
    skipped_by_staff: bool

    def __init__(
        self,
        customer_id: str,
        occasion: Occasion | str,
        occasion_date: dt.date,
        channel: Channel | str,
        state: OutboxState | str,
        skipped_by_staff: bool = False,
    ) -> None:
        """Make a card; its occasion, channel and state may be given as their stored words."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "customer_id", customer_id)
        set_field(self, "occasion", OCCASION_BY_WORD.get(occasion) or Occasion(occasion))
        set_field(self, "occasion_date", occasion_date)
        set_field(self, "channel", CHANNEL_BY_WORD.get(channel) or Channel(channel))
        set_field(self, "state", OUTBOX_STATE_BY_WORD.get(state) or OutboxState(state))
        set_field(self, "skipped_by_staff", skipped_by_staff)

    @property
    def key(self) -> CardKey:
        """Return the outbox key of the card."""
        return CardKey(self.customer_id, self.occasion, self.occasion_date, self.channel)


@dataclass(frozen=True, slots=True, init=False)
class Touch:
    """A planned (or, with ``suppressed_reason``, a dropped) card for one customer on one channel."""

    customer_id: str
    occasion: Occasion
    channel: Channel
    occasion_date: dt.date
    due_date: dt.date
    reason: str
    suppressed_reason: str | None
    # A posted card whose mail-by date had passed when it was planned: it goes on the next mail day.
    late: bool
    # The day it reaches the customer when that is not its occasion date (a posted card: mail day + lead).
    arrival_date: dt.date | None

    def __init__(
        self,
        customer_id: str,
        occasion: Occasion | str,
        channel: Channel | str,
        occasion_date: dt.date,
        due_date: dt.date,
        reason: str,
        suppressed_reason: str | None = None,
        late: bool = False,
        arrival_date: dt.date | None = None,
    ) -> None:
        """Make a touch; its occasion and channel may be given as their stored words."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "customer_id", customer_id)
        set_field(self, "occasion", OCCASION_BY_WORD.get(occasion) or Occasion(occasion))
        set_field(self, "channel", CHANNEL_BY_WORD.get(channel) or Channel(channel))
        set_field(self, "occasion_date", occasion_date)
        set_field(self, "due_date", due_date)
        set_field(self, "reason", reason)
        set_field(self, "suppressed_reason", suppressed_reason)
        set_field(self, "late", late)
        set_field(self, "arrival_date", arrival_date)

    @property
    def key(self) -> CardKey:
        """Return the outbox key: customer, occasion, occasion date, channel."""
        return CardKey(self.customer_id, self.occasion, self.occasion_date, self.channel)

    @property
    def arrives(self) -> dt.date:
        """Return the day the card reaches the customer: the one the 70-day clock and the gaps count."""
        return self.arrival_date or self.occasion_date

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form used by ``plan --json``."""
        data: dict[str, Any] = {
            "customer_id": self.customer_id,
            "occasion": self.occasion.value,
            "channel": self.channel.value,
            "occasion_date": self.occasion_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "reason": self.reason,
        }
        if self.suppressed_reason is not None:
            data["suppressed_reason"] = self.suppressed_reason
        if self.late:
            data["late"] = True
        return data

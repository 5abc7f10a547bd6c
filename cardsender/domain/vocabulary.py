"""The product's words as types: each vocabulary is one enum, so mypy checks every comparison.

The values are the words stored in the database and printed in JSON; they never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar


class CardFormat(StrEnum):
    """How a posted card is laid out on paper."""

    QUARTER_LETTER = "quarter-letter"
    QUARTER_A4 = "quarter-a4"
    HALF_DUPLEX = "half-duplex"
    POSTCARD = "postcard"


class Paper(StrEnum):
    """The paper the office printer holds."""

    LETTER = "letter"
    A4 = "a4"


class Occasion(StrEnum):
    """An occasion the planner plans a card for, in the order two colliding cards are settled."""

    BIRTHDAY = "birthday"
    THANK_YOU = "thank_you"
    THANKSGIVING = "thanksgiving"
    APRIL_FOOLS = "april_fools"
    CHECK_IN = "check_in"


class Wording(StrEnum):
    """The wording a card is written in: its occasion's, or for a birthday sent late the belated one."""

    BIRTHDAY = "birthday"
    BIRTHDAY_BELATED = "birthday_belated"
    THANKSGIVING = "thanksgiving"
    APRIL_FOOLS = "april_fools"
    THANK_YOU = "thank_you"
    CHECK_IN = "check_in"

    @property
    def occasion(self) -> Occasion:
        """Return the occasion the wording is for (a belated birthday is a birthday)."""
        return Occasion.BIRTHDAY if self is Wording.BIRTHDAY_BELATED else Occasion(self.value)

    @classmethod
    def of(cls, occasion: Occasion, late: bool) -> Wording:
        """Return the wording of a card for an occasion, sent after its day when ``late``."""
        return cls.BIRTHDAY_BELATED if late and occasion is Occasion.BIRTHDAY else cls(occasion.value)


class Channel(StrEnum):
    """The way one card goes out."""

    EMAIL = "email"
    POST = "post"


class ChannelPreference(StrEnum):
    """How a customer likes to get cards: by email, by post, or both."""

    EMAIL = "email"
    POST = "post"
    BOTH = "both"

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Return the channels a card is sent on, email first."""
        return _PREFERRED_CHANNELS[self]


# What each preference sends on, made once: the planner asks for every customer on every day it plans.
_PREFERRED_CHANNELS = {
    ChannelPreference.EMAIL: (Channel.EMAIL,),
    ChannelPreference.POST: (Channel.POST,),
    ChannelPreference.BOTH: (Channel.EMAIL, Channel.POST),
}


class EventKind(StrEnum):
    """What kind of contact an event of a customer's history was."""

    PURCHASE = "purchase"
    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    MEETING = "meeting"
    CARD = "card"
    NOTE = "note"

    @property
    def is_touch(self) -> bool:
        """Return whether the contact reached the customer: every kind but an internal note does."""
        return self is not EventKind.NOTE


class EventSource(StrEnum):
    """Where an event of the history came from."""

    IMPORT = "import"
    CLI = "cli"
    CARD = "card"  # written by cardsender when a card went out


class OutboxState(StrEnum):
    """Where a card of the outbox is on its way; ``OUTBOX_MOVES`` says where it may go next."""

    PENDING = "pending"  # to send (or print)
    HELD = "held"  # waiting for a note, for approval, or for someone to fix what stopped it
    SENDING = "sending"  # claimed by a service; committed before the server is contacted
    SENT = "sent"
    FAILED = "failed"
    # The connection was lost after the message was handed over: it most likely arrived, and is never
    # resent automatically.
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"
    PRINTED = "printed"  # a posted card printed in a batch, not yet mailed
    MAILED = "mailed"


# Which state a card may move to from each state; a card is added to the outbox as pending or held.
OUTBOX_MOVES: Mapping[OutboxState, frozenset[OutboxState]] = MappingProxyType(
    {
        # claimed; expired; printed; held when its posted card cannot be printed; skipped by staff
        OutboxState.PENDING: frozenset(
            {OutboxState.SENDING, OutboxState.FAILED, OutboxState.PRINTED, OutboxState.HELD, OutboxState.CANCELLED}
        ),
        # approved, or its note was written; skipped by staff
        OutboxState.HELD: frozenset({OutboxState.PENDING, OutboxState.CANCELLED}),
        # every way a claimed card can end, and back to pending when it never reached the server
        OutboxState.SENDING: frozenset(
            {
                OutboxState.PENDING,
                OutboxState.SENT,
                OutboxState.FAILED,
                OutboxState.UNKNOWN,
                OutboxState.HELD,
                OutboxState.CANCELLED,
            }
        ),
        OutboxState.SENT: frozenset({OutboxState.FAILED}),  # the address bounced
        # bounced; or settled by staff: confirmed sent, sent again, cancelled
        OutboxState.UNKNOWN: frozenset(
            {OutboxState.FAILED, OutboxState.SENT, OutboxState.PENDING, OutboxState.CANCELLED}
        ),
        # mailed; or spoiled, to print again
        OutboxState.PRINTED: frozenset({OutboxState.PENDING, OutboxState.MAILED}),
        OutboxState.FAILED: frozenset(),
        OutboxState.CANCELLED: frozenset(),
        OutboxState.MAILED: frozenset(),
    }
)

# A card in one of these states waits to go out: it may still be planned again, or cancelled.
WAITING_STATES = frozenset({OutboxState.PENDING, OutboxState.HELD})
# A card in one of these states has gone out, is going now, or most likely went (unknown): it holds its day
# for the min gap, and its wording counts as used.
GONE_OUT_STATES = frozenset(
    {OutboxState.SENDING, OutboxState.SENT, OutboxState.UNKNOWN, OutboxState.PRINTED, OutboxState.MAILED}
)


class Resolution(StrEnum):
    """How staff settle a card whose fate is unknown."""

    SENT = "sent"  # it arrived: record it as sent
    RESEND = "resend"  # it did not: send it again
    CANCEL = "cancel"


class Delivery(StrEnum):
    """What became of one message handed to a transport."""

    SENT = "sent"
    RETRY = "retry"  # refused for now: try again later
    FAILED = "failed"  # refused for good
    UNKNOWN = "unknown"  # the connection was lost after the message was handed over
    HELD = "held"  # this server cannot take the message at all (it needs SMTPUTF8)


class Preparation(StrEnum):
    """Whether a claimed card's message was made ready to send, or is held."""

    SEND = "send"
    HELD = "held"


class DryRun(StrEnum):
    """What a dry run says would become of a due card."""

    WOULD_SEND = "would-send"
    WOULD_HOLD = "would-hold"


class PreviewFormat(StrEnum):
    """How ``preview`` shows a card: the email's text or html, the whole message, or the printed card."""

    TEXT = "text"
    HTML = "html"
    EML = "eml"
    PDF = "pdf"
    PNG = "png"


# The longest range of days planned or forecast at once: ten years is far beyond any useful plan, and keeps a
# typo from running for hours.
MAX_RANGE_DAYS = 3660


_E = TypeVar("_E", bound=StrEnum)


def members_by_word(kind: type[_E]) -> dict[str, _E]:
    """Return an enum's members by their words: a lookup that takes a word or a member alike.

    Records read from the store turn each stored word into its member; calling the enum on Python 3.11
    costs ten times this lookup, and the planner makes such records by the hundred thousand.
    """
    return {member.value: member for member in kind}


# Each vocabulary's members by their stored words, made once for every record that reads the store.
CHANNEL_BY_WORD = members_by_word(Channel)
CHANNEL_PREFERENCE_BY_WORD = members_by_word(ChannelPreference)
DELIVERY_BY_WORD = members_by_word(Delivery)
EVENT_KIND_BY_WORD = members_by_word(EventKind)
EVENT_SOURCE_BY_WORD = members_by_word(EventSource)
OCCASION_BY_WORD = members_by_word(Occasion)
OUTBOX_STATE_BY_WORD = members_by_word(OutboxState)

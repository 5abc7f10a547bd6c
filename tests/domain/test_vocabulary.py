"""The vocabulary: each enum's words are the ones stored and printed, and the occasion table describes them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import pytest

from cardsender.domain import records
from cardsender.domain.occasions import ACCENTS, DEFAULT_ACCENT, OCCASION_TABLE, accent_of, occasion_label
from cardsender.domain.records import Card, CardKey, ContactEvent, Customer, Touch
from cardsender.domain.vocabulary import (
    GONE_OUT_STATES,
    WAITING_STATES,
    Channel,
    ChannelPreference,
    Delivery,
    DryRun,
    EventKind,
    EventSource,
    Occasion,
    OutboxState,
    Preparation,
    Resolution,
    Wording,
)
from cardsender.planning import dates

DAY = dt.date(2026, 3, 3)


@pytest.mark.parametrize(
    ("enum", "words"),
    [
        (Occasion, ["birthday", "thank_you", "thanksgiving", "april_fools", "check_in"]),
        (Wording, ["birthday", "birthday_belated", "thanksgiving", "april_fools", "thank_you", "check_in"]),
        (Channel, ["email", "post"]),
        (ChannelPreference, ["email", "post", "both"]),
        (EventKind, ["purchase", "call", "visit", "email", "meeting", "card", "note"]),
        (EventSource, ["import", "cli", "card"]),
        (
            OutboxState,
            ["pending", "held", "sending", "sent", "failed", "unknown", "cancelled", "printed", "mailed"],
        ),
        (Resolution, ["sent", "resend", "cancel"]),
        (Delivery, ["sent", "retry", "failed", "unknown", "held"]),
        (Preparation, ["send", "held"]),
        (DryRun, ["would-send", "would-hold"]),
    ],
)
def test_each_enum_holds_the_stored_words_in_order(enum: type[StrEnum], words: list[str]) -> None:
    """An enum's values are the words the database and the JSON hold, in the order lists show them."""
    assert [member.value for member in enum] == words
    assert all(member == member.value and str(member) == member.value for member in enum)


def test_the_old_word_lists_are_derived_from_the_enums() -> None:
    """The lists the CLI and the messages use are the enums' words, as plain strings."""
    assert records.CHANNELS == ("email", "post", "both")
    assert records.EVENT_KINDS == ("purchase", "call", "visit", "email", "meeting", "card", "note")
    assert records.TOUCH_KINDS == ("purchase", "call", "visit", "email", "meeting", "card")
    assert records.EVENT_SOURCES == ("import", "cli", "card")
    assert records.CARD_OCCASIONS == (
        "birthday",
        "birthday_belated",
        "thanksgiving",
        "april_fools",
        "thank_you",
        "check_in",
    )
    assert records.RESOLUTIONS == ("sent", "resend", "cancel")
    assert all(type(word) is str for word in (*records.CHANNELS, *records.CARD_OCCASIONS, *records.RESOLUTIONS))


def test_a_belated_birthday_is_a_wording_of_a_birthday() -> None:
    """Every wording names its occasion, and only a birthday sent after its day is worded belated."""
    assert {wording: wording.occasion for wording in Wording} == {
        Wording.BIRTHDAY: Occasion.BIRTHDAY,
        Wording.BIRTHDAY_BELATED: Occasion.BIRTHDAY,
        Wording.THANKSGIVING: Occasion.THANKSGIVING,
        Wording.APRIL_FOOLS: Occasion.APRIL_FOOLS,
        Wording.THANK_YOU: Occasion.THANK_YOU,
        Wording.CHECK_IN: Occasion.CHECK_IN,
    }
    assert Wording.of(Occasion.BIRTHDAY, late=True) is Wording.BIRTHDAY_BELATED
    assert Wording.of(Occasion.BIRTHDAY, late=False) is Wording.BIRTHDAY
    assert Wording.of(Occasion.CHECK_IN, late=True) is Wording.CHECK_IN


def test_a_preference_names_the_channels_a_card_goes_on() -> None:
    """Both means email and post, email first; the others mean their one channel."""
    assert [p.channels for p in ChannelPreference] == [(Channel.EMAIL,), (Channel.POST,), (Channel.EMAIL, Channel.POST)]


def test_only_a_note_is_not_a_touch() -> None:
    """Every kind of contact but an internal note reached the customer."""
    assert [kind for kind in EventKind if not kind.is_touch] == [EventKind.NOTE]


def test_waiting_and_gone_out_states_do_not_overlap() -> None:
    """A card waits (pending, held) or has gone out (sending, sent, unknown, printed, mailed), never both."""
    assert sorted(WAITING_STATES) == ["held", "pending"]
    assert sorted(GONE_OUT_STATES) == ["mailed", "printed", "sending", "sent", "unknown"]
    assert not WAITING_STATES & GONE_OUT_STATES


def test_the_occasion_table_describes_every_occasion() -> None:
    """Each occasion's label, rank, datedness, humour and colour are as people and the planner know them."""
    assert list(OCCASION_TABLE) == list(Occasion)
    rows = [(t.occasion, t.label, t.rank, t.dated, t.humorous, t.accent) for t in OCCASION_TABLE.values()]
    assert rows == [
        (Occasion.BIRTHDAY, "Birthday", 0, True, False, "#d9534f"),
        (Occasion.THANK_YOU, "Thank-you", 1, True, False, "#4a6fa5"),
        (Occasion.THANKSGIVING, "Thanksgiving", 2, True, False, "#b8692a"),
        (Occasion.APRIL_FOOLS, "April Fool's", 3, True, True, "#2f9c8f"),
        (Occasion.CHECK_IN, "Check-in", 4, False, False, "#5b8c5a"),
    ]


def test_the_planner_reads_its_order_from_the_table() -> None:
    """The planner's occasions, dated occasions and priorities follow the table's ranks."""
    assert dates.OCCASIONS == ("birthday", "thank_you", "thanksgiving", "april_fools", "check_in")
    assert dates.DATED_OCCASIONS == ("birthday", "thank_you", "thanksgiving", "april_fools")
    assert dict(dates.PRIORITY) == {"birthday": 0, "thank_you": 1, "thanksgiving": 2, "april_fools": 3, "check_in": 4}


def test_labels_come_from_the_table_and_other_words_are_made_readable() -> None:
    """An occasion's label is the table's; a word outside it is shown with spaces and a capital."""
    assert [occasion_label(o) for o in Occasion] == [
        "Birthday",
        "Thank-you",
        "Thanksgiving",
        "April Fool's",
        "Check-in",
    ]
    assert occasion_label("thank_you") == "Thank-you"
    assert occasion_label("birthday_belated") == "Birthday belated"
    assert occasion_label("anniversary_card") == "Anniversary card"


def test_every_wording_has_its_accent() -> None:
    """A card's band is its occasion's colour; a belated birthday has its own."""
    assert dict(ACCENTS) == {
        "birthday": "#d9534f",
        "birthday_belated": "#c8607a",
        "thanksgiving": "#b8692a",
        "april_fools": "#2f9c8f",
        "thank_you": "#4a6fa5",
        "check_in": "#5b8c5a",
    }
    assert accent_of(Wording.BIRTHDAY_BELATED) == "#c8607a"
    assert DEFAULT_ACCENT == "#4a6fa5"


def test_records_turn_stored_words_into_members() -> None:
    """Records made from the stored words hold enum members, and equal the records made from members."""
    card = Card("c1", "birthday", DAY, "email", "sent")
    assert (type(card.occasion), type(card.channel), type(card.state)) == (Occasion, Channel, OutboxState)
    assert card == Card("c1", Occasion.BIRTHDAY, DAY, Channel.EMAIL, OutboxState.SENT)
    event = ContactEvent("c1", dt.datetime(2026, 3, 3, 9, 0), "purchase", "Road bike", "import")
    assert (event.kind, event.source) == (EventKind.PURCHASE, EventSource.IMPORT)
    assert type(event.kind) is EventKind and event.is_touch
    assert Customer("c1", channel="both").channel is ChannelPreference.BOTH
    assert Customer("c1").channel is ChannelPreference.EMAIL


def test_a_stored_word_outside_the_vocabulary_is_refused() -> None:
    """A record given a word no enum holds raises at once instead of carrying it on."""
    with pytest.raises(ValueError, match="'pendng' is not a valid OutboxState"):
        Card("c1", "birthday", DAY, "email", "pendng")


def test_a_touch_and_a_card_share_one_key() -> None:
    """A planned touch and the outbox card it becomes have the same CardKey."""
    touch = Touch("c1", "check_in", "post", DAY, DAY, "keeps the 70-day promise")
    assert touch.key == CardKey("c1", Occasion.CHECK_IN, DAY, Channel.POST)
    assert touch.key == Card("c1", "check_in", DAY, "post", "pending").key
    assert touch.key == ("c1", "check_in", DAY, "post")
    assert CardKey._fields == ("customer_id", "occasion", "occasion_date", "channel")

"""The occasion table: what each occasion is called, how it ranks, whether it is dated or humorous, its colour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cardsender.domain.vocabulary import Occasion, Wording

# The band of a card whose wording has no colour of its own.
DEFAULT_ACCENT = "#4a6fa5"


@dataclass(frozen=True, slots=True)
class OccasionTraits:
    """One occasion as every part of cardsender sees it."""

    occasion: Occasion
    label: str  # as a heading shows it
    rank: int  # when two dated cards collide, the lower rank is settled first and wins
    dated: bool  # falls on a day of the year (a check-in falls when a customer is due one)
    humorous: bool  # never sent to a customer who asked for no humour
    accent: str  # the colour of the band at the top of the card
    belated_accent: str | None = None  # the band of the card sent after the day, when it has its own wording


OCCASION_TABLE: Mapping[Occasion, OccasionTraits] = MappingProxyType(
    {
        traits.occasion: traits
        for traits in (
            OccasionTraits(Occasion.BIRTHDAY, "Birthday", 0, True, False, "#d9534f", belated_accent="#c8607a"),
            OccasionTraits(Occasion.THANK_YOU, "Thank-you", 1, True, False, "#4a6fa5"),
            OccasionTraits(Occasion.THANKSGIVING, "Thanksgiving", 2, True, False, "#b8692a"),
            OccasionTraits(Occasion.APRIL_FOOLS, "April Fool's", 3, True, True, "#2f9c8f"),
            OccasionTraits(Occasion.CHECK_IN, "Check-in", 4, False, False, "#5b8c5a"),
        )
    }
)

# Each occasion's label, by its stored name.
OCCASION_LABELS: Mapping[str, str] = MappingProxyType({o.value: traits.label for o, traits in OCCASION_TABLE.items()})


def occasion_label(occasion: str) -> str:
    """Return an occasion's name as a heading shows it; a word outside the table is made readable."""
    if occasion in OCCASION_TABLE:
        return OCCASION_TABLE[Occasion(occasion)].label
    return occasion.replace("_", " ").capitalize()


def accent_of(wording: Wording) -> str:
    """Return the colour of the band at the top of a card in a wording."""
    traits = OCCASION_TABLE[wording.occasion]
    if wording is Wording.BIRTHDAY_BELATED and traits.belated_accent is not None:
        return traits.belated_accent
    return traits.accent


# The band of each wording, by its stored name, as the card templates read it.
ACCENTS: Mapping[str, str] = MappingProxyType({wording.value: accent_of(wording) for wording in Wording})

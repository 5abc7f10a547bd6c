"""The product's words as types: each vocabulary is one enum, so mypy checks every comparison."""

from __future__ import annotations

from enum import StrEnum


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

"""A customer's file: everything one of their cards is made from, read once for a batch of cards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cardsender.domain.records import ContactEvent, Customer


@dataclass(frozen=True, slots=True)
class WaitingNote:
    """A personal note waiting for the customer's next card of one occasion, or of any (None)."""

    occasion: str | None
    text: str


@dataclass(frozen=True, slots=True)
class SentWording:
    """The wording variant one of the customer's cards went out in (or most likely did)."""

    occasion: str
    occasion_date: dt.date
    row: int
    variant: str


@dataclass(frozen=True, slots=True)
class CustomerFile:
    """One customer as their cards need them: the record, the history, the notes waiting and the wordings sent.

    ``history`` is oldest first; ``notes`` oldest first (the next card takes the first that fits);
    ``sent`` by occasion date, then outbox row.
    """

    row: int  # the customer's row id in the store
    customer: Customer
    history: tuple[ContactEvent, ...] = ()
    notes: tuple[WaitingNote, ...] = ()
    sent: tuple[SentWording, ...] = ()

    def next_note(self, occasion: str) -> str:
        """Return the note the next card of ``occasion`` carries: the oldest for that occasion or for any, or ""."""
        return next((note.text for note in self.notes if note.occasion in (None, occasion)), "")

    def variants_sent(self, occasion: str) -> list[str]:
        """Return the wording variants of the customer's cards of an occasion that went out, oldest first."""
        return [sent.variant for sent in self.sent if sent.occasion == occasion]

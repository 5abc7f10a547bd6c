"""Library functions about one customer that hold no I/O: years as a customer."""

from __future__ import annotations

import datetime as dt

import pytest

from cardsender.cards.context import years_as_customer
from cardsender.domain.records import Customer

d = dt.date


@pytest.mark.parametrize(
    ("since", "first_contact", "added_on", "years"),
    [
        (d(2020, 3, 15), d(2010, 1, 1), d(2026, 1, 5), 6),  # customer_since wins over the history
        (d(2020, 3, 16), None, None, 5),  # a day short of six years
        (None, d(2023, 3, 15), d(2026, 1, 5), 3),  # else the earliest contact
        (None, None, d(2024, 3, 16), 1),  # else the day the customer was added
        (None, None, d(2026, 1, 5), 0),
        (d(2027, 1, 1), None, None, 0),  # a date in the future counts as none yet
        (None, None, None, 0),
    ],
)
def test_years_as_customer_counts_whole_years(
    since: dt.date | None, first_contact: dt.date | None, added_on: dt.date | None, years: int
) -> None:
    """Years count from customer_since, else the earliest contact, else the day added, in whole years."""
    customer = Customer("C1", customer_since=since, added_on=added_on)
    assert years_as_customer(customer, first_contact, d(2026, 3, 15)) == years

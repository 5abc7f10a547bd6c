"""What is due, who to call, what the coming months look like, and how well customers are covered.

These are the library functions behind ``plan``, ``calls``, ``forecast`` and
``report``; the service calls the same ones.  They read the store once and
hand the facts to the pure planner.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cardsender.config import Config
from cardsender.planner import (
    TOUCH_STATES,
    CustomerFacts,
    DueFilter,
    Touch,
    clock_start,
    due_filter,
    last_touch,
    plan_customer,
    simulate,
)
from cardsender.store import Store
from cardsender.store.planning import cards_between, load_facts

DAY = dt.timedelta(days=1)


def _sort_key(touch: Touch) -> tuple[dt.date, str, str, str]:
    return (touch.due_date, touch.customer_id, touch.occasion, touch.channel)


def load_all_facts(store: Store, config: Config, today: dt.date, only: DueFilter | None = None) -> list[CustomerFacts]:
    """Read every customer's planning facts as of today (with ``only``, those who may have a card due)."""
    with store.begin() as conn:
        return list(load_facts(conn, config, today, only))


def plan_touches(store: Store, config: Config, first: dt.date, days: int = 1, *, explain: bool = False) -> list[Touch]:
    """Return the touches due from ``first`` for ``days`` days, each as if sent on its due date.

    With ``explain``, suppressed and missed touches are included, with their reasons.
    """
    # One day's plan only needs the customers who can have a card due that day.
    only = due_filter(first, config) if days == 1 and not explain else None
    facts = load_all_facts(store, config, first, only)
    return plan_from_facts(facts, config, first, days, explain=explain)


def plan_from_facts(
    facts: Iterable[CustomerFacts], config: Config, first: dt.date, days: int = 1, *, explain: bool = False
) -> list[Touch]:
    """Return the touches of ``plan_touches`` for facts already read."""
    last = first + (days - 1) * DAY
    touches: list[Touch] = []
    for customer in facts:
        if days == 1:
            schedule = plan_customer(customer, first, config)
            touches += schedule.due(first)
            if explain:
                touches += [t for t in schedule.suppressed if t.due_date <= last]
                touches += schedule.missed
        else:
            result = simulate(customer, first, last, config)
            touches += result.sent
            if explain:
                touches += result.suppressed + result.missed
    return sorted(touches, key=_sort_key)


@dataclass(frozen=True, slots=True)
class CallEntry:
    """A customer staff should call: untouched for call_after_days or more, or with a card held for review."""

    customer_id: str
    name: str
    owner: str
    last_contact: dt.date | None
    days_since_contact: int
    overdue: bool
    card_held: bool = False
    card_failed: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form used by ``calls --json``."""
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "owner": self.owner,
            "last_contact": self.last_contact.isoformat() if self.last_contact else None,
            "days_since_contact": self.days_since_contact,
            "overdue": self.overdue,
            "card_held": self.card_held,
            "card_failed": self.card_failed,
        }


def calls_from_facts(facts: Iterable[CustomerFacts], config: Config, today: dt.date) -> list[CallEntry]:
    """Return the call list, grouped by owner, longest untouched first."""
    kit = config.keep_in_touch
    entries: list[CallEntry] = []
    for customer in facts:
        if customer.do_not_contact or customer.added_on > today:
            continue
        touched = last_touch(customer, today)
        days = (today - (touched or customer.added_on)).days
        # A card held for review is not going out: staff call at once, so the 70-day promise holds.
        held = any(card.state == "held" for card in customer.cards)
        # A card that failed (a refused or bounced address) did not reach them either.
        recent = today - dt.timedelta(days=kit.max_gap_days)
        failed = any(card.state == "failed" and card.occasion_date >= recent for card in customer.cards)
        if days >= kit.call_after_days or held or failed:
            overdue = days > kit.max_gap_days
            entries.append(
                CallEntry(customer.customer_id, customer.name, customer.owner, touched, days, overdue, held, failed)
            )
    return sorted(entries, key=lambda e: (e.owner.casefold(), -e.days_since_contact, e.name.casefold()))


def call_list(store: Store, config: Config, today: dt.date) -> list[CallEntry]:
    """Return today's call list."""
    return calls_from_facts(load_all_facts(store, config, today), config, today)


@dataclass(frozen=True, slots=True)
class CustomerForecast:
    """One customer over the forecast range."""

    customer_id: str
    contactable: bool
    touches: int
    max_gap_days: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form used by ``forecast --json``."""
        return {
            "customer_id": self.customer_id,
            "contactable": self.contactable,
            "touches": self.touches,
            "max_gap_days": self.max_gap_days,
        }


@dataclass(frozen=True, slots=True)
class Forecast:
    """Every day of a range simulated: the touches, each customer's longest gap, and a summary."""

    first: dt.date
    last: dt.date
    limit_days: int
    touches: list[Touch]
    customers: list[CustomerForecast]

    @property
    def contactable(self) -> list[CustomerForecast]:
        """Return the customers cards can reach."""
        return [c for c in self.customers if c.contactable]

    @property
    def over_limit(self) -> list[CustomerForecast]:
        """Return the contactable customers with a gap longer than the limit."""
        return [c for c in self.contactable if c.max_gap_days > self.limit_days]

    def cards_per_month(self) -> dict[str, dict[str, int]]:
        """Return the number of cards per occasion in each month (by due date)."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for touch in self.touches:
            counts[touch.due_date.strftime("%Y-%m")][touch.occasion] += 1
        return {month: dict(sorted(counter.items())) for month, counter in sorted(counts.items())}

    def cards_per_day(self) -> dict[dt.date, int]:
        """Return the number of cards due on each day of the range."""
        counts = Counter(touch.due_date for touch in self.touches)
        return {day: counts.get(day, 0) for day in _days(self.first, self.last)}

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form used by ``forecast --json``."""
        contactable = self.contactable
        return {
            "touches": [t.to_json() for t in self.touches],
            "customers": [c.to_json() for c in self.customers],
            "summary": {
                "from": self.first.isoformat(),
                "to": self.last.isoformat(),
                "max_gap_days": max((c.max_gap_days for c in contactable), default=0),
                "customers_over_limit": len(self.over_limit),
                "cards_per_month": self.cards_per_month(),
            },
        }


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + n * DAY for n in range((last - first).days + 1)]


def longest_gap(start: dt.date, touch_days: Sequence[dt.date], last: dt.date) -> int:
    """Return the longest stretch without a touch from ``start`` (the last touch before) to ``last``."""
    longest = 0
    previous = start
    for day in sorted(d for d in touch_days if start < d <= last):
        longest = max(longest, (day - previous).days)
        previous = day
    return max(longest, (last - previous).days)


def forecast_from_facts(facts: Iterable[CustomerFacts], config: Config, first: dt.date, last: dt.date) -> Forecast:
    """Simulate every day from ``first`` to ``last`` as if each planned card went out on its due date."""
    touches: list[Touch] = []
    customers: list[CustomerForecast] = []
    for customer in facts:
        result = simulate(customer, first, last, config)
        touches += result.sent
        start = clock_start(customer, first)
        gap = longest_gap(start, [t.occasion_date for t in result.sent], last)
        units = {(t.occasion, t.occasion_date) for t in result.sent}
        customers.append(CustomerForecast(customer.customer_id, customer.contactable, len(units), gap))
    customers.sort(key=lambda c: c.customer_id)
    return Forecast(first, last, config.keep_in_touch.max_gap_days, sorted(touches, key=_sort_key), customers)


def forecast(store: Store, config: Config, first: dt.date, last: dt.date) -> Forecast:
    """Simulate the range for every customer."""
    return forecast_from_facts(load_all_facts(store, config, first), config, first, last)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """How well customers are kept in touch, as of one day."""

    on: dt.date
    contactable: int
    touched_within_limit: int
    at_risk: list[CallEntry]
    overdue: list[CallEntry]
    breaches_next_14_days: list[str]
    cards_this_month: dict[str, int] = field(default_factory=dict)
    cards_this_year: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Return the share of contactable customers touched within the limit."""
        return self.touched_within_limit / self.contactable if self.contactable else 1.0

    @property
    def coverage_percent(self) -> int:
        """Return the coverage as a whole percentage, rounded down: 99.6% must not read as a kept promise."""
        return self.touched_within_limit * 100 // self.contactable if self.contactable else 100

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form used by ``report --json``."""
        return {
            "on": self.on.isoformat(),
            "contactable": self.contactable,
            "touched_within_limit": self.touched_within_limit,
            "coverage": round(self.coverage, 4),
            "at_risk": [e.to_json() for e in self.at_risk],
            "overdue": [e.to_json() for e in self.overdue],
            "breaches_next_14_days": self.breaches_next_14_days,
            "cards_this_month": self.cards_this_month,
            "cards_this_year": self.cards_this_year,
        }


def coverage_report(store: Store, config: Config, today: dt.date) -> CoverageReport:
    """Return the owner's coverage report as of today."""
    facts = load_all_facts(store, config, today)
    limit = config.keep_in_touch.max_gap_days
    contactable = [f for f in facts if f.contactable and f.added_on <= today]
    within = sum(1 for f in contactable if (today - clock_start(f, today)).days <= limit)
    calls = calls_from_facts(facts, config, today)
    ahead = forecast_from_facts(contactable, config, today, today + 13 * DAY)
    with store.begin() as conn:
        year_cards = cards_between(conn, dt.date(today.year, 1, 1), today, TOUCH_STATES, config.office.key)
    return CoverageReport(
        on=today,
        contactable=len(contactable),
        touched_within_limit=within,
        at_risk=[e for e in calls if not e.overdue and e.days_since_contact >= config.keep_in_touch.call_after_days],
        overdue=[e for e in calls if e.overdue],
        breaches_next_14_days=[c.customer_id for c in ahead.over_limit],
        cards_this_month=dict(Counter(c.occasion for c in year_cards if c.occasion_date.month == today.month)),
        cards_this_year=dict(Counter(c.occasion for c in year_cards)),
    )

"""What is due, who to call, what the coming months look like, and how well customers are covered.

These are the library functions behind ``plan``, ``calls``, ``forecast`` and
``report``; the service calls the same ones.  They read the store once and
hand the facts to the pure planner.

Every count of cards (the report's, the digest's and the forecast's) comes from
``cards_reaching``: the outbox's cards in the given states, plus the ``card``
events of the history that the outbox does not explain (cards written by hand
before cardsender, or logged by staff).  A card counts on its occasion date, the
day it reaches the customer, which for a posted card is its arrival, not its mail day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from cardsender.config.model import Config
from cardsender.domain.records import Touch, name_and_id
from cardsender.domain.vocabulary import Channel, EventKind, EventSource, Occasion, OutboxState
from cardsender.planning.dates import OCCASIONS
from cardsender.planning.facts import load_facts
from cardsender.planning.planner import (
    FIXED_STATES,
    TOUCH_STATES,
    CustomerFacts,
    DueFilter,
    clock_start,
    due_filter,
    last_touch,
    plan_customer,
    simulate,
)
from cardsender.store import Store
from cardsender.store.schema import contact_events, customers, outbox

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
        held = any(card.state is OutboxState.HELD for card in customer.cards)
        # A card that failed (a refused or bounced address) did not reach them either.
        recent = today - dt.timedelta(days=kit.max_gap_days)
        failed = any(card.state is OutboxState.FAILED and card.occasion_date >= recent for card in customer.cards)
        if days >= kit.call_after_days or held or failed:
            overdue = days > kit.max_gap_days
            entries.append(
                CallEntry(customer.customer_id, customer.name, customer.owner, touched, days, overdue, held, failed)
            )
    return sorted(entries, key=lambda e: (e.owner.casefold(), -e.days_since_contact, e.name.casefold()))


def call_list(store: Store, config: Config, today: dt.date) -> list[CallEntry]:
    """Return today's call list."""
    return calls_from_facts(load_all_facts(store, config, today), config, today)


# A card event of the history names its occasion only in words: the first of these found in its summary
# gives it (Thanksgiving before thank-you, whose words it holds); one naming none counts as another card.
HISTORY_OCCASION_WORDS = (
    ("thanksgiving", Occasion.THANKSGIVING),
    ("birthday", Occasion.BIRTHDAY),
    ("thank", Occasion.THANK_YOU),
    ("april", Occasion.APRIL_FOOLS),
    ("fool", Occasion.APRIL_FOOLS),
    ("check-in", Occasion.CHECK_IN),
    ("check in", Occasion.CHECK_IN),
)
OTHER_CARD = "other"
# Where a counted card was found.
FROM_OUTBOX, FROM_HISTORY = "outbox", "history"
# The source of the card events cardsender writes itself, each with its outbox row.
CARDSENDER_SOURCE = EventSource.CARD


@dataclass(frozen=True, slots=True)
class CountedCard:
    """A card that reached a customer (or is on its way), on the day it reaches them."""

    customer_id: str
    occasion: str  # an Occasion, or ``other`` for a history card naming none
    day: dt.date
    channel: str  # a Channel, or "" for a history card
    source: str


def history_occasion(summary: str) -> str:
    """Return the occasion a history card event's summary names, or ``other``."""
    words = summary.casefold()
    return next((occasion for word, occasion in HISTORY_OCCASION_WORDS if word in words), OTHER_CARD)


def cards_reaching(
    store: Store, config: Config, first: dt.date, last: dt.date, states: frozenset[str] = TOUCH_STATES
) -> list[CountedCard]:
    """Return the office's cards that reach customers from ``first`` to ``last``: the one source of every count.

    From the outbox, the cards in ``states`` (by default sent, mailed, and unknown, which most likely
    arrived: the states that restart the 70-day clock), on their occasion date.  From the history, every
    ``card`` event that cardsender did not write itself (those have their outbox row) and that no outbox
    card of the same customer on the same day explains (a history file exported and imported again).
    """
    if not states <= FIXED_STATES:
        raise ValueError(f"only cards in {sorted(FIXED_STATES)} reach customers")
    office = config.office.key
    with store.begin() as conn:
        on_file = (
            select(customers.c.external_id, outbox.c.occasion, outbox.c.occasion_date, outbox.c.channel, outbox.c.state)
            .join(customers, customers.c.id == outbox.c.customer_id)
            .where(outbox.c.occasion_date >= first, outbox.c.occasion_date <= last)
            .where(outbox.c.state.in_(sorted(FIXED_STATES)), customers.c.office == office)
        )
        rows = conn.execute(on_file).all()
        by_hand = (
            select(customers.c.external_id, contact_events.c.occurred_at, contact_events.c.summary)
            .join(customers, customers.c.id == contact_events.c.customer_id)
            .where(contact_events.c.kind == EventKind.CARD, contact_events.c.source != CARDSENDER_SOURCE)
            .where(contact_events.c.occurred_at >= dt.datetime.combine(first, dt.time()))
            .where(contact_events.c.occurred_at < dt.datetime.combine(last + DAY, dt.time()))
            .where(customers.c.office == office)
        )
        events = conn.execute(by_hand).all()
    found = [
        CountedCard(customer_id, Occasion(occasion), day, Channel(channel), FROM_OUTBOX)
        for customer_id, occasion, day, channel, state in rows
        if state in states
    ]
    explained = {(customer_id, day) for customer_id, _, day, _, _ in rows}
    for customer_id, occurred_at, summary in events:
        if (customer_id, occurred_at.date()) not in explained:
            found.append(CountedCard(customer_id, history_occasion(summary), occurred_at.date(), "", FROM_HISTORY))
    return sorted(found, key=lambda c: (c.day, c.customer_id, c.occasion, c.channel, c.source))


def count_by_month(cards: Iterable[CountedCard | Touch]) -> dict[str, dict[str, int]]:
    """Return the cards per occasion in each month ("YYYY-MM"), by the day they reach the customer."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for card in cards:
        day = card.day if isinstance(card, CountedCard) else card.occasion_date
        counts[day.strftime("%Y-%m")][card.occasion] += 1
    return {month: dict(sorted(counter.items())) for month, counter in sorted(counts.items())}


def occasion_order(occasion: str) -> tuple[int, str]:
    """Return a sort key putting occasions in the planner's order, a history card naming none last."""
    return (OCCASIONS.index(occasion) if occasion in OCCASIONS else len(OCCASIONS), occasion)


def count_by_occasion(cards: Iterable[CountedCard]) -> dict[str, int]:
    """Return the cards per occasion."""
    return dict(sorted(Counter(card.occasion for card in cards).items()))


@dataclass(frozen=True, slots=True)
class CustomerForecast:
    """One customer over the forecast range."""

    customer_id: str
    contactable: bool
    touches: int
    max_gap_days: int
    name: str = ""
    # Over the limit already on the first day: that gap is not the plan's doing.
    overdue_at_start: bool = False
    # The longest gap the plan leaves, from the first card in the range on when overdue at the start
    # (None: the same as max_gap_days).
    plan_gap_days: int | None = None

    @property
    def gap_of_plan(self) -> int:
        """Return the longest gap the plan itself leaves."""
        return self.max_gap_days if self.plan_gap_days is None else self.plan_gap_days

    @property
    def who(self) -> str:
        """Return the customer as staff know them: "Name (id)", or the id alone without a name."""
        return name_and_id(self.name, self.customer_id)

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
    """Every day of a range simulated: the touches, each customer's longest gap, and a summary.

    ``counted`` holds the cards ``cards_reaching`` found: those that reached customers from the first of
    the range's first month to the day before it, and those already sent, mailed or printed that reach
    customers within the range.  The planner never plans those again, so they and ``touches`` never overlap.
    """

    first: dt.date
    last: dt.date
    limit_days: int
    touches: list[Touch]
    customers: list[CustomerForecast]
    counted: list[CountedCard] = field(default_factory=list)

    @property
    def contactable(self) -> list[CustomerForecast]:
        """Return the customers cards can reach."""
        return [c for c in self.customers if c.contactable]

    @property
    def over_limit(self) -> list[CustomerForecast]:
        """Return the contactable customers with a gap longer than the limit, whoever's doing it is."""
        return [c for c in self.contactable if c.max_gap_days > self.limit_days]

    @property
    def overdue_at_start(self) -> list[CustomerForecast]:
        """Return the contactable customers already over the limit on the first day."""
        return [c for c in self.contactable if c.overdue_at_start]

    @property
    def breached_by_plan(self) -> list[CustomerForecast]:
        """Return the contactable customers the plan itself would leave longer than the limit."""
        return [c for c in self.contactable if c.gap_of_plan > self.limit_days]

    @property
    def counted_in_range(self) -> list[CountedCard]:
        """Return the counted cards that reach customers within the range."""
        return [c for c in self.counted if self.first <= c.day <= self.last]

    @property
    def counted_before(self) -> list[CountedCard]:
        """Return the counted cards that reached customers in the first month before the range starts."""
        return [c for c in self.counted if c.day < self.first]

    @property
    def card_count(self) -> int:
        """Return the cards of the range: those planned, and those already on their way that arrive in it."""
        return len(self.touches) + len(self.counted_in_range)

    def cards_per_month(self) -> dict[str, dict[str, int]]:
        """Return the cards per occasion in each month, by the day they reach the customer, counted or planned."""
        return count_by_month([*self.counted, *self.touches])

    def cards_per_day(self) -> dict[dt.date, int]:
        """Return the number of cards reaching customers on each day of the range."""
        counts = Counter([t.occasion_date for t in self.touches] + [c.day for c in self.counted_in_range])
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
                "cards_sent_per_month": count_by_month(self.counted),
                "cards_planned_per_month": count_by_month(self.touches),
                "overdue_at_start": [c.customer_id for c in self.overdue_at_start],
                "breached_by_plan": [c.customer_id for c in self.breached_by_plan],
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


def forecast_from_facts(
    facts: Iterable[CustomerFacts],
    config: Config,
    first: dt.date,
    last: dt.date,
    counted: Sequence[CountedCard] = (),
) -> Forecast:
    """Simulate every day from ``first`` to ``last`` as if each planned card went out on its due date.

    ``counted`` are the cards ``cards_reaching`` found (see ``Forecast``); those reaching a customer within
    the range close their gaps on the day they arrive.
    """
    limit = config.keep_in_touch.max_gap_days
    arriving: dict[str, list[CountedCard]] = defaultdict(list)
    for card in counted:
        if first <= card.day <= last:
            arriving[card.customer_id].append(card)
    touches: list[Touch] = []
    customers: list[CustomerForecast] = []
    for customer in facts:
        result = simulate(customer, first, last, config)
        touches += result.sent
        start = clock_start(customer, first)
        mine = arriving.get(customer.customer_id, [])
        days = sorted({t.arrives for t in result.sent} | {c.day for c in mine})
        gap = longest_gap(start, days, last)
        overdue = (first - start).days > limit
        plan_gap = gap
        if overdue:
            later = [day for day in days if start < day <= last]
            plan_gap = longest_gap(later[0], later, last) if later else 0
        units = {(t.occasion, t.occasion_date) for t in result.sent} | {(c.occasion, c.day) for c in mine}
        customers.append(
            CustomerForecast(
                customer.customer_id, customer.contactable, len(units), gap, customer.name, overdue, plan_gap
            )
        )
    customers.sort(key=lambda c: c.customer_id)
    return Forecast(first, last, limit, sorted(touches, key=_sort_key), customers, sorted(counted, key=_counted_key))


def _counted_key(card: CountedCard) -> tuple[dt.date, str, str, str, str]:
    return (card.day, card.customer_id, card.occasion, card.channel, card.source)


def forecast(store: Store, config: Config, first: dt.date, last: dt.date) -> Forecast:
    """Simulate the range for every customer, with the cards already counted in its first month."""
    facts = load_all_facts(store, config, first)
    month_start = first.replace(day=1)
    counted = cards_reaching(store, config, month_start, first - DAY) if month_start < first else []
    # Cards printed or mailed before the range arrive in it as surely as those the simulation sends.
    counted += cards_reaching(store, config, first, last, FIXED_STATES)
    return forecast_from_facts(facts, config, first, last, counted)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """How well customers are kept in touch, as of one day.

    ``contactable`` is every customer cards can reach; ``touched_within_limit`` those of them a real contact
    or a card reached within the limit.  Customers never contacted yet are in the first, not the second:
    nobody has heard from us, so they are not covered, however recently they were added.
    """

    on: dt.date
    contactable: int
    touched_within_limit: int
    at_risk: list[CallEntry]
    overdue: list[CallEntry]
    breaches_next_14_days: list[str]
    cards_this_month: dict[str, int] = field(default_factory=dict)
    cards_this_year: dict[str, int] = field(default_factory=dict)
    never_contacted: int = 0
    # The day the last of the never-contacted customers gets their first planned card, if all have one.
    first_cards_planned_by: dt.date | None = None
    # Of the breaches ahead, those the plan would cause (the rest are customers already overdue).
    breaches_by_plan_next_14_days: list[str] = field(default_factory=list)
    # The breaches ahead as staff know the customers: "Name (id)".
    breach_names: list[str] = field(default_factory=list)
    cards_per_month: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Return the share of contactable customers touched within the limit."""
        return self.touched_within_limit / self.contactable if self.contactable else 1.0

    @property
    def coverage_percent(self) -> int:
        """Return the coverage as a whole percentage, rounded down: 99.6% must not read as a kept promise."""
        return self.touched_within_limit * 100 // self.contactable if self.contactable else 100

    @property
    def contacted_over_limit(self) -> int:
        """Return the contactable customers contacted once, but longer ago than the limit."""
        return self.contactable - self.touched_within_limit - self.never_contacted

    def first_cards_text(self) -> str:
        """Return ", first cards planned by DATE" for the customers never contacted, or "" without a date."""
        planned = self.first_cards_planned_by
        if planned is None:
            return ""
        if self.never_contacted == 1:
            return f", first card planned for {planned.isoformat()}"
        return f", first cards planned by {planned.isoformat()}"

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
            "coverage_percent": self.coverage_percent,
            "never_contacted": self.never_contacted,
            "first_cards_planned_by": self.first_cards_planned_by.isoformat() if self.first_cards_planned_by else None,
            "contacted_over_limit": self.contacted_over_limit,
            "breaches_by_plan_next_14_days": self.breaches_by_plan_next_14_days,
            "cards_per_month": self.cards_per_month,
        }


def first_planned_card(facts: CustomerFacts, today: dt.date, config: Config) -> dt.date | None:
    """Return the day the first card planned for a customer reaches them, or None when none is planned.

    A card already printed or mailed, arriving later, is that first card: the planner never plans it again.
    """
    on_its_way = [c.occasion_date for c in facts.cards if c.state in FIXED_STATES and c.occasion_date > today]
    planned = [t.occasion_date for t in plan_customer(facts, today, config).scheduled]
    return min([*on_its_way, *planned], default=None)


def coverage_report(store: Store, config: Config, today: dt.date) -> CoverageReport:
    """Return the owner's coverage report as of today."""
    facts = load_all_facts(store, config, today)
    limit = config.keep_in_touch.max_gap_days
    contactable = [f for f in facts if f.contactable and f.added_on <= today]
    touched = {f.customer_id: last_touch(f, today) for f in contactable}
    within = sum(1 for day in touched.values() if day is not None and (today - day).days <= limit)
    never = [f for f in contactable if touched[f.customer_id] is None]
    first_cards = [first_planned_card(f, today, config) for f in never]
    planned_by = None if None in first_cards else max((d for d in first_cards if d is not None), default=None)
    calls = calls_from_facts(facts, config, today)
    fortnight = today + 13 * DAY
    ahead = forecast_from_facts(
        contactable, config, today, fortnight, cards_reaching(store, config, today, fortnight, FIXED_STATES)
    )
    year_cards = cards_reaching(store, config, dt.date(today.year, 1, 1), today)
    return CoverageReport(
        on=today,
        contactable=len(contactable),
        touched_within_limit=within,
        at_risk=[e for e in calls if not e.overdue and e.days_since_contact >= config.keep_in_touch.call_after_days],
        overdue=[e for e in calls if e.overdue],
        breaches_next_14_days=[c.customer_id for c in ahead.over_limit],
        cards_this_month=count_by_occasion(c for c in year_cards if c.day.month == today.month),
        cards_this_year=count_by_occasion(year_cards),
        never_contacted=len(never),
        first_cards_planned_by=planned_by,
        breaches_by_plan_next_14_days=[c.customer_id for c in ahead.breached_by_plan],
        breach_names=[c.who for c in ahead.over_limit],
        cards_per_month=count_by_month(year_cards),
    )

"""Properties of the planner over random customers and histories, in two-year forecasts."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from cardsender import occasions
from cardsender.config import Config, parse_config
from cardsender.planner import CustomerFacts, Purchase, Simulation, simulate, usable_channels
from cardsender.records import Birthday

CONFIG = parse_config({"office": {"start_date": "2020-01-01", "country": "US"}}, None)
YEARS = 2


def _mostly(value: bool) -> st.SearchStrategy[bool]:
    """Draw ``value`` nine times in ten."""
    return st.integers(0, 9).map(lambda n: value if n else not value)


@st.composite
def customers(draw: st.DrawFn) -> tuple[CustomerFacts, dt.date]:
    """Draw a customer whose last touch is at most 56 days before the forecast starts, and the start."""
    first = draw(st.dates(dt.date(2025, 1, 3), dt.date(2028, 12, 1)))
    if occasions.in_quiet_window(first, CONFIG.occasions.quiet_start, CONFIG.occasions.quiet_end):
        first = dt.date(first.year if first.month == 1 else first.year + 1, 1, 3)
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 29 if month == 2 else 30))
    birthday = draw(st.none() | st.builds(Birthday, st.just(month), st.just(day), st.none() | st.integers(1930, 2005)))
    channel = draw(st.sampled_from(["email", "post", "both"]))
    # Mostly reachable customers, so that the rules about cards are exercised often.
    has_email, has_address = draw(_mostly(True)), draw(_mostly(True))
    no_email, no_post = draw(_mostly(False)), draw(_mostly(False))
    history = draw(st.booleans())
    since_touch = draw(st.integers(0, 56))
    last = first - dt.timedelta(days=since_touch) if history else None
    purchase_days = draw(st.lists(st.integers(0, 40), max_size=3)) if history else []
    purchases = tuple(Purchase(first - dt.timedelta(days=n)) for n in sorted(purchase_days) if n >= since_touch)
    added = (last or first) - dt.timedelta(days=draw(st.integers(0, 400))) if history else first
    facts = CustomerFacts(
        customer_id=draw(st.text("abcdef0123456789", min_size=1, max_size=8)),
        added_on=added,
        birthday=birthday,
        country=draw(st.sampled_from(["US", "CA", "FR", "DE", "JP", ""])),
        preferred_channel=channel,
        channels=usable_channels(channel, "x@example.com" if has_email else None, has_address, no_email, no_post),
        no_humor=draw(st.booleans()),
        do_not_contact=draw(_mostly(False)),
        last_event_touch=last,
        purchases=purchases,
    )
    return facts, first


def _run(drawn: tuple[CustomerFacts, dt.date], config: Config = CONFIG) -> tuple[Simulation, dt.date, dt.date]:
    facts, first = drawn
    last = first + dt.timedelta(days=365 * YEARS)
    return simulate(facts, first, last, config), first, last


@settings(max_examples=400, deadline=None)
@given(customers())
def test_no_contactable_customer_goes_more_than_70_days(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """If every planned card goes out on its due date, no contactable customer waits more than 70 days."""
    facts, _ = drawn
    result, _first, last = _run(drawn)
    if not facts.contactable:
        assert result.sent == []
        return
    previous = facts.last_event_touch or facts.added_on
    for day in sorted({t.occasion_date for t in result.sent if t.occasion_date <= last}):
        assert (day - previous).days <= 70, (previous, day)
        previous = day
    assert (last - previous).days <= 70


@settings(max_examples=400, deadline=None)
@given(customers())
def test_cards_keep_the_min_gap(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Cards are at least min_gap_days apart (both channels count once), and check-ins never drop a dated card."""
    result, _, _ = _run(drawn)
    assert not [t for t in result.suppressed if "collides with check_in" in (t.suppressed_reason or "")]
    days = sorted({(t.occasion_date, t.occasion) for t in result.sent})
    for (a, occasion_a), (b, occasion_b) in itertools.pairwise(days):
        assert (b - a).days >= CONFIG.occasions.min_gap_days, (occasion_a, a, occasion_b, b)


@settings(max_examples=400, deadline=None)
@given(customers())
def test_opt_outs_and_humour_are_respected(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Cards only go by usable channels, never to do_not_contact, and no April Fool's to no_humor."""
    facts, _ = drawn
    result, _, _ = _run(drawn)
    assert {t.channel for t in result.sent} <= set(facts.channels)
    if facts.do_not_contact:
        assert result.sent == []
    if facts.no_humor:
        assert all(t.occasion != "april_fools" for t in result.sent)


@settings(max_examples=400, deadline=None)
@given(customers())
def test_no_check_in_in_the_quiet_window_and_no_christmas(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Check-ins avoid Dec 20 to Jan 2 when nothing was overdue, and nothing is a Christmas card."""
    result, _, _ = _run(drawn)
    window = (CONFIG.occasions.quiet_start, CONFIG.occasions.quiet_end)
    for touch in result.sent:
        assert touch.occasion in occasions.OCCASIONS
        if touch.occasion == "check_in":
            assert not occasions.in_quiet_window(touch.occasion_date, *window), touch
        if touch.occasion not in ("birthday", "thank_you"):
            assert (touch.occasion_date.month, touch.occasion_date.day) not in ((12, 24), (12, 25), (12, 26))

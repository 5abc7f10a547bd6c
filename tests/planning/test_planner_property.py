"""Properties of the planner over random customers and histories, in two-year forecasts."""

from __future__ import annotations

import datetime as dt
import itertools

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardsender.config.loading import parse_config
from cardsender.config.model import Config
from cardsender.domain.records import Birthday, Touch
from cardsender.planning import dates as occasions
from cardsender.planning.planner import CustomerFacts, Purchase, Simulation, mail_calendar, simulate, usable_channels

CONFIG = parse_config({"office": {"start_date": "2020-01-01", "country": "US"}}, None)
YEARS = 2
MIN_GAP = CONFIG.occasions.min_gap_days
LEAD = dt.timedelta(days=CONFIG.print.postal_lead_days)
# The US public holidays from the package itself, to check the planner's mail days against.
US_HOLIDAYS = holidays.country_holidays("US", years=range(2024, 2032), language="en_US")

# Each test searches 300 drawn customers over years of days.
pytestmark = pytest.mark.slow


def _mostly(value: bool) -> st.SearchStrategy[bool]:
    """Draw ``value`` nine times in ten."""
    return st.integers(0, 9).map(lambda n: value if n else not value)


@st.composite
def customers(draw: st.DrawFn) -> tuple[CustomerFacts, dt.date]:
    """Draw a customer and the day the forecast starts: the last touch mostly at most 56 days before it,
    sometimes long overdue; starts in any month (December and the quiet window too), leap years included."""
    first = draw(
        st.dates(dt.date(2025, 1, 3), dt.date(2028, 12, 31)) | st.dates(dt.date(2027, 12, 1), dt.date(2028, 1, 3))
    )
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 29 if month == 2 else 30))
    birthday = draw(st.none() | st.builds(Birthday, st.just(month), st.just(day), st.none() | st.integers(1930, 2005)))
    channel = draw(st.sampled_from(["email", "post", "both"]))
    # Mostly reachable customers, so that the rules about cards are exercised often.
    has_email, has_address = draw(_mostly(True)), draw(_mostly(True))
    no_email, no_post = draw(_mostly(False)), draw(_mostly(False))
    history = draw(st.booleans())
    since_touch = draw(st.integers(0, 56) | st.integers(57, 200))
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


def _soonest(facts: CustomerFacts, first: dt.date) -> dt.date:
    """Return the soonest a check-in planned on the first day has reached the customer on every channel.

    The planner measures whether that check-in would crowd a coming card from its last arrival: a customer
    by email and post gets the posted copy a mail day and the lead days later.
    """
    return mail_calendar(CONFIG).on_or_after(first) + LEAD if "post" in facts.channels else first


@settings(max_examples=300, deadline=None)
@given(customers())
def test_no_contactable_customer_goes_more_than_70_days(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """No customer who can still be reached in time waits more than 70 days; one already too late is reached
    at once (or by a card within min_gap_days), and every gap after that is at most 70 days."""
    facts, first = drawn
    result, _first, last = _run(drawn)
    if not facts.contactable:
        assert result.sent == []
        return
    start = facts.last_event_touch or facts.added_on
    days = sorted({t.arrives for t in result.sent if t.arrives <= last})
    in_time = (first - start).days <= 56
    bound = start + dt.timedelta(days=70)
    if not in_time:
        bound = max(bound, _soonest(facts, first) + dt.timedelta(days=MIN_GAP - 1))
    assert days, start
    assert days[0] <= bound, (start, days[0], bound)
    for a, b in itertools.pairwise(days):
        assert (b - a).days <= 70, (a, b)
    if days:
        assert (last - days[-1]).days <= 70


@settings(max_examples=300, deadline=None)
@given(customers())
def test_cards_keep_the_min_gap(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Every two cards of different occasions reach the customer at least min_gap_days apart, from the first day,
    and no check-in drops a dated card."""
    result, _, _ = _run(drawn)
    assert not [t for t in result.suppressed if "collides with check_in" in (t.suppressed_reason or "")]
    for a, b in itertools.combinations(result.sent, 2):
        if (a.occasion, a.occasion_date) != (b.occasion, b.occasion_date):
            assert abs((a.arrives - b.arrives).days) >= MIN_GAP, (a, b)


def _fixed_occasions(facts: CustomerFacts, first: dt.date, last: dt.date) -> list[tuple[str, dt.date]]:
    """Return the customer's fixed occasions (birthday, thank-you, Thanksgiving, April Fool's) in the range."""
    found = [("birthday", day) for day in occasions.dates_between("birthday", first, last, birthday=facts.birthday)]
    if facts.birthday is None:
        found = []
    country = facts.country or CONFIG.office.country
    found += [("thanksgiving", day) for day in occasions.dates_between("thanksgiving", first, last, country=country)]
    if not facts.no_humor:
        found += [("april_fools", day) for day in occasions.dates_between("april_fools", first, last)]
    clusters: list[list[dt.date]] = []
    for bought in sorted(p.day for p in facts.purchases):
        if clusters and (bought - clusters[-1][0]).days <= CONFIG.occasions.thank_you.coalesce_days:
            clusters[-1].append(bought)
        else:
            clusters.append([bought])
    found += [("thank_you", cluster[-1] + dt.timedelta(days=1)) for cluster in clusters]
    return found


def _on_time_arrival(occasion: str, channel: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the due date and arrival of a card sent on time."""
    calendar = mail_calendar(CONFIG)
    if channel == "email":
        return day, day
    mailed = calendar.on_or_after(day) if occasion == "thank_you" else occasions.mail_by(day, LEAD.days, calendar)
    return mailed, mailed + LEAD


@settings(max_examples=300, deadline=None)
@given(customers())
def test_every_fixed_occasion_goes_unless_a_higher_one_is_near(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Each fixed occasion that can go on time goes on its day, on every channel, unless a card of a higher
    priority (or of the same, earlier) reaches the customer within min_gap_days; check-ins never crowd one out."""
    facts, first = drawn
    result, _, last = _run(drawn)
    if not facts.contactable:
        return
    sent: dict[tuple[str, dt.date, str], Touch] = {(t.occasion, t.occasion_date, t.channel): t for t in result.sent}
    for occasion, day in _fixed_occasions(facts, first, last - dt.timedelta(days=10)):
        for channel in facts.channels:
            due, arrival = _on_time_arrival(occasion, channel, day)
            if due < first:
                continue
            found = sent.get((occasion, day, channel))
            if found is not None:
                assert (found.due_date, found.arrives, found.late) == (due, arrival, False)
                continue
            rank = occasions.PRIORITY[occasion]
            winners = [
                t
                for t in result.sent
                if (occasions.PRIORITY[t.occasion], t.occasion_date) < (rank, day)
                and t.occasion != "check_in"
                and abs((t.arrives - arrival).days) < MIN_GAP + LEAD.days
            ]
            assert winners, (occasion, day, channel)


@settings(max_examples=300, deadline=None)
@given(customers())
def test_posted_cards_go_on_mail_days_and_arrive_lead_days_later(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """A posted card is mailed on a weekday that is not a US public holiday and arrives postal_lead_days later."""
    result, _, _ = _run(drawn)
    for touch in result.sent:
        if touch.channel == "post":
            assert touch.due_date.weekday() < 5 and touch.due_date not in US_HOLIDAYS, touch
            assert touch.arrives == touch.due_date + LEAD, touch
        else:
            assert touch.arrives == touch.occasion_date, touch


def _forced(touch: Touch, facts: CustomerFacts, first: dt.date) -> bool:
    """Return whether a card was due at the very start, as soon as it could go."""
    return touch.due_date <= mail_calendar(CONFIG).on_or_after(first)


@settings(max_examples=300, deadline=None)
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


@settings(max_examples=300, deadline=None)
@given(customers())
def test_no_check_in_in_the_quiet_window_and_no_christmas(drawn: tuple[CustomerFacts, dt.date]) -> None:
    """Check-ins neither fall nor arrive from Dec 20 to Jan 2 unless they had to go at the start, and nothing is
    a Christmas card: no card but a birthday, a thank-you or a check-in that had to go falls on Dec 24 to 26."""
    facts, first = drawn
    result, _, _ = _run(drawn)
    window = (CONFIG.occasions.quiet_start, CONFIG.occasions.quiet_end)
    for touch in result.sent:
        assert touch.occasion in occasions.OCCASIONS
        forced = touch.occasion == "check_in" and _forced(touch, facts, first)
        if touch.occasion == "check_in" and not forced:
            assert not occasions.in_quiet_window(touch.occasion_date, *window), touch
            assert not occasions.in_quiet_window(touch.arrives, *window), touch
        # A check-in that must go at once goes as soon as it can, Christmas Eve included; nothing else falls then.
        if touch.occasion not in ("birthday", "thank_you") and not forced:
            assert (touch.occasion_date.month, touch.occasion_date.day) not in ((12, 24), (12, 25), (12, 26))

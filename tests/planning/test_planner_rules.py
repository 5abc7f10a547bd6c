"""The planner's rules for mail days, posted and late cards, overdue customers and cards already in the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cardsender.config.loading import parse_config
from cardsender.config.model import Config
from cardsender.domain.errors import ConfigError
from cardsender.domain.records import Birthday, Card, Touch
from cardsender.domain.rules import ClosedDay, parse_closed_day
from cardsender.planning import dates as occasions
from cardsender.planning.agenda import forecast_from_facts, longest_gap, plan_from_facts
from cardsender.planning.planner import CustomerFacts, Purchase, clock_start, is_late, plan_customer, simulate
from tests.support.planning import config
from tests.support.planning import email_facts as email

d = dt.date


def post(**kwargs: Any) -> CustomerFacts:
    """Return the same customer by post."""
    return email(channels=("post",), preferred_channel="post", **kwargs)


def cards(touches: list[Touch]) -> list[tuple[str, str, dt.date, dt.date, dt.date, bool]]:
    """Return (occasion, channel, occasion date, due date, arrival, late) of touches."""
    return [(t.occasion, t.channel, t.occasion_date, t.due_date, t.arrives, t.late) for t in touches]


def due(f: CustomerFacts, today: dt.date, cfg: Config | None = None) -> list[tuple[Any, ...]]:
    """Return what is due today."""
    return cards(plan_customer(f, today, cfg or config()).due(today))


def sent(f: CustomerFacts, first: dt.date, last: dt.date, cfg: Config | None = None) -> list[tuple[Any, ...]]:
    """Return what goes out when simulating the range."""
    return cards(simulate(f, first, last, cfg or config()).sent)


# Overdue customers and fixed occasions.


def test_a_birthday_two_days_away_is_the_touch_of_an_overdue_customer() -> None:
    """Untouched for 126 days, with a birthday on Nov 24: the birthday goes, and no check-in on Nov 22."""
    f = email(last_event_touch=d(2026, 7, 19), birthday=Birthday(11, 24))
    assert sent(f, d(2026, 11, 22), d(2026, 12, 31)) == [
        ("birthday", "email", d(2026, 11, 24), d(2026, 11, 24), d(2026, 11, 24), False)
    ]


@pytest.mark.parametrize(
    ("today", "country", "occasion", "day"),
    [(d(2026, 11, 20), "US", "thanksgiving", d(2026, 11, 26)), (d(2027, 3, 25), "FR", "april_fools", d(2027, 4, 1))],
)
def test_thanksgiving_or_april_fools_is_the_touch_of_an_overdue_email_customer(
    today: dt.date, country: str, occasion: str, day: dt.date
) -> None:
    """An overdue email customer gets Thanksgiving or April Fool's within 14 days instead of a check-in."""
    f = email(last_event_touch=today - dt.timedelta(days=100), country=country)
    assert sent(f, today, today + dt.timedelta(days=20)) == [(occasion, "email", day, day, day, False)]


def test_a_posted_birthday_is_the_touch_of_an_overdue_posted_customer() -> None:
    """An overdue posted customer with a birthday on Sat Nov 28 gets it, mailed Fri Nov 20, and no check-in."""
    f = post(last_event_touch=d(2026, 8, 1), birthday=Birthday(11, 28))
    assert due(f, d(2026, 11, 20)) == [("birthday", "post", d(2026, 11, 28), d(2026, 11, 20), d(2026, 11, 27), False)]
    assert [t[0] for t in sent(f, d(2026, 11, 20), d(2026, 12, 31))] == ["birthday"]


def test_april_fools_is_the_touch_of_an_overdue_posted_customer() -> None:
    """An April Fool's card mailed Mar 25 to arrive Apr 1 takes the place of a check-in arriving Apr 1."""
    f = post(last_event_touch=d(2027, 1, 1))
    assert sent(f, d(2027, 3, 25), d(2027, 4, 20)) == [
        ("april_fools", "post", d(2027, 4, 1), d(2027, 3, 25), d(2027, 4, 1), False)
    ]


def test_an_overdue_check_in_goes_at_once_when_no_card_is_near() -> None:
    """With the next birthday 20 days away, an overdue email customer gets a check-in today, then the birthday."""
    f = email(last_event_touch=d(2026, 8, 1), birthday=Birthday(12, 10))
    assert [(t[0], t[2]) for t in sent(f, d(2026, 11, 20), d(2026, 12, 12))] == [
        ("check_in", d(2026, 11, 20)),
        ("birthday", d(2026, 12, 10)),
    ]


def test_an_overdue_posted_check_in_goes_on_the_next_mail_day() -> None:
    """On Saturday Nov 21 an overdue posted customer's check-in is mailed Monday Nov 23 and arrives Nov 30."""
    f = post(last_event_touch=d(2026, 8, 1))
    (touch,) = plan_customer(f, d(2026, 11, 21), config()).scheduled
    assert cards([touch]) == [("check_in", "post", d(2026, 11, 30), d(2026, 11, 23), d(2026, 11, 30), False)]
    assert touch.reason == "overdue: 112 days since the last contact on 2026-08-01"


# Mail days.


def test_posted_cards_are_mailed_before_a_public_holiday() -> None:
    """A posted birthday for Sat Jul 11, 2026 is mailed Thu Jul 2: Fri Jul 3 is Independence Day (observed)."""
    f = post(birthday=Birthday(7, 11), last_event_touch=d(2026, 6, 1))
    assert due(f, d(2026, 7, 2)) == [("birthday", "post", d(2026, 7, 11), d(2026, 7, 2), d(2026, 7, 9), False)]


@pytest.mark.parametrize(("subdivision", "mailed"), [("QC", d(2026, 6, 23)), ("ON", d(2026, 6, 24))])
def test_mail_days_follow_the_office_subdivision(subdivision: str, mailed: dt.date) -> None:
    """June 24 is a public holiday in Quebec, not in Ontario: a card to mail that day goes a day earlier there."""
    cfg = config(office={"country": "CA", "subdivision": subdivision})
    f = post(birthday=Birthday(7, 1), last_event_touch=d(2026, 6, 1))
    assert due(f, mailed, cfg) == [("birthday", "post", d(2026, 7, 1), mailed, mailed + dt.timedelta(days=7), False)]


def test_closed_days_move_the_mail_day_earlier() -> None:
    """With Dec 24 closed every year and Dec 23, 2026 closed once, a card to mail on Dec 24 goes on Dec 22."""
    cfg = config(print={"closed_days": ["12-24", "2026-12-23"]})
    f = post(birthday=Birthday(12, 31), last_event_touch=d(2026, 12, 1))
    assert due(f, d(2026, 12, 22), cfg) == [
        ("birthday", "post", d(2026, 12, 31), d(2026, 12, 22), d(2026, 12, 29), False)
    ]


def test_mail_calendar_knows_weekends_holidays_and_closed_days() -> None:
    """A mail day is a weekday that is neither a public holiday nor a closed day of the office."""
    calendar = occasions.MailCalendar("US", "", (ClosedDay(12, 31), ClosedDay(6, 1, 2026)))
    assert [calendar.is_mail_day(day) for day in (d(2026, 11, 26), d(2026, 11, 27), d(2026, 11, 28))] == [
        False,
        True,
        False,
    ]
    assert calendar.on_or_before(d(2026, 12, 31)) == d(2026, 12, 30)
    assert calendar.on_or_after(d(2026, 12, 31)) == d(2027, 1, 4)  # Jan 1 (holiday), then the weekend
    assert calendar.on_or_after(d(2026, 5, 30)) == d(2026, 6, 2)
    assert calendar.is_mail_day(d(2027, 6, 1))


def test_a_country_the_holidays_package_does_not_know_has_weekends_only() -> None:
    """An office in a country without holiday tables mails Monday to Friday."""
    calendar = occasions.MailCalendar("ZZ")
    assert calendar.is_mail_day(d(2026, 12, 25)) and not calendar.is_mail_day(d(2026, 12, 26))


def test_closed_days_that_close_everything_are_refused() -> None:
    """A calendar with no mail day for a month raises an error naming [print] closed_days."""
    every_day = tuple(ClosedDay(1, n) for n in range(1, 32)) + tuple(ClosedDay(12, n) for n in range(1, 32))
    with pytest.raises(ConfigError, match=r"\[print\] closed_days closes too many days"):
        occasions.MailCalendar("", "", every_day).on_or_before(d(2026, 1, 15))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12-24", ClosedDay(12, 24)), ("2026-12-24", ClosedDay(12, 24, 2026)), ("02-29", ClosedDay(2, 29))],
)
def test_closed_days_parse_dates_and_yearly_days(text: str, expected: ClosedDay) -> None:
    """A closed day is YYYY-MM-DD for one day or MM-DD for every year."""
    assert parse_closed_day(text) == expected
    assert str(expected) == text


def test_a_yearly_feb_29_is_closed_only_in_leap_years() -> None:
    """A closed Feb 29 closes nothing in other years."""
    assert ClosedDay(2, 29).falls_in(2028) == d(2028, 2, 29)
    assert ClosedDay(2, 29).falls_in(2027) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12-24", "[print] closed_days: expected a list in brackets, got '12-24'"),
        (["12-32"], "[print] closed_days: '12-32' is not a day of the calendar (day is out of range for month)"),
        (["24/12"], "[print] closed_days: '24/12' is neither a date YYYY-MM-DD nor a yearly day MM-DD"),
        ([1224], "[print] closed_days: 1224 is not a day"),
    ],
)
def test_bad_closed_days_are_refused_naming_the_key(value: object, message: str) -> None:
    """A closed_days that is not a list of days is refused with the key and the bad value."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"print": {"closed_days": value}}, None)
    assert message in str(caught.value)


def test_closed_days_accept_toml_dates() -> None:
    """An unquoted TOML date is that one day."""
    cfg = parse_config({"print": {"closed_days": [d(2026, 12, 24), "12-31"]}}, None)
    assert cfg.print.closed_days == (ClosedDay(12, 24, 2026), ClosedDay(12, 31))


# Posted thank-yous and late posted cards.


@pytest.mark.parametrize(
    ("bought", "mailed"),
    [(d(2026, 11, 10), d(2026, 11, 12)), (d(2026, 11, 13), d(2026, 11, 16)), (d(2026, 11, 16), d(2026, 11, 17))],
)
def test_a_posted_thank_you_goes_on_the_first_mail_day_after_the_purchase(bought: dt.date, mailed: dt.date) -> None:
    """A posted thank-you is mailed on the first mail day after the purchase (not Veterans Day, not a weekend)."""
    f = post(purchases=(Purchase(bought),), last_event_touch=bought)
    day = bought + dt.timedelta(days=1)
    assert due(f, mailed) == [("thank_you", "post", day, mailed, mailed + dt.timedelta(days=7), False)]
    assert due(f, mailed - dt.timedelta(days=1)) == []


def test_a_posted_card_past_its_mail_by_date_goes_late_on_the_next_mail_day() -> None:
    """A birthday card to mail by Tue Nov 17 planned on Thu Nov 19 is due that day, late, arriving Nov 26."""
    f = post(birthday=Birthday(11, 24))
    (touch,) = plan_customer(f, d(2026, 11, 19), config()).due(d(2026, 11, 19))
    assert cards([touch]) == [("birthday", "post", d(2026, 11, 24), d(2026, 11, 19), d(2026, 11, 26), True)]
    assert touch.to_json() == {
        "customer_id": "c1",
        "occasion": "birthday",
        "channel": "post",
        "occasion_date": "2026-11-24",
        "due_date": "2026-11-19",
        "reason": "birthday",
        "late": True,
    }


def test_a_late_posted_card_is_missed_once_its_next_mail_day_is_past_grace() -> None:
    """On Sat Nov 21 the next mail day (Mon Nov 23) is 6 days after the mail-by date: the card is missed."""
    schedule = plan_customer(post(birthday=Birthday(11, 24)), d(2026, 11, 21), config())
    assert [t for t in schedule.scheduled if t.occasion == "birthday"] == []
    assert [(t.occasion, t.suppressed_reason) for t in schedule.missed] == [
        ("birthday", "missed: due 2026-11-17, more than 3 grace days ago")
    ]


def test_a_late_arrival_that_breaks_70_days_shows_in_the_gaps() -> None:
    """A late birthday card arriving on day 71 after the last contact makes the longest gap 71 days."""
    f = post(birthday=Birthday(11, 24), last_event_touch=d(2026, 9, 16))
    result = simulate(f, d(2026, 11, 19), d(2026, 11, 30), config())
    assert cards(result.sent) == [("birthday", "post", d(2026, 11, 24), d(2026, 11, 19), d(2026, 11, 26), True)]
    start = clock_start(f, d(2026, 11, 19))
    assert longest_gap(start, [t.arrives for t in result.sent], d(2026, 11, 30)) == 71


def test_the_forecast_shows_the_breach_of_a_late_arrival() -> None:
    """The forecast counts the late card on its arrival: 71 days after the last contact, over the limit."""
    f = post(birthday=Birthday(11, 24), last_event_touch=d(2026, 9, 16))
    (customer,) = forecast_from_facts([f], config(), d(2026, 11, 19), d(2026, 11, 30)).to_json()["customers"]
    assert customer["max_gap_days"] == 71


def test_a_mailed_card_counts_from_its_arrival() -> None:
    """A posted card mailed late restarts the clock on its arrival, not on its occasion date."""
    mailed = Card("c1", "birthday", d(2026, 6, 1), "post", "mailed")
    f = post(
        last_event_touch=d(2026, 5, 1), cards=(mailed,), post_arrivals=(("birthday", d(2026, 6, 1), d(2026, 6, 4)),)
    )
    assert clock_start(f, d(2026, 7, 1)) == d(2026, 6, 4)
    assert clock_start(f, d(2026, 6, 3)) == d(2026, 5, 1)


# Cards already in the history.


def test_a_card_in_the_history_keeps_the_min_gap() -> None:
    """A card recorded on Mar 20 drops the April Fool's card of Apr 1, with the reason."""
    f = email(last_event_touch=d(2027, 3, 20), card_days=(d(2027, 3, 20),))
    schedule = plan_customer(f, d(2027, 4, 1), config())
    assert schedule.due(d(2027, 4, 1)) == []
    assert [t.suppressed_reason for t in schedule.suppressed] == [
        "collides with a card recorded on 2027-03-20 (less than 14 days apart)"
    ]


def test_a_history_card_of_a_card_in_the_outbox_is_that_card() -> None:
    """The card event written when a birthday card went out is that card: a collision names the birthday."""
    sent_card = Card("c1", "birthday", d(2026, 11, 16), "email", "sent")
    f = email(country="US", birthday=Birthday(11, 16), cards=(sent_card,), card_days=(d(2026, 11, 16),))
    schedule = plan_customer(f, d(2026, 11, 26), config())
    assert [t.suppressed_reason for t in schedule.suppressed] == [
        "collides with birthday on 2026-11-16 (less than 14 days apart)"
    ]


def test_plan_lists_late_cards_with_their_arrival() -> None:
    """A one-day plan keeps a late posted card with its real arrival; an on-time one arrives by its day."""
    late = post(customer_id="a", birthday=Birthday(11, 24))
    on_time = post(customer_id="b", birthday=Birthday(11, 26))
    touches = plan_from_facts([late, on_time], config(), d(2026, 11, 19))
    assert cards(touches) == [
        ("birthday", "post", d(2026, 11, 24), d(2026, 11, 19), d(2026, 11, 26), True),
        ("birthday", "post", d(2026, 11, 26), d(2026, 11, 19), d(2026, 11, 26), False),
    ]


@pytest.mark.parametrize(
    ("occasion", "channel", "due_date", "late"),
    [
        ("birthday", "post", d(2026, 11, 17), False),
        ("birthday", "post", d(2026, 11, 19), True),
        ("birthday", "email", d(2026, 11, 26), False),
        ("thank_you", "post", d(2026, 11, 24), False),
    ],
)
def test_a_card_is_late_when_due_after_its_mail_by_date(
    occasion: str, channel: str, due_date: dt.date, late: bool
) -> None:
    """An outbox row is late when it is posted and due after the day it should have been mailed."""
    assert is_late(occasion, channel, d(2026, 11, 24), due_date, config()) is late

"""Occasion dates, business days, the mail-by rule and the quiet window."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from cardsender.domain.records import Birthday
from cardsender.domain.rules import WeekdayRule, parse_weekday_rule
from cardsender.planning import dates as occasions

d = dt.date


@pytest.mark.parametrize(
    ("year", "feb29", "expected"),
    [
        (2027, "feb28", d(2027, 2, 28)),
        (2027, "mar1", d(2027, 3, 1)),
        (2028, "feb28", d(2028, 2, 29)),
        (2028, "mar1", d(2028, 2, 29)),
        (2100, "feb28", d(2100, 2, 28)),
    ],
)
def test_feb29_birthday_moves_in_other_years(year: int, feb29: str, expected: dt.date) -> None:
    """A Feb 29 birthday falls on Feb 28 (or Mar 1 when set) in years without Feb 29."""
    assert occasions.birthday_in(Birthday(2, 29, 1980), year, feb29) == expected


@pytest.mark.parametrize(
    ("country", "year", "expected"),
    [
        ("US", 2026, d(2026, 11, 26)),
        ("US", 2027, d(2027, 11, 25)),
        ("CA", 2026, d(2026, 10, 12)),
        ("CA", 2027, d(2027, 10, 11)),
    ],
)
def test_builtin_thanksgiving_dates(country: str, year: int, expected: dt.date) -> None:
    """US Thanksgiving is the 4th Thursday of November, Canadian the 2nd Monday of October."""
    rule = occasions.thanksgiving_rule(country, {})
    assert rule is not None
    assert rule.date_in(year) == expected


def _named(calendar: dict[dt.date, str], word: str) -> list[dt.date]:
    return [day for day, name in calendar.items() if word in name]


def test_us_thanksgiving_matches_holidays_package() -> None:
    """The US rule agrees with the holidays package for 1990 to 2040."""
    rule = occasions.BUILTIN_THANKSGIVING["US"]
    for year in range(1990, 2041):
        found = _named(holidays.country_holidays("US", years=year, language="en_US"), "Thanksgiving")
        assert found == [rule.date_in(year)], year


def test_canadian_thanksgiving_matches_holidays_package() -> None:
    """The CA rule agrees with the holidays package (Ontario observes it) for 1990 to 2040."""
    rule = occasions.BUILTIN_THANKSGIVING["CA"]
    for year in range(1990, 2041):
        found = _named(holidays.country_holidays("CA", subdiv="ON", years=year, language="en_CA"), "Thanksgiving")
        assert found == [rule.date_in(year)], year


def test_configured_rule_overrides_and_adds_countries() -> None:
    """A rule from config is used for its country; countries without a rule get no Thanksgiving."""
    extra = {"LR": parse_weekday_rule("1st Thursday of November")}
    assert occasions.dates_between(
        "thanksgiving", d(2026, 1, 1), d(2026, 12, 31), country="LR", thanksgiving_rules=extra
    ) == [d(2026, 11, 5)]
    assert occasions.dates_between("thanksgiving", d(2026, 1, 1), d(2026, 12, 31), country="FR") == []


@pytest.mark.parametrize(
    ("text", "rule", "in_2026"),
    [
        ("4th Thursday of November", WeekdayRule(4, 3, 11), d(2026, 11, 26)),
        ("second monday in october", WeekdayRule(2, 0, 10), d(2026, 10, 12)),
        ("last Monday of May", WeekdayRule(-1, 0, 5), d(2026, 5, 25)),
    ],
)
def test_weekday_rules_parse(text: str, rule: WeekdayRule, in_2026: dt.date) -> None:
    """Rules of the form "Nth WEEKDAY of MONTH" parse and give the right date."""
    assert parse_weekday_rule(text) == rule
    assert rule.date_in(2026) == in_2026


@pytest.mark.parametrize("text", ["Thursday of November", "4th Thursday of Novembre", "9th Monday of May", ""])
def test_bad_weekday_rules_are_refused(text: str) -> None:
    """A rule that is not of the form "Nth WEEKDAY of MONTH" is refused."""
    with pytest.raises(ValueError, match="is not"):
        parse_weekday_rule(text)


@pytest.mark.parametrize(
    ("occasion_date", "lead", "expected"),
    [
        (d(2027, 4, 1), 7, d(2027, 3, 25)),  # Thursday to Thursday
        (d(2026, 12, 5), 7, d(2026, 11, 27)),  # a Saturday: mailed the Friday before
        (d(2026, 12, 6), 7, d(2026, 11, 27)),  # a Sunday - 7 is a Sunday: the Friday before
        (d(2027, 4, 3), 7, d(2027, 3, 26)),  # April 3, 2027 is a Saturday
        (d(2026, 11, 30), 0, d(2026, 11, 30)),
    ],
)
def test_mail_by_is_a_business_day_before_the_lead(occasion_date: dt.date, lead: int, expected: dt.date) -> None:
    """A posted card is mailed postal_lead_days ahead, moved back to a weekday."""
    assert occasions.mail_by(occasion_date, lead) == expected
    assert occasions.is_business_day(expected)


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (d(2026, 12, 19), False),
        (d(2026, 12, 20), True),
        (d(2026, 12, 25), True),
        (d(2027, 1, 2), True),
        (d(2027, 1, 3), False),
        (d(2026, 7, 4), False),
    ],
)
def test_quiet_window_wraps_the_new_year(day: dt.date, inside: bool) -> None:
    """The quiet window runs from Dec 20 to Jan 2 inclusive."""
    assert occasions.in_quiet_window(day, (12, 20), (1, 2)) is inside


@pytest.mark.parametrize("day", [d(2026, 12, 22), d(2027, 1, 1)])
def test_before_quiet_window_is_the_last_business_day_before_it(day: dt.date) -> None:
    """A day in the window maps to the last weekday before Dec 20 (Dec 19, 2026 is a Saturday)."""
    assert occasions.before_quiet_window(day, (12, 20)) == d(2026, 12, 18)


def test_there_is_no_christmas_occasion() -> None:
    """No occasion is named or dated as Christmas."""
    names = " ".join(occasions.OCCASIONS)
    assert not any(word in names for word in ("christmas", "xmas", "noel", "navidad"))

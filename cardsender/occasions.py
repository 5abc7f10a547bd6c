"""Occasion dates, business days, the mail-by rule and the quiet window (pure date logic)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from cardsender.records import Birthday
from cardsender.rules import WeekdayRule

# Settled first when two dated cards collide: the higher priority wins (issue 3).
DATED_OCCASIONS = ("birthday", "thank_you", "thanksgiving", "april_fools")
OCCASIONS = (*DATED_OCCASIONS, "check_in")
PRIORITY = {name: rank for rank, name in enumerate(OCCASIONS)}

BUILTIN_THANKSGIVING: Mapping[str, WeekdayRule] = {
    "US": WeekdayRule(nth=4, weekday=3, month=11),  # 4th Thursday of November
    "CA": WeekdayRule(nth=2, weekday=0, month=10),  # 2nd Monday of October, every province
}
DAY = dt.timedelta(days=1)


def birthday_in(birthday: Birthday, year: int, feb29: str = "feb28") -> dt.date:
    """Return the day a birthday is celebrated in a year; Feb 29 moves to Feb 28 or Mar 1 in other years."""
    if birthday.month == 2 and birthday.day == 29 and not is_leap(year):
        return dt.date(year, 3, 1) if feb29 == "mar1" else dt.date(year, 2, 28)
    return dt.date(year, birthday.month, birthday.day)


def is_leap(year: int) -> bool:
    """Return whether a year has a February 29."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def thanksgiving_rule(country: str, extra_rules: Mapping[str, WeekdayRule]) -> WeekdayRule | None:
    """Return the Thanksgiving rule for a country: configured rules first, then the built-in US and CA."""
    return extra_rules.get(country) or BUILTIN_THANKSGIVING.get(country)


def april_fools_in(year: int) -> dt.date:
    """Return April 1 of a year."""
    return dt.date(year, 4, 1)


def is_business_day(day: dt.date) -> bool:
    """Return whether a day is Monday to Friday."""
    return day.weekday() < 5


def previous_business_day(day: dt.date) -> dt.date:
    """Return the day itself when it is a business day, else the Friday before."""
    while not is_business_day(day):
        day -= DAY
    return day


def mail_by(occasion_date: dt.date, postal_lead_days: int) -> dt.date:
    """Return the day a posted card must be mailed to arrive on its occasion date."""
    return previous_business_day(occasion_date - dt.timedelta(days=postal_lead_days))


def in_quiet_window(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> bool:
    """Return whether a day falls in the quiet window (month-day bounds, inclusive, may wrap the year)."""
    key = (day.month, day.day)
    if start <= end:
        return start <= key <= end
    return key >= start or key <= end


def before_quiet_window(day: dt.date, start: tuple[int, int]) -> dt.date:
    """Return the last business day before the quiet window that contains ``day``."""
    year = day.year if (day.month, day.day) >= start else day.year - 1
    return previous_business_day(dt.date(year, *start) - DAY)


def dates_between(
    occasion: str,
    first: dt.date,
    last: dt.date,
    *,
    birthday: Birthday | None = None,
    country: str = "",
    feb29: str = "feb28",
    thanksgiving_rules: Mapping[str, WeekdayRule] | None = None,
) -> list[dt.date]:
    """Return a yearly occasion's dates from ``first`` to ``last`` inclusive."""
    found: list[dt.date] = []
    for year in range(first.year, last.year + 1):
        day: dt.date | None = None
        if occasion == "birthday" and birthday is not None:
            day = birthday_in(birthday, year, feb29)
        elif occasion == "thanksgiving":
            rule = thanksgiving_rule(country, thanksgiving_rules or {})
            day = _rule_date(rule, year) if rule else None
        elif occasion == "april_fools":
            day = april_fools_in(year)
        if day is not None and first <= day <= last:
            found.append(day)
    return found


def _rule_date(rule: WeekdayRule, year: int) -> dt.date | None:
    try:
        return rule.date_in(year)
    except ValueError:  # a "5th Monday" that this year does not have
        return None

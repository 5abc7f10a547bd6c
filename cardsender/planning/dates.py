"""Occasion dates, mail days, the mail-by rule and the quiet window (pure date logic).

Mail days come from the holidays package's tables (python-holidays), which are
data shipped with it: no network and no clock.  Occasions never follow its
holiday names; Thanksgiving is our own rule below.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from cardsender.domain.errors import ConfigError
from cardsender.domain.occasions import OCCASION_TABLE
from cardsender.domain.records import Birthday
from cardsender.domain.rules import ClosedDay, WeekdayRule
from cardsender.domain.vocabulary import Occasion

# The members the planner compares against, read once: on Python 3.11 reading a member from its enum
# class is a slow attribute lookup, and a forecast makes millions of comparisons.
_OCCASION_APRIL_FOOLS = Occasion.APRIL_FOOLS
_OCCASION_BIRTHDAY = Occasion.BIRTHDAY
_OCCASION_THANKSGIVING = Occasion.THANKSGIVING

# Every occasion, in the order two colliding cards are settled (the first wins); the table ranks them.
OCCASIONS: tuple[Occasion, ...] = tuple(sorted(OCCASION_TABLE, key=lambda occasion: OCCASION_TABLE[occasion].rank))
DATED_OCCASIONS: tuple[Occasion, ...] = tuple(occasion for occasion in OCCASIONS if OCCASION_TABLE[occasion].dated)
# Keyed by str so that a stored word looks up its rank as well as the member does.
PRIORITY: Mapping[str, int] = {occasion: OCCASION_TABLE[occasion].rank for occasion in OCCASIONS}

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


# Monday to Friday; the holidays package gives each country's own weekend (Friday and Saturday in some).
WEEKEND = frozenset({5, 6})
# A run of closed days longer than this means [print] closed_days closes (nearly) everything.
MAX_CLOSED_RUN = 31


@functools.cache
def public_holidays(country: str, subdivision: str, year: int) -> tuple[frozenset[dt.date], frozenset[int]]:
    """Return a country's (and subdivision's) public holidays in a year, and its weekend days (0 = Monday).

    Cached for each country, subdivision and year: planning 100,000 customers asks thousands of times.
    A country the holidays package does not know has no public holidays here (weekends only), and a
    subdivision it does not know has the country's; [print] closed_days adds what is missing.
    """
    import holidays  # about 0.1 s to import: only when a posted card is planned

    if not country:
        return frozenset(), WEEKEND
    # Holiday names follow the process locale unless a language is given; we use only the dates,
    # but fix the language so the tables never depend on where the service runs.
    for subdiv in dict.fromkeys((subdivision or None, None)):
        try:
            found = holidays.country_holidays(country, subdiv=subdiv, years=year, language="en_US")
        except NotImplementedError:  # the package's error for an unknown country or subdivision
            continue
        return frozenset(found), frozenset(found.weekend)
    return frozenset(), WEEKEND


@dataclass(frozen=True, slots=True)
class MailCalendar:
    """The days the office mails cards: its country's business days that are not public holidays there,
    less its own closed days."""

    country: str = ""
    subdivision: str = ""
    closed: tuple[ClosedDay, ...] = ()
    _shut: dict[int, frozenset[dt.date]] = field(default_factory=dict, compare=False, repr=False)
    # The answers already found: planning 100,000 customers asks about the same few hundred days.
    _before: dict[dt.date, dt.date] = field(default_factory=dict, compare=False, repr=False)
    _after: dict[dt.date, dt.date] = field(default_factory=dict, compare=False, repr=False)

    def _shut_in(self, year: int) -> frozenset[dt.date]:
        found = self._shut.get(year)
        if found is None:
            holidays, weekend = public_holidays(self.country, self.subdivision, year)
            days = (dt.date(year, 1, 1) + n * DAY for n in range(366))
            weekends = {day for day in days if day.year == year and day.weekday() in weekend}
            own = {day for c in self.closed if (day := c.falls_in(year)) is not None}
            found = self._shut[year] = frozenset(weekends | holidays | own)
        return found

    def is_mail_day(self, day: dt.date) -> bool:
        """Return whether the office mails on a day."""
        return day not in self._shut_in(day.year)

    def on_or_before(self, day: dt.date) -> dt.date:
        """Return the day itself when it is a mail day, else the mail day before."""
        found = self._before.get(day)
        if found is None:
            found = self._before[day] = self._walk(day, -DAY)
        return found

    def on_or_after(self, day: dt.date) -> dt.date:
        """Return the day itself when it is a mail day, else the next mail day."""
        found = self._after.get(day)
        if found is None:
            found = self._after[day] = self._walk(day, DAY)
        return found

    def _walk(self, day: dt.date, step: dt.timedelta) -> dt.date:
        start = day
        while not self.is_mail_day(day):
            day += step
            if abs((day - start).days) > MAX_CLOSED_RUN:
                raise ConfigError(
                    f"no mail day within {MAX_CLOSED_RUN} days of {start.isoformat()}: "
                    "[print] closed_days closes too many days; list only the days the office does not mail"
                )
        return day


WEEKDAYS_ONLY = MailCalendar()


@functools.cache
def mail_calendar(country: str, subdivision: str, closed: tuple[ClosedDay, ...]) -> MailCalendar:
    """Return the (shared, cached) mail calendar of an office."""
    return MailCalendar(country, subdivision, closed)


def mail_by(occasion_date: dt.date, postal_lead_days: int, calendar: MailCalendar = WEEKDAYS_ONLY) -> dt.date:
    """Return the mail day a posted card is mailed to arrive by its occasion date (it arrives lead days later)."""
    return calendar.on_or_before(occasion_date - dt.timedelta(days=postal_lead_days))


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
    occasion: Occasion | str,
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
        if occasion == _OCCASION_BIRTHDAY and birthday is not None:
            day = birthday_in(birthday, year, feb29)
        elif occasion == _OCCASION_THANKSGIVING:
            rule = thanksgiving_rule(country, thanksgiving_rules or {})
            day = _rule_date(rule, year) if rule else None
        elif occasion == _OCCASION_APRIL_FOOLS:
            day = april_fools_in(year)
        if day is not None and first <= day <= last:
            found.append(day)
    return found


def _rule_date(rule: WeekdayRule, year: int) -> dt.date | None:
    try:
        return rule.date_in(year)
    except ValueError:  # a "5th Monday" that this year does not have
        return None

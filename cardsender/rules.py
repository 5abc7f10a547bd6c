"""Calendar rules of the form "Nth WEEKDAY of MONTH" (pure date logic)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = tuple(name.lower() for name in calendar.month_name[1:])
_ORDINALS = {
    "1st": 1,
    "first": 1,
    "2nd": 2,
    "second": 2,
    "3rd": 3,
    "third": 3,
    "4th": 4,
    "fourth": 4,
    "5th": 5,
    "fifth": 5,
    "last": -1,
}
_RULE = re.compile(r"^\s*(\w+)\s+(\w+)\s+(?:of|in)\s+(\w+)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WeekdayRule:
    """The Nth (1 to 5, or -1 for the last) weekday (0 = Monday) of a month."""

    nth: int
    weekday: int
    month: int

    def date_in(self, year: int) -> dt.date:
        """Return the rule's date in a year; a 5th weekday that does not exist raises ValueError."""
        days_in_month = calendar.monthrange(year, self.month)[1]
        if self.nth == -1:
            last = dt.date(year, self.month, days_in_month)
            return last - dt.timedelta(days=(last.weekday() - self.weekday) % 7)
        first = dt.date(year, self.month, 1)
        day = 1 + (self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1)
        if day > days_in_month:
            raise ValueError(f"{year} has no {self} ")
        return dt.date(year, self.month, day)

    def possible_days(self) -> range:
        """Return the days of the month on which the rule can fall in some year."""
        if self.nth == -1:
            return range(22, 32)
        return range(7 * (self.nth - 1) + 1, 7 * self.nth + 1)

    def can_fall_on_christmas(self) -> bool:
        """Return whether the rule can land on December 24, 25 or 26."""
        return self.month == 12 and any(day in self.possible_days() for day in (24, 25, 26))

    def __str__(self) -> str:
        nth = "last" if self.nth == -1 else f"{self.nth}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(self.nth, 'th') }"
        return f"{nth} {WEEKDAYS[self.weekday].title()} of {MONTHS[self.month - 1].title()}"


def parse_weekday_rule(text: str) -> WeekdayRule:
    """Parse "4th Thursday of November" (or "last Monday of May") into a rule."""
    match = _RULE.match(text)
    if not match:
        raise ValueError(f"'{text}' is not of the form 'Nth WEEKDAY of MONTH'")
    ordinal, weekday, month = (part.lower() for part in match.groups())
    if ordinal not in _ORDINALS:
        raise ValueError(f"'{ordinal}' is not one of 1st, 2nd, 3rd, 4th, 5th or last")
    if weekday not in WEEKDAYS:
        raise ValueError(f"'{weekday}' is not a weekday name")
    if month not in MONTHS:
        raise ValueError(f"'{month}' is not a month name")
    return WeekdayRule(_ORDINALS[ordinal], WEEKDAYS.index(weekday), MONTHS.index(month) + 1)

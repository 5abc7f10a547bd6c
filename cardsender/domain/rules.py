"""Calendar rules: "Nth WEEKDAY of MONTH", and the days the office does not mail (pure date logic)."""

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


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """A day the office mails nothing: one date, or (without a year) the same month and day every year."""

    month: int
    day: int
    year: int | None = None

    def falls_in(self, year: int) -> dt.date | None:
        """Return the closed day in a year, or None when it is not in that year (or is Feb 29 of another)."""
        if self.year is not None and self.year != year:
            return None
        if (self.month, self.day) == (2, 29) and not calendar.isleap(year):
            return None
        return dt.date(year, self.month, self.day)

    def __str__(self) -> str:
        year = f"{self.year:04d}-" if self.year is not None else ""
        return f"{year}{self.month:02d}-{self.day:02d}"


_CLOSED = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")


def parse_closed_day(text: str) -> ClosedDay:
    """Parse "2026-12-24" (that day) or "12-24" (every December 24) into a closed day."""
    match = _CLOSED.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is neither a date YYYY-MM-DD nor a yearly day MM-DD")
    year, month, day = (int(part) if part else None for part in match.groups())
    assert month is not None and day is not None
    try:
        dt.date(2000 if year is None else year, month, day)  # 2000 is a leap year: "02-29" is a yearly day
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a day of the calendar ({exc})") from exc
    return ClosedDay(month, day, year)

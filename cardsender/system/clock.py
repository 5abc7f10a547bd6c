"""The one place that reads the clock.

A command, or a tick of the service, reads it once into a frozen ``Clock`` and passes
that down: every reading of the command then agrees.  Only the send cycle's pacing reads
the live time (``Clock.now``), since it waits between cards.

``CARDSENDER_TEST_NOW`` (an ISO date-time with its offset, such as
``2026-03-02T14:00:00+00:00``) stops the clock at that moment: a test-only setting that
lets the tests run the service as a subprocess on a chosen day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TEST_NOW = "CARDSENDER_TEST_NOW"


def _now() -> dt.datetime:
    """Return the current moment, aware; the test-only setting replaces it when given."""
    frozen = os.environ.get(TEST_NOW)
    if frozen:
        moment = dt.datetime.fromisoformat(frozen)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def _naive_utc(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Moment:
    """One reading of the clock as an office sees it: the UTC time the store keeps, the office's day and time.

    ``days`` moves the office's day (``--on DATE``); the UTC time stays the real one, because claims,
    leases and the mail account's daily limit are shared with services that live in real time.
    """

    instant: dt.datetime  # aware
    timezone: str
    days: int = 0

    @property
    def utc(self) -> dt.datetime:
        """Return the time in UTC, without tzinfo, as the store keeps it."""
        return _naive_utc(self.instant)

    @property
    def today(self) -> dt.date:
        """Return the office's day."""
        return self.instant.astimezone(ZoneInfo(self.timezone)).date() + dt.timedelta(days=self.days)

    @property
    def office_now(self) -> dt.datetime:
        """Return the office's wall-clock time on its day, without tzinfo, to the minute."""
        local = self.instant.astimezone(ZoneInfo(self.timezone)).replace(tzinfo=None, second=0, microsecond=0)
        return local + dt.timedelta(days=self.days)

    def on(self, day: dt.date) -> Moment:
        """Return this moment with the office's day moved to another day, at the same time of day."""
        return Moment(self.instant, self.timezone, self.days + (day - self.today).days)

    def elsewhere(self, timezone: str) -> Moment:
        """Return the same instant as an office in another time zone sees it (its own day, unmoved)."""
        return Moment(self.instant, timezone)


class Clock:
    """Where a command's time comes from: one frozen instant for its moments, the live time for pacing."""

    def __init__(self, read: Callable[[], dt.datetime] = _now, *, at: dt.datetime | None = None) -> None:
        self._read = read
        self._at = at
        self._days: dict[str, int] = {}

    def frozen(self) -> Clock:
        """Return a clock whose moments are all this instant: read the clock once, for a command or a tick."""
        frozen = Clock(self._read, at=self._at or self._read())
        frozen._days = dict(self._days)
        return frozen

    def on(self, day: dt.date, timezone: str) -> Clock:
        """Return this clock, frozen, with an office's day moved to ``day`` (``--on DATE``)."""
        moved = self.frozen()
        assert moved._at is not None
        moved._days[timezone] = (day - Moment(moved._at, timezone).today).days
        return moved

    def moment(self, timezone: str) -> Moment:
        """Return the moment as an office in a time zone sees it."""
        return Moment(self._at or self._read(), timezone, self._days.get(timezone, 0))

    def utc(self) -> dt.datetime:
        """Return the clock's moment in UTC, without tzinfo, as the store keeps it (a frozen clock's instant)."""
        return _naive_utc(self._at or self._read())

    def now(self) -> dt.datetime:
        """Return the live time in UTC, without tzinfo: for waiting between cards, never for the day."""
        return _naive_utc(self._read())


def utc_now() -> dt.datetime:
    """Return the current time in UTC, without tzinfo, as the store keeps it."""
    return _naive_utc(_now())


def office_today(timezone: str) -> dt.date:
    """Return today's date in the office time zone."""
    return _now().astimezone(ZoneInfo(timezone)).date()


def office_now(timezone: str) -> dt.datetime:
    """Return the current wall-clock time in the office time zone, without tzinfo, to the minute."""
    return _now().astimezone(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)

"""The one place that reads the clock.

``CARDSENDER_TEST_NOW`` (an ISO date-time with its offset, such as
``2026-03-02T14:00:00+00:00``) stops the clock at that moment: a test-only setting that
lets the tests run the service as a subprocess on a chosen day.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

TEST_NOW = "CARDSENDER_TEST_NOW"


def _now() -> dt.datetime:
    """Return the current moment, aware; the test-only setting replaces it when given."""
    frozen = os.environ.get(TEST_NOW)
    if frozen:
        moment = dt.datetime.fromisoformat(frozen)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def utc_now() -> dt.datetime:
    """Return the current time in UTC, without tzinfo, as the store keeps it."""
    return _now().astimezone(dt.UTC).replace(tzinfo=None)


def office_today(timezone: str) -> dt.date:
    """Return today's date in the office time zone."""
    return _now().astimezone(ZoneInfo(timezone)).date()


def office_now(timezone: str) -> dt.datetime:
    """Return the current wall-clock time in the office time zone, without tzinfo, to the minute."""
    return _now().astimezone(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)

"""The one place that reads the clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def utc_now() -> dt.datetime:
    """Return the current time in UTC, without tzinfo, as the store keeps it."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def office_today(timezone: str) -> dt.date:
    """Return today's date in the office time zone."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def office_now(timezone: str) -> dt.datetime:
    """Return the current wall-clock time in the office time zone, without tzinfo, to the minute."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)

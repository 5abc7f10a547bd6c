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

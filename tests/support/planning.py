"""Configs and customer facts for the pure planner's tests, built from values instead of files."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cardsender.config.loading import parse_config
from cardsender.config.model import Config
from cardsender.planning.planner import CustomerFacts


def config(**sections: Any) -> Config:
    """Return a config with a start date long ago, plus any sections given."""
    data: dict[str, Any] = {"office": {"start_date": "2020-01-01", "country": "US"}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, None)


def email_facts(**changes: Any) -> CustomerFacts:
    """Return a French email customer (no Thanksgiving) touched on Nov 1, 2026, with the given changes."""
    values: dict[str, Any] = {
        "customer_id": "c1",
        "added_on": dt.date(2025, 1, 1),
        "channels": ("email",),
        "last_event_touch": dt.date(2026, 11, 1),
        "country": "FR",
    }
    values.update(changes)
    return CustomerFacts(**values)

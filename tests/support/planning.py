"""Configs for the pure planner's tests, built from values instead of files."""

from __future__ import annotations

from typing import Any

from cardsender.config.loading import parse_config
from cardsender.config.model import Config


def config(**sections: Any) -> Config:
    """Return a config with a start date long ago, plus any sections given."""
    data: dict[str, Any] = {"office": {"start_date": "2020-01-01", "country": "US"}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, None)

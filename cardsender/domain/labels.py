"""The occasions' names as people read them: kept importable here; the occasion table holds them."""

from __future__ import annotations

from cardsender.domain.occasions import OCCASION_LABELS, occasion_label

__all__ = ["OCCASION_LABELS", "occasion_label"]

"""Words for people in place of the occasions' internal names."""

from __future__ import annotations

OCCASION_LABELS = {
    "birthday": "Birthday",
    "thank_you": "Thank-you",
    "thanksgiving": "Thanksgiving",
    "april_fools": "April Fool's",
    "check_in": "Check-in",
}


def occasion_label(occasion: str) -> str:
    """Return the occasion's name as a heading shows it."""
    return OCCASION_LABELS.get(occasion, occasion.replace("_", " ").capitalize())

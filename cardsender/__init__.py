"""cardsender: personal greeting cards and keep-in-touch messages for small businesses."""

__version__ = "0.1.0"

"""The one exception tree: every error a user can act on derives from CardsenderError."""

from __future__ import annotations


class CardsenderError(Exception):
    """Base of all errors that the CLI prints as one line, without a traceback."""


class ConfigError(CardsenderError):
    """The configuration file is missing, unreadable or invalid."""


class StoreError(CardsenderError):
    """The database cannot be opened, migrated or queried."""


class ImportFileError(CardsenderError):
    """An import file cannot be read at all; nothing was imported."""


class InputError(CardsenderError):
    """A value given by the user (an option, a field, a row) is not valid."""


class NotFoundError(CardsenderError):
    """A customer or another record named by the user does not exist."""

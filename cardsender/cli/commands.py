"""The ``cardsender`` group under its former name; the commands live in one module per group beside it."""

from cardsender.cli.group import cli, main

__all__ = ["cli", "main"]

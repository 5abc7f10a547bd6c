"""The command line: parse the arguments, call the application layer, print, translate errors.

It may import everything; nothing imports it.
"""

from cardsender.cli.commands import cli, main

__all__ = ["cli", "main"]

"""The command line: parse the arguments, call one verb of the office (``cardsender.app.office``), print,
translate errors.  One module per group of commands; ``group`` holds the ``cardsender`` group itself.

It may import everything; nothing imports it.  It loads the library on first use, so ``--help`` starts at once.
"""

from cardsender.cli.group import cli, main

__all__ = ["cli", "main"]

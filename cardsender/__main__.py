"""Allow ``python -m cardsender``."""

from cardsender.cli.commands import main

if __name__ == "__main__":
    main()

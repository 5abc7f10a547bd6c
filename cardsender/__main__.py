"""Allow ``python -m cardsender``."""

from cardsender.cli import main

if __name__ == "__main__":
    main()

"""What every command shares: the loaded config, the one reading of the clock, the office, and presenting.

This is the one module of the command line that reads the clock: once per command, when the
command first needs the time, frozen for the rest of it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cardsender.config.loading import load_config
from cardsender.config.model import DATE_FORMATS
from cardsender.domain.errors import InputError
from cardsender.system.clock import Clock

if TYPE_CHECKING:
    from cardsender.app.office import Office
    from cardsender.config.model import Config
    from cardsender.domain.records import Customer

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """What every command needs: the loaded config and the clock, each read on first use."""

    def __init__(self, config_path: str | None, verbose: bool, office: str | None = None) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.office_key = office
        self._config: Config | None = None
        self._clock: Clock | None = None

    @property
    def config(self) -> Config:
        """Return the config, acting for the office chosen with --office (else the first it names)."""
        if self._config is None:
            loaded = load_config(self.config_path)
            self._config = loaded.for_office(self.office_key) if self.office_key else loaded
        return self._config

    @property
    def clock(self) -> Clock:
        """Return the command's clock, read once and frozen: every time the command uses agrees."""
        if self._clock is None:
            self._clock = Clock().frozen()
        return self._clock

    def office(self) -> Office:
        """Return the office the command acts for; use it in a ``with`` block so its database is closed."""
        from cardsender.app.office import Office

        return Office(self.config, clock=self.clock)


def parse_day(text: str | None, option: str = "--on") -> dt.date | None:
    """Parse a day given on the command line as YYYY-MM-DD (None when not given)."""
    if text is None or not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option}: '{text}' is not a date; write YYYY-MM-DD, for example 2026-03-14") from None


def print_json(data: Any) -> None:
    """Print data as indented JSON, letters as they are."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def plural(count: int, noun: str) -> str:
    """Return a count with its noun, in the plural unless it is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def approval_note(count: int) -> str:
    """Say how many cards wait for approval and how to release them ("" when none do)."""
    if not count:
        return ""
    return (
        f"{plural(count, 'card')} {'waits' if count == 1 else 'wait'} for approval: 'cardsender approve --all' "
        "sends them with the next run ('cardsender approve ROW...' some of them, 'cardsender skip ROW' never)"
    )


def who(customer: Customer) -> str:
    """Return a customer's name with their id."""
    return f"{customer.display_name} ({customer.id})"


def config_option(config_path: Path) -> str:
    """Return `` --config PATH`` unless the config would be found in the current folder anyway."""
    if config_path.resolve().parent == Path.cwd().resolve():
        return ""
    return f' --config "{config_path}"' if " " in str(config_path) else f" --config {config_path}"


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a callback that draws a progress bar on a terminal, or None when output is redirected."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    with ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(length=total, label=label, file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        yield update


@contextmanager
def spinner(label: str) -> Iterator[None]:
    """Say on a terminal that long work is under way; stay quiet when output is redirected."""
    if sys.stdout.isatty() and sys.stderr.isatty():
        click.echo(f"{label}...", err=True)
    yield


def customer_id_argument(command: F) -> F:
    """Add the ID argument naming a customer."""
    return click.argument("customer_id", metavar="ID")(command)


def on_option(command: F) -> F:
    """Add --on DATE, the day a command works on."""
    return click.option("--on", metavar="DATE", help="The day, YYYY-MM-DD (default: today at the office).")(command)


def json_option(command: F) -> F:
    """Add --json."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def date_format_option(command: F) -> F:
    """Add --date-format, how an import reads ambiguous dates."""
    return click.option(
        "--date-format",
        type=click.Choice(DATE_FORMATS),
        help="How to read dates such as 03/04/1980 (default: [import] date_format in the config).",
    )(command)

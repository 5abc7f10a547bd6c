"""The ``cardsender`` group: its global options, its commands, and our errors translated once, as one line."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from cardsender import __version__
from cardsender.cli import (
    card_commands,
    customer_commands,
    import_commands,
    outbox_commands,
    plan_commands,
    print_commands,
    run_command,
    setup_commands,
)
from cardsender.cli.app_context import AppContext
from cardsender.domain.errors import CardsenderError


class CardsenderGroup(click.Group):
    """A group that prints our errors, and click's usage errors, as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CardsenderError as exc:
            verbose = isinstance(ctx.obj, AppContext) and ctx.obj.verbose
            fail(str(exc), exc if verbose else None)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a group named without a command shows its help
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = " ".join(exc.format_message().split()).rstrip(".")  # click may spread it over lines
            fail(f"{message}; see '{where} --help'", exit_code=exc.exit_code)


def fail(message: str, exc: BaseException | None = None, exit_code: int = 1) -> NoReturn:
    """Print an error as one line (and its traceback when given), and exit."""
    if exc is not None:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


@click.group("cardsender", cls=CardsenderGroup)
@click.version_option(__version__, prog_name="cardsender")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file to use.")
@click.option(
    "--office",
    metavar="KEY",
    envvar="CARDSENDER_OFFICE",
    help="The office to act for, by its key in [offices.KEY] (default: the first the config names).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show details, and tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, office: str | None, verbose: bool) -> None:
    """Personal cards and keep-in-touch messages for your customers."""
    ctx.obj = AppContext(config_path, verbose, office)


for module in (
    setup_commands,
    import_commands,
    customer_commands,
    plan_commands,
    card_commands,
    outbox_commands,
    print_commands,
    run_command,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Run the command line."""
    cli(prog_name="cardsender")

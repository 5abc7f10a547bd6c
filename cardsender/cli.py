"""The command line: parse arguments, call one library function, print, translate errors."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from cardsender import __version__
from cardsender.config import Config, load_config
from cardsender.errors import CardsenderError


class AppContext:
    """What every command needs: the loaded config, opened lazily."""

    def __init__(self, config_path: str | None, verbose: bool) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


class CardsenderGroup(click.Group):
    """A group that prints our errors as one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CardsenderError as exc:
            verbose = isinstance(ctx.obj, AppContext) and ctx.obj.verbose
            _fail(str(exc), exc if verbose else None)


def _fail(message: str, exc: BaseException | None = None) -> NoReturn:
    if exc is not None:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.group(cls=CardsenderGroup)
@click.version_option(__version__, prog_name="cardsender")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Config file to use.")
@click.option("-v", "--verbose", is_flag=True, help="Show details, and tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Personal cards and keep-in-touch messages for your customers."""
    ctx.obj = AppContext(config_path, verbose)


def main() -> None:
    """Run the command line."""
    cli(prog_name="cardsender")

"""Run the command line in this process, through click's CliRunner, as a user would type it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from click.testing import CliRunner, Result

from cardsender.cli import cli


class HasConfig(Protocol):
    """Anything that names a config file (an ``Office``)."""

    @property
    def config_path(self) -> Path:
        """Return the config file."""
        ...


def config_path_of(target: Path | HasConfig) -> Path:
    """Return the config file of an office, or the path itself."""
    return target if isinstance(target, Path) else target.config_path


def run(
    target: Path | HasConfig, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None
) -> Result:
    """Run ``cardsender --config CONFIG ARGS...`` and return click's result (exit code, stdout, stderr)."""
    return CliRunner().invoke(cli, ["--config", str(config_path_of(target)), *args], input=input, env=env)


def run_ok(target: Path | HasConfig, *args: str, input: str | None = None) -> Result:
    """Run a command and check that it succeeded."""
    result = run(target, *args, input=input)
    assert result.exit_code == 0, result.output
    return result


def run_json(target: Path | HasConfig, *args: str) -> object:
    """Run a command that prints JSON, check it succeeded, and return what it printed."""
    result = run(target, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def outbox_rows(target: Path | HasConfig) -> list[dict[str, object]]:
    """Return the outbox rows as ``outbox --json`` prints them."""
    rows = run_json(target, "outbox", "--json")
    assert isinstance(rows, list)
    return rows

"""A folder to work in: ``init`` writes the config and creates the database; ``demo`` also fills it with samples."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cardsender.config.loading import CONFIG_FILENAME, load_config, parse_config
from cardsender.domain.errors import ConfigError, InputError
from cardsender.importers import ImportResult, import_customers, import_history
from cardsender.store import Store
from cardsender.system import paths
from cardsender.system.private import open_private, private_folder

DATABASE_FILENAME = "cardsender.db"
# Relative to the config file's folder (the config loader resolves it), so the folder can be moved.
DATABASE_URL = f"sqlite:///{DATABASE_FILENAME}"
# The sample history is written as of this day; ``demo`` shifts it so that it ends yesterday.
SAMPLE_AS_OF = dt.date(2026, 11, 20)
SAMPLE_DATE_COLUMN = "date"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A folder with a config file and its SQLite database."""

    config_path: Path
    database_path: Path
    database_existed: bool


@dataclass(frozen=True, slots=True)
class Demo:
    """A demo workspace and what the sample imports did."""

    workspace: Workspace
    customers: ImportResult
    history: ImportResult


def _set_value(text: str, key: str, value: str) -> str:
    """Set the first ``key = ...`` line, commented out or not, to ``key = value``."""
    pattern = re.compile(rf"^#?[ \t]*{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
    text, count = pattern.subn(lambda _: f"{key} = {value}", text, count=1)
    if count != 1:
        raise ConfigError(f"{paths.example_config()}: the example config has no '{key}' line; reinstall cardsender")
    return text


def render_config(today: dt.date) -> str:
    """Return the commented example config, started today, with a SQLite database beside it."""
    text = paths.example_config().read_text(encoding="utf-8")
    text = _set_value(text, "start_date", today.isoformat())
    return _set_value(text, "url", f'"{DATABASE_URL}"')


def example_timezone() -> str:
    """Return the office time zone of the config that ``init`` writes, so its "today" matches later commands."""
    example = paths.example_config()
    return parse_config(tomllib.loads(example.read_text(encoding="utf-8")), example).office.timezone


def init_workspace(directory: Path, today: dt.date) -> Workspace:
    """Write ``cardsender.toml`` into a folder and create its database; an existing config is never touched.

    When the config exists nothing is done at all: it may name another database,
    and every command creates or migrates the database it names anyway.
    """
    config_path = directory / CONFIG_FILENAME
    if config_path.exists():
        raise ConfigError(
            f"{config_path} already exists and init never overwrites it; edit that file, "
            "or run 'cardsender init OTHER_FOLDER' to start afresh elsewhere"
        )
    text = render_config(today)
    parse_config(tomllib.loads(text), config_path)  # the file we write must load
    database_path = directory / DATABASE_FILENAME
    database_existed = database_path.exists()
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} is a file, not a folder; name a folder for the config and database")
    try:
        private_folder(directory)  # a new folder is its owner's only: the database and outbox go in it
        with config_path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise ConfigError(f"{config_path} already exists and init never overwrites it") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {config_path} ({exc.strerror}); choose a folder you can write to") from exc
    with Store.open(load_config(config_path).database.url):
        pass
    return Workspace(config_path, database_path, database_existed)


def shift_history(source: Path, target: Path, days: int) -> None:
    """Copy a history CSV with every date moved by ``days``; the time of day, if any, stays."""
    with (
        source.open(encoding="utf-8", newline="") as inp,
        open_private(target, "x", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(inp)
        writer = csv.writer(out, lineterminator="\n")
        header = next(reader)
        at = header.index(SAMPLE_DATE_COLUMN)
        writer.writerow(header)
        for row in reader:
            day = dt.date.fromisoformat(row[at][:10]) + dt.timedelta(days=days)
            row[at] = day.isoformat() + row[at][10:]
            writer.writerow(row)


def create_demo(directory: Path, *, today: dt.date, now: dt.datetime) -> Demo:
    """Make a workspace in a new folder, filled with sample customers and a year of history ending yesterday."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InputError(
            f"{directory} already exists and is not empty; the demo needs a new folder: "
            "run 'cardsender demo NEW_FOLDER'"
        )
    workspace = init_workspace(directory, today)
    customers_csv = directory / "customers.csv"
    history_csv = directory / "history.csv"
    with open_private(customers_csv, "xb") as out:  # sample customers, but customers: as private as real ones
        out.write(paths.package_data("sample", "customers.csv").read_bytes())
    shift_history(paths.package_data("sample", "history.csv"), history_csv, (today - SAMPLE_AS_OF).days)
    with Store.open(load_config(workspace.config_path).database.url) as store:
        customers = import_customers(store, customers_csv, today=today, now=now)
        history = import_history(store, history_csv, today=today, now=now)
    return Demo(workspace, customers, history)

"""An office for tests: a folder holding ``cardsender.toml`` and the database it names (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cardsender.config.loading import load_config
from cardsender.config.model import Config
from cardsender.store import Store
from tests.smtpd import SmtpServer

TZ = "America/Toronto"
"""The time zone of every office the harness writes, unless a test names another."""

# Setting values a test leaves out.  A value of None in a test's own settings removes the default key.
OFFICE: Mapping[str, object] = {
    "name": "Harbour Street Bikes",
    "from_address": "hello@harbourbikes.example",
    "timezone": TZ,
    "country": "CA",
    "subdivision": "ON",
}
FILE_EMAIL: Mapping[str, object] = {"transport": "file", "outbox_dir": "outbox"}

WORKSPACE_CONFIG = """\
[office]
name = "Harbour Street Bikes"
from_address = "hello@harbourbikes.example"
timezone = "America/Toronto"
country = "CA"
subdivision = "ON"

[database]
url = "{database_url}"

[email]
transport = "file"
outbox_dir = "outbox"
"""
"""The ``office`` fixture's config (``str.format`` it with ``database_url``)."""


@dataclass(frozen=True)
class Office:
    """A folder holding ``cardsender.toml`` (file transport; SQLite beside it, or a PostgreSQL schema)."""

    root: Path
    config_path: Path

    def config(self) -> Config:
        """Load the office's config."""
        return load_config(self.config_path)

    def open_store(self) -> Store:
        """Open the office's database, migrating it when new; close it (use ``with``)."""
        return Store.open(self.config().database.url)


def toml_value(value: object) -> str:
    """Return a setting's value as TOML: strings quoted (JSON's escapes are TOML's), numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def toml_section(name: str, settings: Mapping[str, object]) -> str:
    """Return ``[name]`` and its settings, leaving out those set to None."""
    lines = [f"[{name}]", *(f"{key} = {toml_value(value)}" for key, value in settings.items() if value is not None)]
    return "\n".join(lines) + "\n"


def smtp_email(port: int, **settings: object) -> dict[str, object]:
    """Return ``[email]`` settings that send through the test SMTP server on 127.0.0.1 (no TLS, no login)."""
    return {"transport": "smtp", "host": "127.0.0.1", "port": port, "security": "none"} | settings


def write_config(
    folder: Path,
    database_url: str,
    *,
    office: Mapping[str, object] | None = None,
    email: Mapping[str, object] | None = None,
    offices: Mapping[str, Mapping[str, object]] | None = None,
    extra: str = "",
) -> Path:
    """Write ``folder/cardsender.toml`` and return its path.

    ``office`` changes the default ``[office]`` settings (None removes one); ``email`` replaces the file
    transport; ``offices`` adds ``[offices.KEY]`` sections; ``extra`` is appended as written.
    """
    sections = [toml_section("office", {**OFFICE, **(office or {})})]
    sections += [toml_section(f"offices.{key}", settings) for key, settings in (offices or {}).items()]
    sections.append(toml_section("database", {"url": database_url}))
    sections.append(toml_section("email", email if email is not None else FILE_EMAIL))
    path = folder / "cardsender.toml"
    path.write_text("\n".join(sections) + extra, encoding="utf-8")
    return path


def make_office(folder: Path, database_url: str) -> Office:
    """Create ``folder`` with the default office's config (file transport) naming ``database_url``."""
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "cardsender.toml"
    config_path.write_text(WORKSPACE_CONFIG.format(database_url=database_url), encoding="utf-8")
    return Office(folder, config_path)


SENDING_OFFICE: Mapping[str, object] = {"subdivision": None, "postal_address": "12 Harbour Street\nToronto"}
"""The ``[office]`` changes of an office that sends email: a postal address for the footer, no subdivision."""


def write_smtp_config(folder: Path, database_url: str, server: SmtpServer, **email: object) -> Path:
    """Write a config that sends through the test server (no TLS, no login unless given), 10,000 a minute."""
    settings = smtp_email(server.port, rate_per_minute=10_000) | email
    return write_config(folder, database_url, office=SENDING_OFFICE, email=settings)

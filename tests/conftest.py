"""Fixtures shared by the tests: an isolated environment and a workspace folder with a config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cardsender.config import Config, load_config
from cardsender.store import Store

WORKSPACE_CONFIG = """\
[office]
name = "Harbour Street Bikes"
from_address = "hello@harbourbikes.example"
timezone = "America/Toronto"
country = "CA"
subdivision = "ON"

[database]
url = "sqlite:///cardsender.db"

[email]
transport = "file"
outbox_dir = "outbox"
"""


@dataclass(frozen=True)
class Workspace:
    """A folder holding ``cardsender.toml`` (file transport, SQLite beside it)."""

    root: Path
    config_path: Path

    def config(self) -> Config:
        """Load the workspace's config."""
        return load_config(self.config_path)

    def open_store(self) -> Store:
        """Open the workspace's database; close it (use ``with``)."""
        return Store.open(self.config().database.url)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the developer's own config, data and log folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.delenv("CARDSENDER_CONFIG", raising=False)
    monkeypatch.delenv("CARDSENDER_TEST_NOW", raising=False)
    monkeypatch.setenv("HOME", str(home))
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(variable, str(home / folder))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """Return a folder with a config: Toronto office, file transport, a SQLite database beside the config."""
    root = tmp_path / "office"
    root.mkdir()
    config_path = root / "cardsender.toml"
    config_path.write_text(WORKSPACE_CONFIG, encoding="utf-8")
    return Workspace(root, config_path)

"""Platform folders and the files shipped with the package."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "cardsender"


def config_dir() -> Path:
    """Return the per-user config folder (e.g. ~/.config/cardsender)."""
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """Return the per-user data folder that holds the default SQLite database."""
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def log_dir() -> Path:
    """Return the per-user log folder."""
    return Path(platformdirs.user_log_dir(APP, appauthor=False))


def package_data(*parts: str) -> Path:
    """Return a file shipped inside the package (sample data, the example config)."""
    return Path(__file__).parent.parent.joinpath("data", *parts)


def bundled_templates() -> Path:
    """Return the bundled card templates: inside the wheel, or ``templates/`` of a checkout."""
    installed = Path(__file__).parent.parent / "templates"
    if installed.is_dir():
        return installed
    return Path(__file__).parent.parent.parent / "templates"


def example_config() -> Path:
    """Return the commented example config: inside the wheel, or at the top of a checkout."""
    installed = package_data("config.example.toml")
    if installed.is_file():
        return installed
    return Path(__file__).parent.parent.parent / "config.example.toml"

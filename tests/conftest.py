"""Fixtures shared by the tests: an isolated environment, the databases in use, an office, an SMTP server.

The helpers the fixtures build on live in ``tests/support/``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.smtpd import smtp_server_fixture
from tests.support.office import Office, make_office

__all__ = ["smtp_server_fixture"]


# The tests that touch the database run against SQLite, and against PostgreSQL too when this names a
# database to use (README, "Testing against PostgreSQL"): e.g. postgresql:///cardsender_test.
POSTGRES_ENV = "CARDSENDER_TEST_POSTGRES"


# Figures a test reached (``record_property("figures", ...)``), shown at the end of the run.  Reports carry
# user properties from pytest-xdist's workers to the controller too.
FIGURES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the figures a test recorded."""
    if report.when == "call":
        FIGURES.extend(str(value) for name, value in report.user_properties if name == "figures")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the tests reached."""
    if FIGURES:
        terminalreporter.section("figures")
        for line in sorted(FIGURES):
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the slow tests first, longest first, so that the workers finish together instead of waiting on one
    at the end.  ``pytest.mark.slow(seconds=N)`` gives a test's rough length; a plain ``slow`` counts as 10 s.
    pytest-xdist hands the tests out in this order, the same on every worker (the sort is stable)."""

    def length(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else float(marker.kwargs.get("seconds", 10))

    items.sort(key=lambda item: -length(item))


def postgres_base_url() -> str | None:
    """Return the PostgreSQL database the tests may use, or None."""
    return os.environ.get(POSTGRES_ENV) or None


def pytest_report_header() -> str:
    """Say which databases the database tests run against."""
    base = postgres_base_url()
    if base:
        return f"databases: sqlite, postgresql ({base})"
    return f"databases: sqlite only (set {POSTGRES_ENV}=postgresql:///cardsender_test to add PostgreSQL)"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a database once per database in use."""
    if "database" not in metafunc.fixturenames:
        return
    names: list[object] = ["sqlite"]
    if metafunc.definition.get_closest_marker("postgresql_only"):
        skip = pytest.mark.skip(reason=f"needs PostgreSQL: set {POSTGRES_ENV} (README, Testing against PostgreSQL)")
        names = ["postgresql" if postgres_base_url() else pytest.param("postgresql", marks=skip)]
    elif postgres_base_url() and not metafunc.definition.get_closest_marker("sqlite_only"):
        names.append("postgresql")
    metafunc.parametrize("database", names, indirect=True)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str:
    """Return the kind of database this run of the test uses: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def database_url(database: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database: a SQLite file, or a schema of its own in the PostgreSQL database."""
    if database == "sqlite":
        yield f"sqlite:///{tmp_path / 'cardsender.db'}"
        return
    import psycopg

    base = postgres_base_url()
    assert base is not None
    conninfo = base.replace("postgresql+psycopg://", "postgresql://")
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={name}')}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


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
def folder(tmp_path: Path) -> Path:
    """Return an empty office folder, for a test that writes its own config."""
    path = tmp_path / "office"
    path.mkdir()
    return path


@pytest.fixture
def office(tmp_path: Path, database_url: str) -> Office:
    """Return a folder with a config: Toronto office, file transport, and an empty database."""
    return make_office(tmp_path / "office", database_url)


@pytest.fixture
def workspace(tmp_path: Path, database_url: str) -> Office:
    """Return the same office as the ``office`` fixture (the name older tests use)."""
    return make_office(tmp_path / "office", database_url)

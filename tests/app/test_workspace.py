"""init and demo: a folder with a config, a database and, for the demo, sample data ending yesterday."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cardsender.app import workspace
from cardsender.cli import cli
from cardsender.config.loading import load_config
from cardsender.store import Store
from cardsender.store.customers import iter_customers_with_last_touch
from cardsender.store.schema import contact_events
from cardsender.system import clock, paths

SAMPLE_CUSTOMERS = 50
SAMPLE_EVENTS = 215


def test_demo_creates_a_workspace_with_recent_sample_history(tmp_path: Path) -> None:
    """demo imports every sample row (history ending yesterday), sends today's cards to files, and writes the rest."""
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    config_path = folder / "cardsender.toml"
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"Wrote {config_path} and the database {folder / 'cardsender.db'}",
        f"Imported {SAMPLE_CUSTOMERS} sample customers and {SAMPLE_EVENTS} contact events from the past year",
    ]
    sent = int(lines[2].split()[1])
    assert lines[2].startswith(f"Sent {sent} cards due today as email files in {folder / 'outbox'} (")
    assert len(list((folder / "outbox").glob("*.eml"))) == sent > 0
    assert lines[-1] == f"Demo ready in {folder}: {SAMPLE_CUSTOMERS} customers."
    config = load_config(config_path)
    office_today = clock.office_today(config.office.timezone)
    assert config.office.start_date == office_today
    with Store.open(config.database.url) as store, store.begin() as conn:
        customers = list(iter_customers_with_last_touch(conn))
        imported = select(func.count(), func.max(contact_events.c.occurred_at)).where(
            contact_events.c.source == "import"
        )
        events = conn.execute(imported).one()
    assert len(customers) == SAMPLE_CUSTOMERS
    assert events[0] == SAMPLE_EVENTS
    assert events[1].date() == office_today - dt.timedelta(days=1)
    names = sorted(path.name for path in folder.iterdir())
    assert names == [
        "cardsender.db",
        "cardsender.toml",
        "customers.csv",
        "forecast.html",
        "history.csv",
        "outbox",
        "previews",
        "print-this-week.pdf",
        "report.pdf",
    ]
    assert sorted(p.name for p in (folder / "previews").iterdir()) == [
        "C001-birthday.html",
        "C003-check_in.html",
        "C004-birthday.pdf",
        "C004-birthday.png",
        "C012-thank_you.html",
    ]
    assert "Harbour Street Bikes" in (folder / "forecast.html").read_text(encoding="utf-8")


def test_sample_customers_cover_the_hard_cases(tmp_path: Path) -> None:
    """The sample holds many countries and languages, every channel, opt-outs, Feb 29, no-year birthdays, odd names."""
    demo = workspace.create_demo(tmp_path / "demo", today=dt.date(2027, 3, 1), now=dt.datetime(2027, 3, 1, 14))
    assert (demo.customers.added, demo.customers.rejected_count, demo.history.rejected_count) == (50, 0, 0)
    with Store.open(load_config(demo.workspace.config_path).database.url) as store, store.begin() as conn:
        customers = [customer for customer, _ in iter_customers_with_last_touch(conn)]
    assert {c.country for c in customers} >= {"US", "CA", "FR", "GB", "DE", "PL", "VN", "JP", "MX"}
    assert {c.language for c in customers} >= {"en", "fr-CA", "fr", "de", "pl", "vi", "ja"}
    assert {c.channel for c in customers} == {"email", "post", "both"}
    assert sum(c.no_humor for c in customers) >= 3
    assert sum(c.do_not_contact for c in customers) == 1
    assert any(c.no_email for c in customers) and any(c.no_post for c in customers)
    birthdays = [c.birthday for c in customers if c.birthday]
    assert any((b.month, b.day) == (2, 29) for b in birthdays)
    assert sum(b.year is None for b in birthdays) >= 5
    assert len(birthdays) < len(customers)
    assert any("<b>" in c.display_name for c in customers)
    assert sum(any(ord(ch) > 0x24F for ch in c.display_name) for c in customers) >= 5
    assert any(c.email is None and c.has_postal_address for c in customers)


def test_demo_history_is_shifted_to_end_yesterday(tmp_path: Path) -> None:
    """Every sample date moves by the days between the sample's reference date and today; times stay."""
    today = dt.date(2027, 3, 1)
    workspace.create_demo(tmp_path / "demo", today=today, now=dt.datetime(2027, 3, 1, 14))
    original = paths.package_data("sample", "history.csv").read_text(encoding="utf-8").splitlines()
    shifted = (tmp_path / "demo" / "history.csv").read_text(encoding="utf-8").splitlines()
    days = (today - workspace.SAMPLE_AS_OF).days
    assert shifted[0] == original[0] == "customer_id,date,kind,summary"
    assert len(shifted) == len(original)
    for before, after in zip(original[1:], shifted[1:], strict=True):
        customer, when, rest = before.split(",", 2)
        moved = (dt.date.fromisoformat(when[:10]) + dt.timedelta(days=days)).isoformat() + when[10:]
        assert after == f"{customer},{moved},{rest}"
    assert max(line.split(",")[1][:10] for line in shifted[1:]) == "2027-02-28"


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    """demo never mixes its files with others: a folder with anything in it is refused."""
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", str(tmp_path)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: {tmp_path} already exists and is not empty; the demo needs a new folder: "
        "run 'cardsender demo NEW_FOLDER'\n"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_defaults_to_cardsender_demo_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """demo without a folder creates ./cardsender-demo, and an empty existing folder is fine."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cardsender-demo").mkdir()
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Demo ready in cardsender-demo: 50 customers."
    assert (tmp_path / "cardsender-demo" / "cardsender.toml").is_file()


def test_rendered_config_differs_from_the_example_only_in_start_date() -> None:
    """init's config is the commented example with start_date set (the database URL is already relative)."""
    example = paths.example_config().read_text(encoding="utf-8").splitlines()
    rendered = workspace.render_config(dt.date(2027, 1, 4)).splitlines()
    changes = [line for line in difflib.unified_diff(example, rendered, lineterm="", n=0)][2:]
    assert changes == ["@@ -43 +43 @@", "-# start_date = 2026-11-22", "+start_date = 2027-01-04"]
    assert 'url = "sqlite:///cardsender.db"' in rendered


def test_init_keeps_an_existing_database(tmp_path: Path) -> None:
    """init beside an existing database writes the config and opens that database, keeping it."""
    with Store.open(f"sqlite:///{tmp_path / 'cardsender.db'}"):
        pass
    made = workspace.init_workspace(tmp_path, dt.date(2027, 1, 4))
    assert made == workspace.Workspace(tmp_path / "cardsender.toml", tmp_path / "cardsender.db", True)
    assert load_config(made.config_path).office.start_date == dt.date(2027, 1, 4)


def test_init_refuses_a_file_as_folder(tmp_path: Path) -> None:
    """init into a path that is a file is one error line."""
    (tmp_path / "shop").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "shop")])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {tmp_path / 'shop'} is a file, not a folder; name a folder for the config and database\n",
    )

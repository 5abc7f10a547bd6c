"""The office's verbs, called as a library (no command line) on a real SQLite file, at one frozen moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cardsender.app.office import Office, Status
from cardsender.config.loading import load_config
from cardsender.domain.errors import InputError
from cardsender.system.clock import Clock, Moment

# 14:30 in Toronto on Wednesday 4 March 2026 (EST, five hours behind UTC).
INSTANT = dt.datetime(2026, 3, 4, 19, 30, 12, tzinfo=dt.UTC)
TZ = "America/Toronto"
CONFIG = """\
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
CUSTOMERS = """\
id,first_name,last_name,email,channel,language
C1,Ana,Silva,ana@example.com,email,en
C2,Bob,Stone,bob@example.com,email,en
"""


def stopped_clock() -> Clock:
    """Return a clock that always reads INSTANT."""
    return Clock(lambda: INSTANT)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """Write an office's config, with its SQLite database beside it (not yet created)."""
    path = tmp_path / "cardsender.toml"
    path.write_text(CONFIG, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    return path


def office_at(config_path: Path) -> Office:
    """Return the office of the config, on the stopped clock."""
    return Office(load_config(config_path), clock=stopped_clock())


def test_a_moment_gives_the_office_its_day_and_time_and_the_store_utc() -> None:
    """One moment reads as naive UTC for the store, and as the office's day and minute in its time zone."""
    moment = stopped_clock().moment(TZ)
    assert (moment.utc, moment.today, moment.office_now) == (
        dt.datetime(2026, 3, 4, 19, 30, 12),
        dt.date(2026, 3, 4),
        dt.datetime(2026, 3, 4, 14, 30),
    )
    assert moment.elsewhere("Asia/Tokyo").today == dt.date(2026, 3, 5)


def test_moving_a_moment_to_another_day_moves_the_day_and_time_together() -> None:
    """--on DATE moves the office's day and wall-clock time by the same days; the UTC time stays real."""
    moved = stopped_clock().moment(TZ).on(dt.date(2026, 2, 27))
    assert (moved.today, moved.office_now, moved.utc) == (
        dt.date(2026, 2, 27),
        dt.datetime(2026, 2, 27, 14, 30),
        dt.datetime(2026, 3, 4, 19, 30, 12),
    )
    assert stopped_clock().on(dt.date(2026, 2, 27), TZ).moment(TZ) == moved


def test_a_frozen_clock_reads_once() -> None:
    """A frozen clock's moments are all the instant it was frozen at, while its live time goes on."""
    readings = iter([INSTANT, INSTANT + dt.timedelta(hours=1), INSTANT + dt.timedelta(hours=2)])
    frozen = Clock(lambda: next(readings)).frozen()
    assert frozen.moment(TZ) == Moment(INSTANT, TZ)
    assert frozen.utc() == dt.datetime(2026, 3, 4, 19, 30, 12)
    assert frozen.now() == dt.datetime(2026, 3, 4, 20, 30, 12)


def test_imported_customers_are_listed_never_contacted(config_path: Path) -> None:
    """Customers imported through the office are listed with no contact yet."""
    with office_at(config_path) as office:
        result = office.import_customers(config_path.parent / "customers.csv")
        summaries = office.customers()
    assert (result.added, result.updated, result.rejected_count) == (2, 0, 0)
    assert [(s.customer.id, s.customer.display_name, s.last_contact, s.days_since) for s in summaries] == [
        ("C1", "Ana Silva", None, None),
        ("C2", "Bob Stone", None, None),
    ]


def test_a_contact_logged_now_is_at_the_offices_minute(config_path: Path) -> None:
    """A call logged without a time is recorded at the office's wall-clock minute, and is today's contact."""
    with office_at(config_path) as office:
        office.import_customers(config_path.parent / "customers.csv")
        logged = office.log_contact("C1", "call", "asked about the spring tune-up")
        detail = office.customer("C1")
    assert (logged.added, logged.event.occurred_at, logged.event.kind) == (
        True,
        dt.datetime(2026, 3, 4, 14, 30),
        "call",
    )
    assert (detail.summary.last_contact, detail.summary.days_since) == (dt.date(2026, 3, 4), 0)
    assert [(e.kind, e.summary) for e in detail.history] == [("call", "asked about the spring tune-up")]


def test_sending_for_a_later_day_is_refused(config_path: Path) -> None:
    """Cards go out on their day: sending for tomorrow is refused before anything is sent."""
    with office_at(config_path) as office, pytest.raises(InputError) as refused:
        office.send_due(on=dt.date(2026, 3, 5))
    assert str(refused.value) == "--on 2026-03-05 is in the future; cards go out on their day, not before"


def test_a_new_office_has_nothing_to_show(config_path: Path) -> None:
    """An office whose service never ran has an empty outbox and nothing that needs someone."""
    with office_at(config_path) as office:
        found = office.status()
    assert found == Status(
        service=None, counts={}, needs_attention=[], unposted_batches=[], late_check_ins=0, awaiting_approval=0
    )


def test_checking_the_templates_opens_no_database(config_path: Path) -> None:
    """The template check needs no database, and creates none."""
    with office_at(config_path) as office:
        checked = office.check_templates()
    assert checked.problems == []
    assert checked.rendered > 0
    assert not (config_path.parent / "cardsender.db").exists()


def test_a_forecast_ends_a_year_after_its_first_day_by_default(config_path: Path) -> None:
    """A forecast without a last day covers 365 days from today; one ending before it begins is refused."""
    with office_at(config_path) as office:
        run = office.forecast()
        with pytest.raises(InputError) as refused:
            office.forecast(dt.date(2026, 3, 4), dt.date(2026, 3, 1))
    assert (run.first, run.last, run.page) == (dt.date(2026, 3, 4), dt.date(2027, 3, 3), None)
    assert str(refused.value) == "--to 2026-03-01 is before --from 2026-03-04; give the earlier day first"


def test_a_dry_run_writes_the_cards_due_and_changes_nothing(config_path: Path) -> None:
    """A purchase yesterday makes a thank-you due today: the dry run writes it as a file, and the outbox stays
    empty."""
    history = config_path.parent / "history.csv"
    history.write_text("customer_id,date,kind,summary\nC1,2026-03-03 11:00,purchase,A new road bike\n", "utf-8")
    with office_at(config_path) as office:
        office.import_customers(config_path.parent / "customers.csv")
        office.import_history(history)
        plan = office.plan()
        run = office.dry_run()
        after = office.list_outbox()
    assert [(t.customer_id, t.occasion, t.channel, t.due_date) for t in plan.touches] == [
        ("C1", "thank_you", "email", dt.date(2026, 3, 4))
    ]
    assert (plan.names, plan.awaiting_approval) == ({"C1": "Ana Silva"}, 0)
    assert run.day == dt.date(2026, 3, 4)
    assert [(r.customer_id, r.occasion, r.state) for r in run.report.results] == [("C1", "thank_you", "would-send")]
    folder = config_path.parent / "outbox" / "dry-run" / "2026-03-04"
    assert run.report.folder == folder
    assert len(list(folder.glob("*.eml"))) == 1
    assert after == []

"""The command line, run through click's CliRunner against real SQLite files."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cardsender.cli import cli
from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store.customers import add_event, events_of, get_customer, insert_customer
from cardsender.system import clock
from tests.support.cli import run
from tests.support.customers import BOB, POSTED_TARO
from tests.support.office import Office

TZ = "America/Toronto"  # the workspace fixture's office
SEEDED_AT = dt.datetime(2026, 1, 5, 15, 30)  # UTC, when seeded rows were written


def today() -> dt.date:
    """Return today at the workspace's office."""
    return clock.office_today(TZ)


def days_ago(days: int) -> dt.date:
    """Return the office date some days back."""
    return today() - dt.timedelta(days=days)


def add_customer(ws: Office, fields: dict[str, str], *events: tuple[int, str, str]) -> None:
    """Store a customer given as text fields, with events (days ago, kind, summary) at 10:00 office time."""
    with ws.open_store() as store, store.begin() as conn:
        internal = insert_customer(conn, parse_customer_fields(fields), today(), SEEDED_AT)
        for days, kind, summary in events:
            when = dt.datetime.combine(days_ago(days), dt.time(10, 0))
            add_event(conn, internal, ContactEvent(fields["id"], when, kind, summary, "import"), SEEDED_AT)


def stored_history(ws: Office, customer_id: str) -> list[ContactEvent]:
    """Return a customer's events as stored."""
    with ws.open_store() as store, store.begin() as conn:
        return events_of(conn, customer_id)


def stored_customer(ws: Office, customer_id: str) -> Any:
    """Return a customer as stored."""
    with ws.open_store() as store, store.begin() as conn:
        return get_customer(conn, customer_id)


ANA = {
    "id": "C1",
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "birthday": "--03-14",
    "country": "CA",
    "channel": "email",
    "language": "fr-CA",
    "owner": "Maria",
}


@pytest.fixture
def shop(workspace: Office) -> Office:
    """Return the workspace with three customers: Ana (a purchase and a note), Bob (nothing), Taro (a call)."""
    add_customer(workspace, ANA, (10, "purchase", "Road bike"), (2, "note", "Wants a fitting"))
    add_customer(workspace, BOB)
    add_customer(workspace, POSTED_TARO, (3, "call", "Asked about tires"))
    return workspace


# init


def test_init_writes_config_and_database(tmp_path: Path) -> None:
    """init writes a config started today and creates the database beside it, then says what to do next."""
    folder = tmp_path / "shop"
    result = CliRunner().invoke(cli, ["init", str(folder)])
    config = folder / "cardsender.toml"
    assert result.exit_code == 0
    assert result.stdout == (
        f"Wrote {config} (start_date is today; the database is cardsender.db beside it)\n"
        f"Created the database {folder / 'cardsender.db'}\n"
        "Next:\n"
        f"  1. Edit {config}: your office name, sender, postal address, time zone and email settings.\n"
        f"  2. Import your customers:  cardsender --config {config} import customers customers.csv\n"
        f"  3. Import their history:   cardsender --config {config} import history history.csv\n"
        f"Initialised {folder}.\n"
    )
    assert (folder / "cardsender.db").is_file()
    office_today = clock.office_today("America/New_York")  # the time zone of the config init writes
    assert f"\nstart_date = {office_today.isoformat()}\n" in config.read_text(encoding="utf-8")


def test_init_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """init without a folder works here, and the next steps need no --config."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[4:] == [
        "  2. Import your customers:  cardsender import customers customers.csv",
        "  3. Import their history:   cardsender import history history.csv",
        f"Initialised {tmp_path.resolve()}.",
    ]
    assert (tmp_path / "cardsender.toml").is_file()
    assert (tmp_path / "cardsender.db").is_file()


def test_init_never_overwrites_a_config(tmp_path: Path) -> None:
    """init refuses a folder that has a config, and touches nothing there (no database either)."""
    config = tmp_path / "cardsender.toml"
    config.write_text("# mine\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {config} already exists and init never overwrites it; edit that file, "
        "or run 'cardsender init OTHER_FOLDER' to start afresh elsewhere\n"
    )
    assert config.read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "cardsender.db").exists()


# import


def test_import_customers_reports_rejects_and_exits_2(workspace: Office) -> None:
    """Rejected rows go to stderr as FILE:LINE: why, the summary to stdout, and the exit status is 2."""
    path = workspace.root / "customers.csv"
    path.write_text(
        "id,first_name,email,channel\nN1,Zoé,zoe@example.com,email\nN2,Max,,fax\nN3,Lin,lin@example.com,\n",
        encoding="utf-8",
    )
    result = run(workspace, "import", "customers", str(path))
    assert result.exit_code == 2
    assert result.stderr == "customers.csv:3: channel 'fax' is not one of: email, post, both\n"
    rejects = workspace.root / "customers.rejects.csv"
    assert result.stdout == f"Imported {path}: 2 added, 0 updated, 1 rejected (rejects written to {rejects})\n"
    assert rejects.read_bytes().decode("utf-8-sig") == (
        "id,first_name,email,channel,error\r\nN2,Max,,fax,\"channel 'fax' is not one of: email, post, both\"\r\n"
    )
    assert stored_customer(workspace, "N1").first_name == "Zoé"


def test_import_customers_without_rejects_exits_0(workspace: Office) -> None:
    """A clean import counts added and updated customers and exits 0, quietly (no progress bar off a terminal)."""
    path = workspace.root / "customers.csv"
    add_customer(workspace, ANA)
    path.write_text("id,first_name,Favourite colour\nC1,Anna,red\nN1,Zoé,blue\n", encoding="utf-8")
    result = run(workspace, "import", "customers", str(path))
    assert result.exit_code == 0
    assert result.stdout == f"Imported {path}: 1 added, 1 updated, 0 rejected\n"
    assert result.stderr == "Ignored columns cardsender does not use: Favourite colour\n"
    assert stored_customer(workspace, "C1").first_name == "Anna"


@pytest.mark.parametrize(
    ("config_format", "option", "birthday"),
    [("DD/MM/YYYY", [], "1980-04-03"), ("DD/MM/YYYY", ["--date-format", "MM/DD/YYYY"], "1980-03-04")],
)
def test_import_date_format_comes_from_config_unless_given(
    workspace: Office, config_format: str, option: list[str], birthday: str
) -> None:
    """Slash dates follow [import] date_format, and --date-format overrides it."""
    with workspace.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[import]\ndate_format = "{config_format}"\n')
    path = workspace.root / "customers.csv"
    path.write_text("id,birthday\nN1,03/04/1980\n", encoding="utf-8")
    result = run(workspace, "import", "customers", str(path), *option)
    assert result.exit_code == 0
    assert str(stored_customer(workspace, "N1").birthday) == birthday


def test_import_history_twice_adds_nothing_twice(workspace: Office) -> None:
    """Importing the same history again reports its events as already present."""
    add_customer(workspace, ANA)
    path = workspace.root / "history.csv"
    path.write_text("customer_id,date,kind,summary\nC1,2026-01-10,purchase,Bike\nC1,2026-02-01 14:30,call,\n")
    first = run(workspace, "import", "history", str(path))
    second = run(workspace, "import", "history", str(path))
    assert (first.exit_code, first.stdout) == (0, f"Imported {path}: 2 added, 0 already present, 0 rejected\n")
    assert (second.exit_code, second.stdout) == (0, f"Imported {path}: 0 added, 2 already present, 0 rejected\n")
    assert [(e.occurred_at, e.kind) for e in stored_history(workspace, "C1")] == [
        (dt.datetime(2026, 1, 10), "purchase"),
        (dt.datetime(2026, 2, 1, 14, 30), "call"),
    ]


def test_import_of_a_missing_file_is_one_error_line(workspace: Office) -> None:
    """A file that does not exist is an error, not a traceback."""
    path = workspace.root / "nope.csv"
    result = run(workspace, "import", "customers", str(path))
    assert (result.exit_code, result.stderr) == (1, f"Error: {path}: no such file; check the name and folder\n")


# customers list and show


def test_customers_list_json(shop: Office) -> None:
    """list --json gives every customer with the last contact (a note does not count) and the days since."""
    result = run(shop, "customers", "list", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "id": "C1",
            "first_name": "Ana",
            "last_name": "Silva",
            "email": "ana@example.com",
            "channel": "email",
            "owner": "Maria",
            "birthday": "--03-14",
            "do_not_contact": False,
            "last_contact": days_ago(10).isoformat(),
            "days_since_contact": 10,
        },
        {
            "id": "C2",
            "first_name": "<b>Bob</b>",
            "last_name": "Tables",
            "email": "bob@example.com",
            "channel": "email",
            "owner": "Tom",
            "birthday": "1980-08-08",
            "do_not_contact": False,
            "last_contact": None,
            "days_since_contact": None,
        },
        {
            "id": "C3",
            "first_name": "太郎",
            "last_name": "山田",
            "email": None,
            "channel": "post",
            "owner": "Aiko",
            "birthday": None,
            "do_not_contact": False,
            "last_contact": days_ago(3).isoformat(),
            "days_since_contact": 3,
        },
    ]


def test_customers_list_table(shop: Office) -> None:
    """list prints an aligned table (wide letters count double), names literally, then a summary."""
    result = run(shop, "customers", "list")
    assert result.exit_code == 0
    assert result.stdout == (
        "ID  Name               Email            Channel  Owner  Last contact  Days\n"
        f"C1  Ana Silva          ana@example.com  email    Maria  {days_ago(10)}      10\n"
        "C2  <b>Bob</b> Tables  bob@example.com  email    Tom    never\n"
        f"C3  太郎 山田                           post     Aiko   {days_ago(3)}       3\n"
        "3 customers, 1 never contacted.\n"
    )


def test_customers_list_when_empty(workspace: Office) -> None:
    """list on an empty database says how to import customers."""
    result = run(workspace, "customers", "list")
    assert (result.exit_code, result.stdout) == (
        0,
        "No customers yet; import them with 'cardsender import customers FILE'.\n",
    )
    assert json.loads(run(workspace, "customers", "list", "--json").stdout) == []


def test_customers_show_json(shop: Office) -> None:
    """show --json gives every stored field, the birthday without a year as --MM-DD, and the history."""
    result = run(shop, "customers", "show", "C1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "id": "C1",
        "first_name": "Ana",
        "last_name": "Silva",
        "email": "ana@example.com",
        "birthday": "--03-14",
        "country": "CA",
        "subdivision": "",
        "street": "",
        "city": "",
        "postal_code": "",
        "channel": "email",
        "language": "fr-CA",
        "owner": "Maria",
        "customer_since": None,
        "no_email": False,
        "no_post": False,
        "no_humor": False,
        "do_not_contact": False,
        "notes": "",
        "added_on": today().isoformat(),
        "email_bouncing": False,
        "office": "main",
        "last_contact": days_ago(10).isoformat(),
        "days_since_contact": 10,
        "years_as_customer": 0,
        "history": [
            {"occurred_at": f"{days_ago(10)}T10:00:00", "kind": "purchase", "summary": "Road bike", "source": "import"},
            {
                "occurred_at": f"{days_ago(2)}T10:00:00",
                "kind": "note",
                "summary": "Wants a fitting",
                "source": "import",
            },
        ],
    }


def test_customers_show_text(shop: Office) -> None:
    """show prints the fields, the history as a table, and a summary line."""
    result = run(shop, "customers", "show", "C3")
    assert result.exit_code == 0
    assert result.stdout == (
        "id              C3\n"
        "first_name      太郎\n"
        "last_name       山田\n"
        "email\n"
        "birthday\n"
        "country         JP\n"
        "subdivision\n"
        "street          千代田区丸の内1-1\n"
        "city            東京都\n"
        "postal_code\n"
        "channel         post\n"
        "language\n"
        "owner           Aiko\n"
        "customer_since\n"
        "no_email        no\n"
        "no_post         no\n"
        "no_humor        yes\n"
        "do_not_contact  no\n"
        "notes\n"
        f"added_on        {today()}\n"
        "email_bouncing  no\n"
        "office          main\n"
        "\n"
        "History:\n"
        "When              Kind  Summary            Source\n"
        f"{days_ago(3)} 10:00  call  Asked about tires  import\n"
        f"太郎 山田 (C3): last contact {days_ago(3)}, 3 days ago; a customer for less than a year; "
        "1 event in the history.\n"
    )


def test_customers_show_unknown_id(shop: Office) -> None:
    """An unknown id is one error line pointing to the list."""
    result = run(shop, "customers", "show", "C9")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no customer with id 'C9'; see 'cardsender customers list'\n"


# customers edit


def test_edit_sets_and_clears_fields(shop: Office) -> None:
    """edit validates like an import row: the email is normalised, 'email=' clears it, a zip is a postal code."""
    result = run(shop, "customers", "edit", "C2", "--set", "email=", "--set", "zip=04101", "--set", "Owner=Maria")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Updated <b>Bob</b> Tables (C2): email, postal_code, owner.\n"
    customer = stored_customer(shop, "C2")
    assert (customer.email, customer.postal_code, customer.owner) == (None, "04101", "Maria")


def test_edit_without_change_says_so(shop: Office) -> None:
    """Setting a field to the value it has changes nothing and says so."""
    result = run(shop, "customers", "edit", "C1", "--set", "owner=Maria")
    assert (result.exit_code, result.stdout) == (0, "No change to Ana Silva (C1): every value was already set.\n")


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        (
            "birthday=31/02/1980",
            "birthday '31/02/1980' is not a date (expected YYYY-MM-DD, --MM-DD or DD/MM/YYYY or MM/DD/YYYY)",
        ),
        (
            "colour=red",
            "'colour' is not a customer field; fields are: first_name, last_name, email, birthday, "
            "country, subdivision, street, city, postal_code, channel, language, owner, customer_since, no_email, "
            "no_post, no_humor, do_not_contact, notes, office",
        ),
        ("channel=fax", "channel 'fax' is not one of: email, post, both"),
        ("channel=", "channel cannot be empty; use email, post or both"),
        (
            "no_humor=maybe",
            "no_humor 'maybe' is not a yes/no value (use true, false, yes, no, 1, 0, x or leave it blank)",
        ),
        ("first_name=" + "x" * 201, "first_name is 201 characters long; shorten it to at most 200"),
        (
            "id=C7",
            "the id cannot be changed: it is how import files and the contact history find the customer; "
            "change the other fields",
        ),
        ("email", "'email' is not FIELD=VALUE; write for example --set email=ana@example.com"),
    ],
)
def test_edit_refuses_bad_values(shop: Office, assignment: str, message: str) -> None:
    """A bad --set is refused with the same words as an import row, and nothing changes."""
    result = run(shop, "customers", "edit", "C1", "--set", assignment)
    assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert stored_customer(shop, "C1").first_name == "Ana"


def test_edit_refuses_a_field_given_twice(shop: Office) -> None:
    """Two --set for one field (even spelt differently) is refused rather than guessed."""
    result = run(shop, "customers", "edit", "C1", "--set", "zip=1", "--set", "postal_code=2")
    assert (result.exit_code, result.stderr) == (1, "Error: postal_code is set twice; give each field once\n")


def test_edit_needs_a_set(shop: Office) -> None:
    """edit with nothing to set is an error saying how to use it."""
    result = run(shop, "customers", "edit", "C1")
    assert (result.exit_code, result.stderr) == (1, "Error: nothing to change; give at least one --set FIELD=VALUE\n")


def test_edit_unknown_customer(shop: Office) -> None:
    """Editing an unknown id is refused."""
    result = run(shop, "customers", "edit", "C9", "--set", "owner=Tom")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no customer with id 'C9'; see 'cardsender customers list'\n",
    )


# log


def test_log_records_a_contact_now(shop: Office) -> None:
    """log records the contact at the current office time, from the cli, and it becomes the last contact."""
    before = clock.office_now(TZ)
    result = run(shop, "log", "C2", "--kind", "call", "--note", "Asked about fenders")
    after = clock.office_now(TZ)
    event = stored_history(shop, "C2")[-1]
    assert before <= event.occurred_at <= after
    assert (event.kind, event.summary, event.source) == ("call", "Asked about fenders", "cli")
    assert (result.exit_code, result.stdout) == (
        0,
        f"Logged call for <b>Bob</b> Tables (C2) at {event.occurred_at:%Y-%m-%d %H:%M}.\n",
    )
    listed = json.loads(run(shop, "customers", "show", "C2", "--json").stdout)
    assert (listed["last_contact"], listed["days_since_contact"]) == (event.occurred_at.date().isoformat(), 0)


@pytest.mark.parametrize(
    ("at", "occurred_at"),
    [("2026-01-02", dt.datetime(2026, 1, 2)), ("2026-01-02T16:45", dt.datetime(2026, 1, 2, 16, 45))],
)
def test_log_at_a_given_time(shop: Office, at: str, occurred_at: dt.datetime) -> None:
    """--at takes a date (midnight) or a date and time, office-local."""
    result = run(shop, "log", "C2", "--kind", "visit", "--at", at)
    assert (result.exit_code, result.stdout) == (
        0,
        f"Logged visit for <b>Bob</b> Tables (C2) at {occurred_at:%Y-%m-%d %H:%M}.\n",
    )
    assert [(e.occurred_at, e.kind, e.summary) for e in stored_history(shop, "C2")] == [(occurred_at, "visit", "")]


def test_log_the_same_contact_twice_adds_it_once(shop: Office) -> None:
    """Logging an identical contact again says it is already recorded."""
    run(shop, "log", "C2", "--kind", "email", "--at", "2026-01-02T09:00")
    result = run(shop, "log", "C2", "--kind", "email", "--at", "2026-01-02T09:00")
    assert (result.exit_code, result.stdout) == (
        0,
        "Already recorded: email for <b>Bob</b> Tables (C2) at 2026-01-02 09:00; nothing added.\n",
    )
    assert len(stored_history(shop, "C2")) == 1


def test_log_a_note_says_it_is_not_a_contact(shop: Office) -> None:
    """A note is recorded and the output says it does not restart the clock."""
    result = run(shop, "log", "C2", "--kind", "note", "--note", "Moving to Halifax", "--at", "2026-01-02")
    assert result.stdout == (
        "Logged note for <b>Bob</b> Tables (C2) at 2026-01-02 00:00 (a note does not count as a contact).\n"
    )
    assert json.loads(run(shop, "customers", "show", "C2", "--json").stdout)["last_contact"] is None


def test_log_refuses_the_future(shop: Office) -> None:
    """A contact dated tomorrow is refused, and nothing is recorded."""
    tomorrow = today() + dt.timedelta(days=1)
    result = run(shop, "log", "C2", "--kind", "call", "--at", tomorrow.isoformat())
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tomorrow} 00:00 is in the future (it is {today()} ")
    assert result.stderr.endswith(" at the office); log a contact once it has happened\n")
    assert stored_history(shop, "C2") == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--kind", "call", "--at", "02/01/2026"],
            1,
            "Error: '02/01/2026' is not a date or time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM\n",
        ),
        (
            ["--kind", "call", "--at", "2026-02-30"],
            1,
            "Error: '2026-02-30' is not a date or time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM\n",
        ),
        (
            ["--kind", "fax"],
            2,
            "Error: Invalid value for '--kind': 'fax' is not one of 'purchase', 'call', 'visit', "
            "'email', 'meeting', 'card', 'note'; see 'cardsender log --help'\n",
        ),
        (
            [],
            2,
            "Error: Missing option '--kind'. Choose from: purchase, call, visit, email, meeting, card, note; "
            "see 'cardsender log --help'\n",
        ),
    ],
)
def test_log_refuses_bad_options(shop: Office, args: list[str], code: int, message: str) -> None:
    """A bad --at or --kind is one error line with how to fix it."""
    result = run(shop, "log", "C2", *args)
    assert (result.exit_code, result.stderr) == (code, message)


def test_log_unknown_customer(shop: Office) -> None:
    """Logging for an unknown id is refused."""
    result = run(shop, "log", "C9", "--kind", "call")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no customer with id 'C9'; see 'cardsender customers list'\n",
    )


# opt-out and opt-in


def test_opt_out_and_back_in(shop: Office) -> None:
    """opt-out sets the flags named, --all sets do_not_contact; opt-in clears only what it names."""
    steps = [
        (
            ["opt-out", "C1", "--email", "--humor"],
            "Opted Ana Silva (C1) out of email, humor; now opted out of: email, humor.\n",
        ),
        (
            ["opt-out", "C1", "--all"],
            "Opted Ana Silva (C1) out of all contact; now opted out of: email, humor, all contact.\n",
        ),
        (["opt-in", "C1", "--all"], "Opted Ana Silva (C1) back in to all contact; now opted out of: email, humor.\n"),
        (["opt-in", "C1", "--post"], "No change for Ana Silva (C1); now opted out of: email, humor.\n"),
        (
            ["opt-in", "C1", "--email", "--humor"],
            "Opted Ana Silva (C1) back in to email, humor; now opted out of: nothing.\n",
        ),
    ]
    for args, output in steps:
        result = run(shop, *args)
        assert (result.exit_code, result.stdout) == (0, output), args
    customer = stored_customer(shop, "C1")
    assert (customer.no_email, customer.no_post, customer.no_humor, customer.do_not_contact) == (
        False,
        False,
        False,
        False,
    )


def test_opt_out_post(shop: Office) -> None:
    """--post sets no_post and nothing else."""
    result = run(shop, "opt-out", "C3", "--post")
    assert result.stdout == "Opted 太郎 山田 (C3) out of post; now opted out of: post, humor.\n"
    customer = stored_customer(shop, "C3")
    assert (customer.no_email, customer.no_post, customer.no_humor, customer.do_not_contact) == (
        False,
        True,
        True,
        False,
    )


@pytest.mark.parametrize(("command", "verb"), [("opt-out", "opt out of"), ("opt-in", "opt back in to")])
def test_opt_without_a_flag_lists_the_flags(shop: Office, command: str, verb: str) -> None:
    """opt-out or opt-in without a flag is an error naming the flags that exist."""
    result = run(shop, command, "C1")
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: say what to {verb}: --email, --post, --humor, or --all (any contact at all); "
        f"see 'cardsender {command} --help'\n",
    )


def test_opt_out_unknown_customer(shop: Office) -> None:
    """Opting out an unknown id is refused."""
    result = run(shop, "opt-out", "C9", "--all")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no customer with id 'C9'; see 'cardsender customers list'\n",
    )


# export and forget


def test_export_prints_everything_stored(shop: Office) -> None:
    """export prints every stored field and event, with when each row was written (UTC)."""
    result = run(shop, "export", "C3")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "exported_by": "cardsender 0.1.0",
        "customer": {
            "id": "C3",
            "first_name": "太郎",
            "last_name": "山田",
            "email": None,
            "birthday": None,
            "country": "JP",
            "subdivision": "",
            "street": "千代田区丸の内1-1",
            "city": "東京都",
            "postal_code": "",
            "channel": "post",
            "language": "",
            "owner": "Aiko",
            "customer_since": None,
            "no_email": False,
            "no_post": False,
            "no_humor": True,
            "do_not_contact": False,
            "notes": "",
            "added_on": today().isoformat(),
            "email_bouncing": False,
            "office": "main",
            "created_at": "2026-01-05T15:30:00Z",
            "updated_at": "2026-01-05T15:30:00Z",
        },
        "contact_history": [
            {
                "occurred_at": f"{days_ago(3)}T10:00:00",
                "kind": "call",
                "summary": "Asked about tires",
                "source": "import",
                "recorded_at": "2026-01-05T15:30:00Z",
            },
        ],
    }
    assert "太郎" in result.stdout  # names are written as they are, not as \\u escapes


def test_export_unknown_customer(shop: Office) -> None:
    """Exporting an unknown id is refused and prints no JSON."""
    result = run(shop, "export", "C9")
    assert (result.exit_code, result.stdout) == (1, "")


def test_forget_with_yes_deletes_customer_and_history(shop: Office) -> None:
    """forget --yes deletes the customer and every event of theirs."""
    result = run(shop, "forget", "C1", "--yes")
    assert (result.exit_code, result.stdout) == (0, "Forgot Ana Silva (C1): deleted with 2 contact events.\n")
    assert run(shop, "customers", "show", "C1").exit_code == 1
    assert [c["id"] for c in json.loads(run(shop, "customers", "list", "--json").stdout)] == ["C2", "C3"]


def test_forget_without_yes_and_without_a_terminal_refuses(shop: Office) -> None:
    """With no terminal to ask on, forget without --yes refuses instead of waiting, and deletes nothing."""
    result = run(shop, "forget", "C1", input="y\n")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: forget would delete Ana Silva (C1) and 2 contact events for good; "
        "add --yes to confirm (no terminal to ask on)\n"
    )
    assert len(stored_history(shop, "C1")) == 2


def test_forget_unknown_customer(shop: Office) -> None:
    """Forgetting an unknown id is refused, with or without --yes."""
    for args in (["forget", "C9"], ["forget", "C9", "--yes"]):
        result = run(shop, *args)
        assert (result.exit_code, result.stderr) == (
            1,
            "Error: no customer with id 'C9'; see 'cardsender customers list'\n",
        )


# errors and entry points


def test_unknown_command_is_one_error_line(workspace: Office) -> None:
    """A mistyped command is one error line pointing to --help."""
    result = run(workspace, "lst")
    assert (result.exit_code, result.stderr) == (2, "Error: No such command 'lst'; see 'cardsender --help'\n")


def test_missing_config_is_one_error_line(tmp_path: Path) -> None:
    """A --config that does not exist is one error line saying how to make one."""
    path = tmp_path / "nope.toml"
    result = CliRunner().invoke(cli, ["--config", str(path), "customers", "list"])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {path}: no such config file; create one with 'cardsender init'\n",
    )


def test_verbose_shows_the_traceback(shop: Office) -> None:
    """--verbose prints the traceback before the error line."""
    result = CliRunner().invoke(cli, ["--config", str(shop.config_path), "--verbose", "customers", "show", "C9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith(
        "cardsender.domain.errors.NotFoundError: no customer with id 'C9'; see 'cardsender customers list'\n"
        "Error: no customer with id 'C9'; see 'cardsender customers list'\n"
    )


def test_python_m_cardsender_help() -> None:
    """python -m cardsender --help lists every command."""
    done = subprocess.run(
        [sys.executable, "-m", "cardsender", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == "Usage: cardsender [OPTIONS] COMMAND [ARGS]..."
    listed = [line.split()[0] for line in lines[lines.index("Commands:") + 1 :] if line.strip()]
    assert listed == sorted(cli.commands)
    assert set(listed) >= {
        "customers",
        "demo",
        "export",
        "forget",
        "import",
        "init",
        "log",
        "opt-in",
        "opt-out",
        "plan",
        "calls",
        "forecast",
        "report",
    }


def test_console_script_runs(shop: Office) -> None:
    """The installed 'cardsender' script runs a command against a real database."""
    script = Path(sys.executable).parent / "cardsender"
    done = subprocess.run(
        [str(script), "--config", str(shop.config_path), "customers", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert [c["id"] for c in json.loads(done.stdout)] == ["C1", "C2", "C3"]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_import_on_a_terminal_draws_a_progress_bar(workspace: Office, tmp_path: Path) -> None:
    """On a terminal a large import draws a progress bar on stderr, then prints the summary."""
    import pty

    rows = "".join(f"P{n},Name{n},p{n}@example.com\n" for n in range(12_000))
    path = tmp_path / "customers.csv"
    path.write_text("id,first_name,email\n" + rows, encoding="utf-8")
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "cardsender", "--config", str(workspace.config_path), "import", "customers"]
    child = subprocess.Popen([*command, str(path)], stdout=follower, stderr=follower)
    os.close(follower)  # the child holds the terminal now; reading ends when it exits
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is closed once everything written has been read
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    text = screen.decode("utf-8")
    assert child.wait(timeout=120) == 0, text
    assert f"Importing {path}" in text
    assert "100%" in text
    assert text.rstrip().endswith(f"Imported {path}: 12000 added, 0 updated, 0 rejected")

"""Customer data on disk: forget removes every file about a customer, files are private, no temporary file is left."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner, Result

from cardsender.cli import cli
from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.service.daemon import log, setup_logging
from cardsender.store import Store
from cardsender.store.customers import add_event, insert_customer
from cardsender.system import clock
from tests.support.cli import run
from tests.support.office import Office

TZ = "America/Toronto"  # the workspace fixture's office
WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
ANA = {"id": "C1", "first_name": "Ana", "last_name": "Silva", "email": "ana@example.com", "channel": "email"}
BOB = {"id": "C2", "first_name": "Bob", "last_name": "Okafor", "email": "bob@example.com", "channel": "email"}
# Teodor shares the family address with Ana in one test.
TEODOR = {"id": "C3", "first_name": "Teodor", "last_name": "Silva", "email": "ana@example.com", "channel": "email"}
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX")


def today() -> dt.date:
    """Return today at the workspace's office."""
    return clock.office_today(TZ)


def seed(ws: Office, *people: dict[str, str], bought_days_ago: int = 1) -> None:
    """Store customers who bought something, by default yesterday, so that a thank-you is due today."""
    with ws.open_store() as store, store.begin() as conn:
        for fields in people:
            row = insert_customer(conn, parse_customer_fields(fields), today() - dt.timedelta(days=400), WRITTEN_AT)
            when = dt.datetime.combine(today() - dt.timedelta(days=bought_days_ago), dt.time(11))
            add_event(conn, row, ContactEvent(fields["id"], when, "purchase", "Road bike", "import"), WRITTEN_AT)


def emails(ws: Office) -> list[Path]:
    """Return every .eml file in the workspace's outbox, the dry runs' included, in path order."""
    return sorted((ws.root / "outbox").rglob("*.eml"))


def addressed_to(paths: list[Path], address: str) -> list[Path]:
    """Return the files among ``paths`` whose To header holds an address."""
    return [p for p in paths if f"<{address}>".encode() in p.read_bytes().split(b"\r\n\r\n", 1)[0]]


def mode(path: Path) -> int:
    """Return a file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run a test under the common umask 022, which makes new files readable by everyone; restore it after."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# forget


def test_forget_removes_the_sent_and_dry_run_emails_of_the_customer_only(workspace: Office) -> None:
    """forget deletes the customer's sent .eml files and those of the dry runs, lists them, and keeps the others'."""
    seed(workspace, ANA, BOB)
    assert run(workspace, "send").exit_code == 0
    assert run(workspace, "send", "--no-dry-run").exit_code == 0
    before = emails(workspace)
    anas = addressed_to(before, "ana@example.com")
    assert len(anas) == 2 and len(addressed_to(before, "bob@example.com")) == 2
    assert any("dry-run" in str(p) for p in anas)
    result = run(workspace, "forget", "C1", "--yes")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Forgot Ana Silva (C1): deleted with 2 contact events.\n"
        "Removed 2 email files about them:\n" + "".join(f"  {path}\n" for path in anas)
    )
    assert emails(workspace) == [p for p in before if p not in anas]


def test_forget_finds_the_dry_runs_to_an_address_the_customer_has_since_changed(workspace: Office) -> None:
    """A dry run to the customer's old address goes too: their sent card says it was theirs."""
    seed(workspace, ANA)
    assert run(workspace, "send").exit_code == 0
    assert run(workspace, "send", "--no-dry-run").exit_code == 0
    assert run(workspace, "customers", "edit", "C1", "--set", "email=ana.silva@example.org").exit_code == 0
    assert len(addressed_to(emails(workspace), "ana@example.com")) == 2
    result = run(workspace, "forget", "C1", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 2 email files about them:" in result.stdout
    assert emails(workspace) == []


def test_forget_keeps_and_names_a_dry_run_to_an_address_another_customer_shares(workspace: Office) -> None:
    """A dry run to a family's shared address cannot be told apart: it is kept and named, and the status is 2."""
    seed(workspace, ANA, TEODOR)
    assert run(workspace, "send").exit_code == 0
    shared = emails(workspace)
    assert len(shared) == 2
    result = run(workspace, "forget", "C1", "--yes")
    assert result.exit_code == 2
    assert result.stdout == "Forgot Ana Silva (C1): deleted with 1 contact event.\n"
    assert result.stderr == "".join(
        f"Not removed: {path}: ana@example.com is also the address of C3; check it and delete it by hand.\n"
        for path in shared
    )
    assert emails(workspace) == shared


@posix_only
def test_forget_names_a_file_it_cannot_remove(workspace: Office) -> None:
    """A file that cannot be deleted (its folder is read-only) is named with the reason, and the status is 2."""
    if os.geteuid() == 0:
        pytest.skip("root may delete from a read-only folder")
    seed(workspace, ANA)
    assert run(workspace, "send", "--no-dry-run").exit_code == 0
    (sent,) = emails(workspace)
    sent.parent.chmod(0o500)
    try:
        result = run(workspace, "forget", "C1", "--yes")
    finally:
        sent.parent.chmod(0o700)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Not removed: {sent}: cannot be removed: Permission denied; check it and delete it by hand.\n"
    )
    assert sent.exists()


def post_customers(ws: Office, count: int, birthday: dt.date) -> list[str]:
    """Store posted customers with a birthday on a day and a purchase last month; return their ids."""
    ids = []
    with ws.open_store() as store, store.begin() as conn:
        for n in range(count):
            fields = {
                "id": f"P{n + 1}",
                "first_name": f"Zofia{n + 1}",
                "last_name": "Nowak",
                "channel": "post",
                "street": f"{n + 1} Harbour Street",
                "city": "Toronto",
                "postal_code": "M5J 2N8",
                "country": "CA",
                "birthday": birthday.strftime("--%m-%d"),
            }
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            bought = dt.datetime.combine(today() - dt.timedelta(days=30), dt.time(10))
            add_event(conn, row, ContactEvent(fields["id"], bought, "purchase", "Winter tires", "import"), WRITTEN_AT)
            ids.append(fields["id"])
    return ids


def print_args(out: Path) -> list[str]:
    """Return the arguments that print the next two weeks' posted cards to a file."""
    return ["print", "--from", today().isoformat(), "--days", "14", "--out", str(out)]


def batch_of(result: Result) -> str:
    """Return the batch id a print run reports."""
    return result.stdout.split("batch ", 1)[1].split(",", 1)[0]


def test_forget_names_the_printouts_and_a_reprint_leaves_their_card_out(workspace: Office, tmp_path: Path) -> None:
    """forget names the batch PDFs holding the customer's card; a reprint says the card is left out, and why."""
    post_customers(workspace, 3, today() + dt.timedelta(days=10))
    pdf = tmp_path / "printed" / "cards.pdf"
    printed = run(workspace, *print_args(pdf), "--labels", "5160")
    assert printed.exit_code == 0, printed.output
    batch = batch_of(printed)
    labels = pdf.with_name("cards-labels.pdf")
    result = run(workspace, "forget", "P2", "--yes")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Forgot Zofia2 Nowak (P2): deleted with 1 contact event.\n"
        f"Print batch {batch} holds their card, not posted: do not post it.\n"
        f"  These PDFs hold their name and address: {pdf}, {labels}\n"
        f"  Delete them, or print the batch again without them: cardsender print --reprint {batch} --out {pdf}\n"
    )
    again = run(workspace, "print", "--reprint", batch, "--out", str(pdf))
    assert (again.exit_code, again.stdout) == (
        0,
        f"Wrote {pdf} again: batch {batch}, 2 cards; 1 card of this batch belonged to customers since forgotten "
        "and is left out.\n",
    )
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Zofia1" in text and "Zofia3" in text and "Zofia2" not in text
    assert len(pypdf.PdfReader(pdf).pages) == 1 + 2  # the guide and two cards
    # The reprint is recorded too: forgetting another customer names it (once) with the labels.
    second = run(workspace, "forget", "P1", "--yes")
    assert f"  These PDFs hold their name and address: {pdf}, {labels}\n" in second.stdout


def test_a_batch_whose_every_customer_was_forgotten_cannot_be_reprinted(workspace: Office, tmp_path: Path) -> None:
    """Reprinting a batch whose only card was a forgotten customer's says so instead of 'no such batch'."""
    post_customers(workspace, 1, today() + dt.timedelta(days=10))
    pdf = tmp_path / "cards.pdf"
    batch = batch_of(run(workspace, *print_args(pdf)))
    forgot = run(workspace, "forget", "P1", "--yes")
    assert forgot.stdout.endswith("  Delete them: the batch held no other card.\n")
    again = run(workspace, "print", "--reprint", batch, "--out", str(tmp_path / "again.pdf"))
    assert (again.exit_code, again.stderr) == (
        1,
        f"Error: every card of batch {batch} belonged to customers since forgotten; there is nothing to reprint, "
        "and its printed copies should be destroyed\n",
    )
    assert not (tmp_path / "again.pdf").exists()


# Files and folders private to their owner


@posix_only
@pytest.mark.sqlite_only
def test_the_database_and_its_wal_files_are_created_private(database: str, tmp_path: Path, umask_022: None) -> None:
    """A new SQLite database, its -wal and -shm files are 0600 and its new folder 0700, whatever the umask."""
    path = tmp_path / "data" / "cardsender" / "cardsender.db"
    with Store.open(f"sqlite:///{path}") as store, store.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")  # a write, so the -wal file exists
        wal, shm = path.with_name("cardsender.db-wal"), path.with_name("cardsender.db-shm")
        assert wal.exists() and shm.exists()
        assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    assert (mode(path.parent), mode(path.parent.parent)) == (0o700, 0o700)
    with closing(sqlite3.connect(path)) as db:  # the file is a real database
        assert db.execute("SELECT count(*) FROM customers").fetchone() == (0,)


@posix_only
def test_the_default_database_folder_is_private(tmp_path: Path, umask_022: None) -> None:
    """init in a new folder makes it 0700 and the database in it 0600."""
    folder = tmp_path / "shop"
    assert CliRunner().invoke(cli, ["init", str(folder)]).exit_code == 0
    assert (mode(folder), mode(folder / "cardsender.db")) == (0o700, 0o600)


@posix_only
def test_the_log_and_its_rotations_are_private(tmp_path: Path, umask_022: None) -> None:
    """The service's log file and every rotation of it are 0600, in a log folder made 0700."""
    folder = tmp_path / "state" / "log"
    before = list(log.handlers)
    try:
        path = setup_logging(False, folder)
        for _ in range(3):
            log.info("%s", "x" * 600_000)  # over the 1 MB limit every two lines: the file rotates
    finally:
        for handler in log.handlers[len(before) :]:
            handler.close()
            log.removeHandler(handler)
        log.setLevel(logging.NOTSET)
    rotated = path.with_name("cardsender.log.1")
    assert rotated.exists()
    assert (mode(path), mode(rotated), mode(folder), mode(folder.parent)) == (0o600, 0o600, 0o700, 0o700)


@posix_only
def test_the_emails_written_and_their_folders_are_private(workspace: Office, umask_022: None) -> None:
    """Sent and dry-run .eml files are 0600; outbox/, dry-run/ and the day's folder are 0700."""
    seed(workspace, ANA)
    assert run(workspace, "send").exit_code == 0
    assert run(workspace, "send", "--no-dry-run").exit_code == 0
    written = emails(workspace)
    assert len(written) == 2
    assert {mode(p) for p in written} == {0o600}
    outbox = workspace.root / "outbox"
    folders = (outbox, outbox / "dry-run", outbox / "dry-run" / today().isoformat())
    assert [mode(folder) for folder in folders] == [0o700, 0o700, 0o700]


@posix_only
def test_the_print_pdfs_are_private(workspace: Office, tmp_path: Path, umask_022: None) -> None:
    """A batch, its envelopes and a reprint are 0600, in an output folder the print made 0700."""
    post_customers(workspace, 2, today() + dt.timedelta(days=10))
    pdf = tmp_path / "new" / "cards.pdf"
    printed = run(workspace, *print_args(pdf), "--envelopes")
    assert printed.exit_code == 0, printed.output
    reprint = tmp_path / "reprint.pdf"
    assert run(workspace, "print", "--reprint", batch_of(printed), "--out", str(reprint)).exit_code == 0
    envelopes = pdf.with_name("cards-envelopes.pdf")
    assert (mode(pdf), mode(envelopes), mode(reprint), mode(pdf.parent)) == (0o600, 0o600, 0o600, 0o700)


@posix_only
def test_every_file_of_the_demo_is_private(tmp_path: Path, umask_022: None) -> None:
    """The demo's folder is 0700, and its database, samples, emails, previews, batch and reports 0600."""
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", str(folder)])
    assert result.exit_code == 0, result.output
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "cardsender.toml"]
    names = {p.relative_to(folder).as_posix() for p in files}
    assert {
        "cardsender.db",
        "customers.csv",
        "history.csv",
        "previews/C001-birthday.html",
        "previews/C004-birthday.png",
        "previews/C004-birthday.pdf",
        "forecast.html",
        "report.pdf",
    } <= names
    assert any(name.startswith("outbox/") for name in names)
    assert {p.relative_to(folder).as_posix(): mode(p) for p in files} == dict.fromkeys(names, 0o600)
    assert {mode(p) for p in (folder, folder / "previews", folder / "outbox")} == {0o700}


# Temporary files


def dead_pid() -> int:
    """Return the id of a process that has just ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@posix_only
def test_print_removes_the_temporary_files_of_dead_processes_and_keeps_a_live_ones(
    workspace: Office, tmp_path: Path
) -> None:
    """A print into a folder removes the leftovers of killed runs, keeps a running one's, and leaves none itself."""
    post_customers(workspace, 1, today() + dt.timedelta(days=10))
    folder = tmp_path / "print"
    folder.mkdir()
    stale = folder / f".cards.pdf.{dead_pid()}.tmp"
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        running = folder / f".cards.pdf.{alive.pid}.tmp"
        for path in (stale, running):
            path.write_bytes(b"%PDF-1.4 half a batch")
        try:
            result = run(workspace, *print_args(folder / "cards.pdf"))
        finally:
            alive.kill()
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(["cards.pdf", running.name])


@posix_only
def test_the_file_transport_removes_the_temporary_files_of_dead_processes(workspace: Office) -> None:
    """Sending into the outbox folder removes a killed run's half-written message; a clean run leaves none."""
    seed(workspace, ANA)
    outbox = workspace.root / "outbox"
    outbox.mkdir()
    stale = outbox / f".1234.5678@harbourbikes.example.eml.{dead_pid()}.tmp"
    stale.write_bytes(b"To: Ana Silva <ana@example.com>\r\n")
    assert run(workspace, "send", "--no-dry-run").exit_code == 0
    assert [p.name for p in outbox.iterdir() if p.name.startswith(".")] == []
    assert len(emails(workspace)) == 1


@posix_only
def test_previews_forecast_pages_and_reports_written_to_a_file_are_private(
    workspace: Office, tmp_path: Path, umask_022: None
) -> None:
    """Every file a command writes with a customer's card or name in it is 0600, even over an existing file."""
    seed(workspace, ANA)
    outputs = {fmt: tmp_path / f"card.{fmt}" for fmt in ("text", "eml", "html", "pdf", "png")}
    outputs["eml"].write_text("an older preview", encoding="utf-8")
    outputs["eml"].chmod(0o644)
    for fmt, path in outputs.items():
        result = run(workspace, "preview", "C1", "thank_you", "--format", fmt, "--out", str(path))
        assert result.exit_code == 0, result.output
    page, report = tmp_path / "forecast.html", tmp_path / "report.pdf"
    assert run(workspace, "forecast", "--html", str(page)).exit_code == 0
    assert run(workspace, "report", "--pdf", str(report)).exit_code == 0
    assert {path.name: mode(path) for path in (*outputs.values(), page, report)} == {
        path.name: 0o600 for path in (*outputs.values(), page, report)
    }
    assert "Ana" in outputs["eml"].read_text(encoding="utf-8")

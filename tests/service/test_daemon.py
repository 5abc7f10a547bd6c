"""The service, run as users run it: a real subprocess, a real database, stopped with real signals."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cardsender.config.loading import load_config
from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store import Store
from cardsender.store import lease as leases
from cardsender.store.customers import add_event, insert_customer
from cardsender.store.schema import service_lease
from cardsender.system import clock
from tests.smtpd import SmtpServerFactory
from tests.support.cli import outbox_rows, run
from tests.support.customers import BUYERS_WRITTEN_AT, add_buyers
from tests.support.office import FILE_EMAIL, smtp_email
from tests.support.office import write_config as write_config_file
from tests.support.waiting import wait_for

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="the tests stop the service with POSIX signals"),
    pytest.mark.slow,  # each starts real service processes
]


def write_config(folder: Path, database_url: str, rate_per_minute: int, smtp_port: int | None = None) -> Path:
    """Write a config with the file transport (or a local SMTP server) and a sending pace; digests from midnight."""
    email = smtp_email(smtp_port) if smtp_port else dict(FILE_EMAIL)
    return write_config_file(
        folder,
        database_url,
        office={"subdivision": None, "send_time": "00:00"},
        email=email | {"rate_per_minute": rate_per_minute},
    )


def seed(config: Path, count: int) -> None:
    """Store customers who bought something yesterday, so a thank-you is due today."""
    people = ({"id": f"S{n:02d}", "first_name": f"Sam{n}", "email": f"s{n}@example.com"} for n in range(count))
    add_buyers(config, *(fields | {"channel": "email"} for fields in people))


def cards_written(folder: Path) -> list[Path]:
    """Return the card messages the file transport wrote (not the office's digest)."""
    return [p for p in (folder / "outbox").glob("*.eml") if b"\nTo: hello@harbourbikes.example" not in p.read_bytes()]


def digests_written(folder: Path) -> list[Path]:
    """Return the digests the file transport wrote to the office."""
    return [p for p in (folder / "outbox").glob("*.eml") if b"\nTo: hello@harbourbikes.example" in p.read_bytes()]


def states(config: Path) -> list[str]:
    """Return the outbox states, in row order."""
    return [str(row["state"]) for row in outbox_rows(config)]


@pytest.fixture
def services() -> Iterator[list[subprocess.Popen[str]]]:
    """Collect started services and make sure none outlives its test."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # also closes the pipes


def start(config: Path, started: list[subprocess.Popen[str]], now: str | None = None) -> subprocess.Popen[str]:
    """Start ``cardsender run`` as a subprocess, with the clock stopped at ``now`` when given."""
    env = {**os.environ, "CARDSENDER_TEST_NOW": now} if now else None
    process = subprocess.Popen(
        [sys.executable, "-m", "cardsender", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    started.append(process)
    return process


def wait_until_serving(config: Path, process: subprocess.Popen[str]) -> None:
    """Wait until a started service holds the database's lease (its signal handlers are in place by then)."""
    wait_for(lambda: _lease_holder(config) == f"{socket.gethostname()}:{process.pid}")


def test_the_service_sends_what_is_due_at_start_and_stops_cleanly(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]], smtp_server: SmtpServerFactory
) -> None:
    """At start-up the cycle sends today's cards by SMTP and the digest; SIGTERM stops it with status 0."""
    server = smtp_server()
    config = write_config(folder, database_url, rate_per_minute=10_000, smtp_port=server.port)
    seed(config, 3)
    service = start(config, services)
    wait_for(lambda: states(config) == ["sent", "sent", "sent"] and len(server.messages) == 4)
    running = run(config, "status").stdout.splitlines()
    assert running[0].startswith(f"Service: running as {_lease_holder(config)}, heartbeat ")
    assert running[1] == "Outbox: 3 sent."
    service.send_signal(signal.SIGTERM)
    _, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    assert "cycle for " in err and ": 3 planned, 3 sent" in err
    assert "cardsender service stopped" in err
    received = sorted(m.rcpt_tos[0] for m in server.messages)
    assert received == ["hello@harbourbikes.example", "s0@example.com", "s1@example.com", "s2@example.com"]
    assert server.connections == 2  # the cards over one connection, then the digest
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        heartbeat = leases.services(conn)[0].heartbeat_at
    assert heartbeat.year == 2000  # released: the next service may start at once
    stopped = run(config, "status").stdout.splitlines()[0]
    assert stopped.startswith("Service: not running (stopped); last cycle ")
    assert ": 3 planned, 3 sent" in stopped


def test_sigterm_in_the_middle_of_a_batch_leaves_nothing_sending(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """Stopped halfway through, the service finishes the card in flight and puts the rest back to pending."""
    config = write_config(folder, database_url, rate_per_minute=60)  # one card a second
    seed(config, 6)
    service = start(config, services)
    wait_for(lambda: "sent" in states(config))
    service.send_signal(signal.SIGTERM)
    _, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    final = states(config)
    assert "sending" not in final
    assert set(final) == {"sent", "pending"}
    assert len(cards_written(folder)) == final.count("sent")


@pytest.mark.sqlite_only  # on PostgreSQL several services share the database (tests/service/test_services.py)
def test_a_second_service_on_the_same_database_is_refused(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """While one service runs, another one exits at once, naming the holder."""
    config = write_config(folder, database_url, rate_per_minute=10_000)
    first = start(config, services)
    wait_for(lambda: _lease_holder(config) is not None)
    second = start(config, services)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert f"another cardsender service runs against this database: {_lease_holder(config)}" in err
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
    assert first.returncode == 0


@pytest.mark.sqlite_only  # on PostgreSQL several services share the database anyway
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_service_frees_the_database_at_once(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """After a service is SIGKILLed, status says it is not running and when it was last heard from, and a new
    service starts at once instead of waiting for the heartbeat to go stale."""
    config = write_config(folder, database_url, rate_per_minute=10_000)
    killed = start(config, services)
    wait_until_serving(config, killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    status = run(config, "status").stdout.splitlines()[0]
    holder = f"{socket.gethostname()}:{killed.pid}"
    assert re.fullmatch(
        rf"Service: not running \(last heard from \d{{4}}-\d\d-\d\d \d\d:\d\d UTC, as {holder}\).*", status
    )
    restarted = start(config, services)
    wait_until_serving(config, restarted)
    assert restarted.poll() is None
    running = run(config, "status").stdout.splitlines()[0]
    assert running.startswith(f"Service: running as {socket.gethostname()}:{restarted.pid}, heartbeat ")
    restarted.send_signal(signal.SIGTERM)
    _, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err


def test_a_stale_lease_is_taken_over(
    database: str, database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """A lease whose heartbeat stopped minutes ago (a service that was killed) does not block a new one.

    On SQLite that is the one service's lease; on PostgreSQL the lease of the office's once-a-day work.
    """
    config = write_config(folder, database_url, rate_per_minute=10_000)
    seed(config, 1)
    long_ago = clock.utc_now() - dt.timedelta(minutes=10)
    name = leases.office_name("main") if database == "postgresql" else leases.SERVICE
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        conn.execute(
            service_lease.insert().values(
                name=name, holder="elsewhere:1", started_at=long_ago, heartbeat_at=long_ago, last_cycle=""
            )
        )
    service = start(config, services)
    wait_for(lambda: states(config) == ["sent"])
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        taken = leases.read(conn, name)
    assert taken is not None and taken.holder == _lease_holder(config) != "elsewhere:1"
    service.send_signal(signal.SIGTERM)
    service.communicate(timeout=60)
    assert service.returncode == 0


def _lease_holder(config: Path) -> str | None:
    """Return who holds the service lease, if anyone ever did."""
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        running = leases.services(conn)
    return running[0].holder if running else None


def test_one_digest_a_day_goes_to_the_office(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """After the send time the cycle sends the office one digest; a restart the same day sends no second one."""
    config = write_config(folder, database_url, rate_per_minute=10_000)
    seed(config, 2)
    for _ in range(2):
        service = start(config, services)
        wait_until_serving(config, service)
        wait_for(lambda: len(digests_written(folder)) == 1 and states(config) == ["sent", "sent"])
        time.sleep(0.5)
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=60)
        assert service.returncode == 0, err
    (digest,) = digests_written(folder)
    text = digest.read_text(encoding="utf-8")
    assert "Subject: Harbour Street Bikes: " in text
    assert "Coverage: 100% of customers heard from us in the last 70 days (2 of 2)." in text


def test_after_a_downtime_each_missed_card_goes_once_and_the_rest_are_reported(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """Off from Monday to Saturday: a birthday within grace goes once, belated; one past grace is reported missed.

    The Sunday after, the day the clocks change in Toronto, a Sunday birthday goes out on the day.
    """
    config = write_config(folder, database_url, rate_per_minute=10_000)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        for cid, name, birthday in (("A1", "Ana", "--03-05"), ("B1", "Bob", "--03-03"), ("C1", "Cara", "--03-08")):
            fields = {"id": cid, "first_name": name, "email": f"{name.lower()}@example.com", "birthday": birthday}
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2025, 1, 1), BUYERS_WRITTEN_AT)
            call = ContactEvent(cid, dt.datetime(2026, 2, 20, 10), "call", "Asked about spring tune-ups", "import")
            add_event(conn, row, call, BUYERS_WRITTEN_AT)

    def run_on(moment: str, expect: list[str]) -> str:
        """Run the service with the clock stopped at a moment until the outbox holds the expected states."""
        process = start(config, services, moment)
        wait_until_serving(config, process)
        wait_for(lambda: states(config) == expect and len(digests_written(folder)) >= 1)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        return err

    run_on("2026-03-02T15:00:00+00:00", [])  # Monday 10:00 in Toronto: nothing due yet
    run_on("2026-03-07T15:00:00+00:00", ["sent"])  # Saturday: back after five days
    run_on("2026-03-07T16:00:00+00:00", ["sent"])  # restarted the same day: nothing twice
    (ana,) = cards_written(folder)
    text = ana.read_text(encoding="utf-8")
    assert "To: Ana <ana@example.com>" in text
    assert "Subject: Happy belated birthday, Ana!" in text or "we missed your birthday" in text  # either wording
    saturday = [p.read_text(encoding="utf-8") for p in digests_written(folder) if "March 7, 2026" in p.read_text()]
    assert len(saturday) == 1
    assert "Missed, past their grace days (1):\n- Bob (B1): Birthday of 2026-03-03 by email" in saturday[0]
    run_on("2026-03-08T15:00:00+00:00", ["sent", "sent"])  # Sunday, the day clocks change: Cara's birthday
    to_cara = [p for p in cards_written(folder) if "To: Cara <cara@example.com>" in p.read_text(encoding="utf-8")]
    assert len(to_cara) == 1


def test_on_the_day_the_clocks_go_back_a_card_goes_once(
    database_url: str, folder: Path, services: list[subprocess.Popen[str]]
) -> None:
    """On Sunday November 1, 2026 (Toronto's clocks go back an hour), a birthday card goes out once."""
    config = write_config(folder, database_url, rate_per_minute=10_000)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        fields = {"id": "D1", "first_name": "Dana", "email": "dana@example.com", "birthday": "--11-01"}
        row = insert_customer(conn, parse_customer_fields(fields), dt.date(2025, 1, 1), BUYERS_WRITTEN_AT)
        visit = ContactEvent("D1", dt.datetime(2026, 10, 20, 10), "visit", "New tires", "import")
        add_event(conn, row, visit, BUYERS_WRITTEN_AT)
    for moment in ("2026-11-01T06:30:00+00:00", "2026-11-01T07:30:00+00:00"):  # 01:30 EDT, then 02:30 EST
        process = start(config, services, moment)
        wait_until_serving(config, process)
        wait_for(lambda: states(config) == ["sent"] and len(digests_written(folder)) == 1)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    assert len(cards_written(folder)) == 1

"""Benchmark several services sharing one PostgreSQL database: cards per second with 1, 2 and 4 services.

No number is set for several services on one PostgreSQL database sharing two offices'
sending: this measures how the throughput changes with the number of services, against
one service measured in the same run.

For each number of services: a fresh schema of its own in the PostgreSQL database;
``--cards`` customers imported through the command line, half in each of two offices
(east, west), each with a purchase yesterday so one thank-you card is due today
(``tests/fleet.py``); then that many ``cardsender run`` processes started at once,
sending over SMTP to one aiosmtpd server on 127.0.0.1 (``tests/smtpd.py``, a thread
of this process, so it shares the machine's cores with the services and PostgreSQL).
Timed from the start of the services until every outbox row is ``sent`` and the SMTP
server has received every card: the services' start-up (Python, imports, planning the
day) is part of the time, as it is when an office starts its services.  Every card
must be delivered exactly once, from its own office, or the benchmark stops.  The
runs are repeated, in alternating order, and the medians are printed.

When PostgreSQL cannot be reached, one line says the benchmark was skipped, and it
exits with status 0.

    python bench/bench_services.py [--cards 5000] [--repeat 3] [--database postgresql:///cardsender_test]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

# Run as ``python bench/bench_services.py``: the repository root holds the ``tests`` package reused here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cardsender.store import Store
from tests.fleet import OFFICES, Fleet, seed, states, wait_for, write_config
from tests.smtpd import SmtpServer

POSTGRES_ENV = "CARDSENDER_TEST_POSTGRES"
DEFAULT_DATABASE = "postgresql:///cardsender_test"
SERVICES = (1, 2, 4)
CONNECT_TIMEOUT = 5
# Outbox states a card does not leave by itself: the run could never end with every card sent.
STOPPED = ("failed", "held", "unknown", "cancelled")


@dataclass(frozen=True, slots=True)
class Run:
    """One timed measurement: seconds to send everything, seconds to the first card, cards each service sent."""

    services: int
    seconds: float
    first_card: float
    sent_by: list[int]


def isolate_environment(home: Path) -> None:
    """Keep the services and the command line away from the user's own config, data and log folders."""
    os.environ.pop("CARDSENDER_CONFIG", None)
    os.environ.pop("CARDSENDER_TEST_NOW", None)
    os.environ["HOME"] = str(home)
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        os.environ[variable] = str(home / folder)


def shown(url: str) -> str:
    """Return a database URL fit to print: its password, if any, hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def conninfo_of(base: str) -> str:
    """Return the libpq connection string of a database URL (psycopg does not take SQLAlchemy's driver suffix)."""
    return base.replace("postgresql+psycopg://", "postgresql://", 1)


def unreachable(base: str) -> str | None:
    """Return why PostgreSQL cannot be used at ``base`` (no driver, not a PostgreSQL URL, no connection), or None."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'cardsender[postgresql]')"
    if not base.startswith(("postgresql://", "postgresql+psycopg://")):
        return f"{shown(base)} is not a postgresql:// URL"
    try:
        with psycopg.connect(conninfo_of(base), autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        return f"PostgreSQL is not reachable at {shown(base)}: {reason}"
    return None


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """Create an empty schema of its own in the database and return a URL that uses it; drop it afterwards."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:16]}"
    conninfo = conninfo_of(base)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def received(server: SmtpServer, senders: set[str]) -> Counter[str]:
    """Return how many cards each customer address received (the offices' digests, sent to the offices, left out)."""
    return Counter(rcpt for m in list(server.messages) for rcpt in m.rcpt_tos if rcpt not in senders)


def check_delivery(server: SmtpServer, offices: dict[str, str], senders: set[str], services: int) -> None:
    """Stop the benchmark unless every card was delivered exactly once, from its own office."""
    counts = received(server, senders)
    missing = offices.keys() - counts.keys()
    unexpected = counts.keys() - offices.keys()
    twice = sorted(address for address, count in counts.items() if count > 1)
    if missing or unexpected or twice:
        raise SystemExit(
            f"{services} services: {len(missing)} cards not delivered, {len(twice)} delivered more than once "
            f"(e.g. {twice[:3]}), {len(unexpected)} unexpected recipients (e.g. {sorted(unexpected)[:3]})"
        )
    wrong = [
        m.rcpt_tos[0]
        for m in server.messages
        if m.rcpt_tos[0] in offices and m.mail_from != OFFICES[offices[m.rcpt_tos[0]]][1]
    ]
    if wrong:
        raise SystemExit(f"{services} services: {len(wrong)} cards came from the wrong office (e.g. {wrong[:3]})")


def sent_counts(log: str) -> int:
    """Return how many cards a service's cycle lines say it sent."""
    return sum(int(n) for n in re.findall(r"planned, (\d+) sent", log))


def run_once(base: str, folder: Path, cards: int, services: int) -> Run:
    """Seed a fresh schema, start the services at once, and time them until every card is sent and received."""
    folder.mkdir()
    with SmtpServer() as server, fresh_schema(base) as url:
        config = write_config(folder, url, server.port)
        offices = seed(config, cards // len(OFFICES))
        senders = {address for _, address in OFFICES.values()}
        fleet = Fleet(config)
        first_card: list[float] = []
        with Store.open(url) as store:

            def finished() -> bool:
                """Return whether every card is sent and received; stop at once if that can no longer happen."""
                if server.messages and not first_card:
                    first_card.append(time.perf_counter() - started)
                for index, process in enumerate(fleet.processes):
                    if process.poll() is not None:
                        status = process.returncode
                        raise SystemExit(f"service {index} exited with status {status}:\n{fleet.log(index)}")
                if len(server.messages) < cards:
                    return False
                counts = states(store)
                if any(counts.get(state) for state in STOPPED):
                    raise SystemExit(f"{services} services: cards that will not be sent: {counts}")
                return counts == {"sent": cards} and len(received(server, senders)) >= cards

            started = time.perf_counter()
            fleet.start(services)
            try:
                wait_for(finished, 120 + cards / 5, f"sending {cards:,} cards with {services} services")
                seconds = time.perf_counter() - started
            finally:
                fleet.stop()
        check_delivery(server, offices, senders, services)
        sent_by = [sent_counts(fleet.log(index)) for index in range(services)]
        if sum(sent_by) != cards:
            raise SystemExit(f"{services} services: their logs say they sent {sent_by}, {sum(sent_by)} in all")
    return Run(services, seconds, first_card[0] if first_card else seconds, sent_by)


def main() -> None:
    """Check that PostgreSQL is there, run the measurements in alternating order, print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=5000, help="Cards due in all, half in each office.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--database",
        default=os.environ.get(POSTGRES_ENV) or DEFAULT_DATABASE,
        help=f"PostgreSQL database to create schemas in (default: ${POSTGRES_ENV}, else {DEFAULT_DATABASE}).",
    )
    args = parser.parse_args()
    if args.cards < len(OFFICES) or args.cards % len(OFFICES):
        parser.error(f"--cards must be a positive multiple of {len(OFFICES)} (one half for each office)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    reason = unreachable(args.database)
    if reason is not None:
        print(f"skipped: {reason}")
        return
    cards = args.cards
    runs: dict[int, list[Run]] = {n: [] for n in SERVICES}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-services-") as tmp:
        root = Path(tmp).resolve()
        isolate_environment(root / "home")
        for index in range(args.repeat):
            for n in SERVICES if index % 2 == 0 else SERVICES[::-1]:
                runs[n].append(run_once(args.database, root / f"run-{index}-{n}", cards, n))
    seconds = {n: statistics.median(r.seconds for r in runs[n]) for n in SERVICES}
    print(f"{cards:,} cards due in two offices on one PostgreSQL database ({shown(args.database)}), sent over SMTP")
    print(f"  to one aiosmtpd server; services started at once; median of {args.repeat}; {os.cpu_count()} CPUs")
    for n in SERVICES:
        first = statistics.median(r.first_card for r in runs[n])
        name = f"{n} service{'s' if n > 1 else ''}"
        rate, ratio = cards / seconds[n], seconds[1] / seconds[n]
        print(f"  {name:<11} {seconds[n]:7.2f} s  {rate:6.1f} cards/s  ratio {ratio:5.2f}  first card at {first:.2f} s")
    print("  ratio: cards/s against 1 service in the same run")
    print("  cards sent by each service: " + json.dumps({n: [r.sent_by for r in runs[n]] for n in SERVICES}))
    print("  runs (s): " + json.dumps({n: [round(r.seconds, 2) for r in runs[n]] for n in SERVICES}))
    print(f"  the whole benchmark (seeding included) took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

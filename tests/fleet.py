"""Several services on one PostgreSQL database, two offices and one SMTP server.

Shared by ``tests/service/test_services.py`` and ``bench/bench_services.py``: a config with
two offices in different time zones, customers imported through the command line
with a purchase yesterday (so a thank-you is due today), and ``cardsender run``
started as real subprocesses.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import Result

from cardsender.store import Store
from cardsender.store import outbox as queries
from cardsender.system import clock
from tests.support.cli import run
from tests.support.waiting import wait_for

__all__ = ["OFFICES", "Fleet", "cardsender", "seed", "states", "wait_for", "write_config"]

# Each office: its time zone and the address its cards come from.
OFFICES = {
    "east": ("America/Toronto", "east@harbourbikes.example"),
    "west": ("America/Vancouver", "west@harbourbikes.example"),
}


def write_config(folder: Path, database_url: str, smtp_port: int) -> Path:
    """Write a config serving both offices, sending through the local SMTP server as fast as it takes."""
    offices = "".join(
        f'\n[offices.{key}]\nname = "Harbour Street Bikes {key.title()}"\nfrom_address = "{sender}"\n'
        f'timezone = "{zone}"\n'
        for key, (zone, sender) in OFFICES.items()
    )
    config = folder / "cardsender.toml"
    config.write_text(
        '[office]\nname = "Harbour Street Bikes"\ncountry = "CA"\npostal_address = "12 Harbour Street\\nToronto"\n'
        f"{offices}\n"
        f'[database]\nurl = "{database_url}"\n\n'
        f'[email]\ntransport = "smtp"\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        "rate_per_minute = 60000\nrate_per_day = 1000000\n",
        encoding="utf-8",
    )
    return config


def cardsender(config: Path, *args: str) -> Result:
    """Run a command (in this process: the services are the subprocesses here); fail loudly when it fails."""
    done = run(config, *args)
    if done.exit_code != 0:
        raise AssertionError(f"cardsender {' '.join(args)} failed: {done.output}")
    return done


def seed(config: Path, per_office: int) -> dict[str, str]:
    """Import ``per_office`` customers into each office, each with a purchase yesterday at their office.

    Return each customer's email address and office.
    """
    folder = config.parent
    offices: dict[str, str] = {}
    for key, (zone, _) in OFFICES.items():
        # Each office imports its own customers, so that they are added on the office's own day.
        lines = ["id,first_name,email,office"]
        for n in range(per_office):
            address = f"{key}{n:05d}@example.com"
            lines.append(f"{key}-{n:05d},Sam {n},{address},{key}")
            offices[address] = key
        (folder / f"customers-{key}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cardsender(config, "--office", key, "import", "customers", str(folder / f"customers-{key}.csv"))
        day = (clock.office_today(zone) - dt.timedelta(days=1)).isoformat()
        rows = [f"{key}-{n:05d},{day} 11:00,purchase,Road bike" for n in range(per_office)]
        path = folder / f"history-{key}.csv"
        path.write_text("customer_id,date,kind,summary\n" + "\n".join(rows) + "\n", encoding="utf-8")
        cardsender(config, "--office", key, "import", "history", str(path))
    return offices


@dataclass
class Fleet:
    """Services started on one config; their logs go to files beside it."""

    config: Path
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, count: int) -> None:
        """Start ``count`` services at once."""
        for _ in range(count):
            log = (self.config.parent / f"service-{len(self.processes)}.log").open("w", encoding="utf-8")
            process = subprocess.Popen(
                [sys.executable, "-m", "cardsender", "--config", str(self.config), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "HOME": str(self.config.parent)},
            )
            log.close()
            self.processes.append(process)

    def log(self, index: int) -> str:
        """Return what a service logged."""
        return (self.config.parent / f"service-{index}.log").read_text(encoding="utf-8")

    def kill(self, index: int) -> None:
        """Kill a service outright (SIGKILL) and reap it, as a crash or a power cut would end it."""
        self.processes[index].kill()
        self.processes[index].wait(timeout=30)

    def stop(self) -> None:
        """Stop every service still running, cleanly (SIGTERM), or kill it if it does not stop."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


def states(store: Store) -> dict[str, int]:
    """Return how many outbox rows are in each state."""
    with store.begin() as conn:
        return queries.count_by_state(conn)

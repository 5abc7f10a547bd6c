"""Senders killed with SIGKILL at random moments, as a power cut or an impatient user would: `send` and the
service, on every database in use.  No card is delivered twice, none is lost, and each killed connection
leaves at most one card whose fate a person must settle."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cardsender.config.loading import load_config
from cardsender.store import Store
from cardsender.store.schema import outbox
from tests.smtpd import SmtpServer, SmtpServerFactory
from tests.support.cli import outbox_rows
from tests.support.customers import ANA, add_buyers
from tests.support.office import write_smtp_config
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"), pytest.mark.slow]

KILLS = 6
CARDS = 100  # enough that every kill lands while cards are being sent


def left_by(store: Store, pid: int) -> tuple[int, int]:
    """Return how many cards a process holds in sending, and how many of them began their SMTP transaction."""
    holder = f"{socket.gethostname()}:{pid}"
    query = select(func.count(), func.count(outbox.c.smtp_started_at)).where(
        outbox.c.state == "sending", outbox.c.claimed_by == holder
    )
    with store.begin() as conn:
        claimed, began = conn.execute(query).one()
    return int(claimed), int(began)


def wait_until_sending(store: Store, server: SmtpServer, child: subprocess.Popen[bytes], delivered: int) -> None:
    """Wait until a process holds claimed cards and the server has received one of them, however slowly the
    machine starts it; fail only when it never gets there (a hang) or ends first."""

    def sending() -> bool:
        assert child.poll() is None, f"the sender ended (status {child.returncode}) before sending a card"
        return len(server.messages) > delivered and left_by(store, child.pid)[0] > 0

    wait_for(sending, 120, "a card going out from a started sender")


@pytest.mark.parametrize("command", ["send", "run"])
def test_killing_senders_never_doubles_or_loses_a_card(
    database: str,
    database_url: str,
    smtp_server: SmtpServerFactory,
    tmp_path: Path,
    command: str,
    record_property: Callable[[str, object], None],
) -> None:
    """`send` or `run` killed again and again mid-batch, then a clean send: every card is delivered at most once,
    each ends sent (and was delivered) or unknown, and each kill leaves at most one card unknown."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server, rate_per_minute=1500)  # 40 ms between cards
    add_buyers(config, *({**ANA, "id": f"K{n:02d}", "email": f"k{n:02d}@example.com"} for n in range(CARDS)))
    argv = [sys.executable, "-m", "cardsender", "--config", str(config)]
    argv += ["send", "--no-dry-run"] if command == "send" else ["run"]
    rng = random.Random(f"{command}-{database}")
    unknown_per_kill = []
    mid_batch = 0
    with Store.open(load_config(config).database.url) as store:
        for _ in range(KILLS):
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_until_sending(store, server, child, len(server.messages))
            # Then anywhere in the batch: between cards, or inside a transaction.  A batch of 20 cards 40 ms
            # apart lasts 0.8 s, so the process is still sending at the kill however slowly it runs.
            time.sleep(rng.uniform(0, 0.4))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            claimed, began = left_by(store, child.pid)
            mid_batch += claimed > 0
            unknown_per_kill.append(began)
    final = subprocess.run(
        [*argv[:5], "send", "--no-dry-run"], capture_output=True, text=True, timeout=120, check=False
    )
    assert final.returncode == 0, final.stderr
    delivered = Counter(message.rcpt_tos[0] for message in server.messages)
    states = {str(row["customer_id"]): str(row["state"]) for row in outbox_rows(config)}
    duplicates = sum(count - 1 for count in delivered.values())
    lost = sum(
        1
        for customer, state in states.items()
        if state not in ("sent", "unknown") or (state == "sent" and not delivered[f"{customer.lower()}@example.com"])
    ) + (CARDS - len(states))
    unknown = sum(1 for state in states.values() if state == "unknown")
    record_property(
        "figures",
        f"kill test, {command} on {database}: {KILLS} kills ({mid_batch} mid-batch), {CARDS} cards, "
        f"{duplicates} duplicates, {lost} lost, at most {max(unknown_per_kill)} unknown per kill "
        f"({unknown} unknown in all)",
    )
    assert mid_batch >= KILLS // 2  # the kills hit claimed batches, not idle processes
    assert duplicates == 0
    assert lost == 0
    assert max(unknown_per_kill) <= 1
    assert unknown == sum(unknown_per_kill)
    assert sum(delivered.values()) >= CARDS - unknown

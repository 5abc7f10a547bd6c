"""Benchmark sending: 2,000 cards through ``SendCycle.run`` to a local SMTP sink, against bare smtplib loops.

Target: 2,000 messages to a local SMTP sink (an aiosmtpd process) at
least 0.9 times the messages per second of a bare smtplib loop that sends
equivalent messages over one connection, in the same run.  The figure for one
connection per message (as mailmerge does) is printed for comparison.

The sink is an aiosmtpd server in a separate process on 127.0.0.1 that counts
the messages and bytes it accepts and keeps none of them.  cardsender's side is
timed end to end: ``SendCycle(...).run(SmtpTransport(...))`` plans the day,
claims the due rows, checks them again, renders, sends over one connection and
records each result, on a fresh copy of a database of N customers who each have
a thank-you card due today.  The baselines send the very messages cardsender
renders (a dry run written to .eml files beforehand) with ``smtp.sendmail``:
(a) over one connection, (b) one connection per message.  Each measurement is
repeated, in alternating order, and the medians are printed.

    python bench/bench_send.py [--messages 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.policy
import importlib
import json
import os
import random
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from types import FrameType

from aiosmtpd.smtp import SMTP, Envelope, Session

from cardsender.config.loading import load_config
from cardsender.config.model import Config
from cardsender.domain.records import ContactEvent
from cardsender.domain.vocabulary import OutboxState
from cardsender.importers.fields import parse_customer_fields
from cardsender.sending.cycle import SendCycle
from cardsender.sending.message import OutgoingMessage
from cardsender.sending.transport import Outcome, SmtpTransport
from cardsender.store import Store
from cardsender.store.customers import add_event, insert_customer
from cardsender.system import clock

HOST = "127.0.0.1"
TZ = "America/Toronto"
TARGET = 0.9
WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
FIRST = [
    "Ana",
    "Zoë",
    "Łukasz",
    "José",
    "太郎",
    "Ελένη",
    "Алексей",
    "محمد",
    "Thảo",
    "Olivia",
    "Noah",
    "Siobhán",
    "Priya",
    "Jürgen",
    "Yuki",
    "Liam",
    "Chloé",
    "Mateo",
    "Ngozi",
    "Søren",
]
LAST = [
    "Silva",
    "Ødegård",
    "Żółć",
    "García",
    "山田",
    "Παπαδοπούλου",
    "Смирнов",
    "الحسن",
    "Nguyễn",
    "Smith",
    "Tremblay",
    "Müller",
    "O'Brien",
    "Patel",
    "Kowalski",
    "Brown",
    "Martin",
    "Okafor",
    "Lefèvre",
    "Kim",
]
SINK_START_SECONDS = 30.0
SMTP_TIMEOUT = 60.0


# --- the sink (runs in its own process) ---------------------------------------------------------------------------


class CountingHandler:
    """aiosmtpd handler: accepts every message and counts messages and bytes; VRFY answers with the counts."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Count the message and forget it."""
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"

    async def handle_VRFY(self, server: SMTP, session: Session, envelope: Envelope, address: str) -> str:
        """Report the counts so far (the benchmark reads them between measurements)."""
        return f"252 messages={self.messages} bytes={self.bytes}"


def run_sink(port: int) -> None:
    """Serve on 127.0.0.1:port until SIGTERM or SIGINT (or until the parent process is gone)."""
    from aiosmtpd.controller import Controller

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = os.getppid()
    controller = Controller(CountingHandler(), hostname=HOST, port=port)
    controller.start()
    try:
        while not stop.wait(1.0) and os.getppid() == parent:
            pass
    finally:
        controller.stop()


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def sink_stats(port: int) -> tuple[int, int]:
    """Return the messages and bytes the sink has accepted so far."""
    with smtplib.SMTP(HOST, port, timeout=SMTP_TIMEOUT) as smtp:
        code, text = smtp.verify("stats@sink.invalid")
    if code != 252:
        raise RuntimeError(f"the sink answered VRFY with {code} {text!r}")
    fields = dict(word.split("=", 1) for word in text.decode().split() if "=" in word)
    return int(fields["messages"]), int(fields["bytes"])


def start_sink(port: int) -> subprocess.Popen[bytes]:
    """Start the sink process and wait until it answers."""
    proc = subprocess.Popen([sys.executable, __file__, "--sink", "--port", str(port)])
    deadline = time.monotonic() + SINK_START_SECONDS
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the SMTP sink exited with status {proc.returncode} before it was ready")
        try:
            sink_stats(port)
            return proc
        except (OSError, smtplib.SMTPException) as exc:
            if time.monotonic() > deadline:
                stop_sink(proc)
                raise SystemExit(
                    f"the SMTP sink did not answer on {HOST}:{port} within {SINK_START_SECONDS:.0f} s"
                ) from exc
            time.sleep(0.05)


def stop_sink(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the sink, and kill it if it does not stop."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- cardsender's side -----------------------------------------------------------------------------------------------


def write_config(folder: Path, port: int) -> Path:
    """Write an office config that sends through the sink, without TLS, login or a useful rate limit."""
    # rate_per_minute is capped at 10,000 by the config; the sleep between messages is a no-op here anyway.
    config = folder / "cardsender.toml"
    config.write_text(
        '[office]\nname = "Harbour Street Bikes"\nfrom_address = "hello@harbourbikes.example"\n'
        f'timezone = "{TZ}"\ncountry = "CA"\npostal_address = "12 Harbour Street\\nToronto"\n\n'
        '[database]\nurl = "sqlite:///cardsender.db"\n\n'
        f'[email]\ntransport = "smtp"\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\n'
        "rate_per_minute = 10000\nrate_per_day = 1000000\n",
        encoding="utf-8",
    )
    return config


def seed(config: Config, count: int, today: dt.date, seed: int = 7) -> None:
    """Store ``count`` customers who each bought something yesterday, so a thank-you card is due today."""
    rng = random.Random(seed)
    when = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(11))
    with Store.open(config.database.url) as store, store.begin() as conn:
        for n in range(1, count + 1):
            fields = {
                "id": f"C{n:05d}",
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "email": f"customer{n}@example.com",
                "channel": "email",
            }
            row = insert_customer(conn, parse_customer_fields(fields), today - dt.timedelta(days=400), WRITTEN_AT)
            add_event(conn, row, ContactEvent(fields["id"], when, "purchase", "Road bike", "import"), WRITTEN_AT)


def fresh_database(original: Path, db: Path) -> None:
    """Replace the office database with a copy of the seeded one (no WAL or shared-memory file left behind)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(original, db)


def cycle(store: Store, config: Config, today: dt.date) -> SendCycle:
    """Return the send cycle for today, as the service makes it, without pauses between messages."""
    return SendCycle(
        store, config, clock=clock.Clock().on(today, config.office.timezone), worker="bench", sleep=lambda _: None
    )


class TimedTransport:
    """An SmtpTransport that adds up the time spent in it (connect and login, each send, goodbye)."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner
        self.seconds = 0.0

    def open(self) -> None:
        """Connect through the wrapped transport."""
        started = time.perf_counter()
        try:
            self.inner.open()
        finally:
            self.seconds += time.perf_counter() - started

    def send(self, message: OutgoingMessage) -> Outcome:
        """Send through the wrapped transport."""
        started = time.perf_counter()
        try:
            return self.inner.send(message)
        finally:
            self.seconds += time.perf_counter() - started

    def close(self) -> None:
        """Disconnect through the wrapped transport."""
        started = time.perf_counter()
        try:
            self.inner.close()
        finally:
            self.seconds += time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Run:
    """One timed measurement: seconds, messages reported sent, messages the sink received, seconds in transport."""

    seconds: float
    sent: int
    received: int
    transport_seconds: float = 0.0


def run_cardsender(config: Config, today: dt.date, original: Path, db: Path, port: int) -> Run:
    """Send today's cards with SendCycle.run on a fresh database; time it from the cycle's creation to its end."""
    fresh_database(original, db)
    before, _ = sink_stats(port)
    with Store.open(config.database.url) as store:
        transport = TimedTransport(SmtpTransport(config.email, config.office.from_address, None))
        started = time.perf_counter()
        report = cycle(store, config, today).run(transport)
        seconds = time.perf_counter() - started
    after, _ = sink_stats(port)
    if report.stopped:
        raise SystemExit(f"the send cycle stopped: {report.stopped}")
    return Run(seconds, report.count(OutboxState.SENT), after - before, transport.seconds)


def run_bare(messages: list[tuple[str, bytes]], sender: str, port: int) -> Run:
    """Send the messages with a bare smtplib loop over one connection."""
    before, _ = sink_stats(port)
    started = time.perf_counter()
    with smtplib.SMTP(HOST, port, timeout=SMTP_TIMEOUT) as smtp:
        for recipient, data in messages:
            smtp.sendmail(sender, [recipient], data)
    seconds = time.perf_counter() - started
    after, _ = sink_stats(port)
    return Run(seconds, len(messages), after - before)


def run_per_connection(messages: list[tuple[str, bytes]], sender: str, port: int) -> Run:
    """Send the messages with smtplib, one connection per message (connect, sendmail, quit), as mailmerge does."""
    before, _ = sink_stats(port)
    started = time.perf_counter()
    for recipient, data in messages:
        with smtplib.SMTP(HOST, port, timeout=SMTP_TIMEOUT) as smtp:
            smtp.sendmail(sender, [recipient], data)
    seconds = time.perf_counter() - started
    after, _ = sink_stats(port)
    return Run(seconds, len(messages), after - before)


def dry_run_messages(config: Config, today: dt.date, original: Path, db: Path, folder: Path) -> list[tuple[str, bytes]]:
    """Render the messages cardsender would send today (a dry run on a copy), as recipient and SMTP bytes."""
    fresh_database(original, db)
    with Store.open(config.database.url) as store:
        cycle(store, config, today).dry_run(folder)
    parser = BytesHeaderParser(policy=email.policy.default)
    messages = []
    for path in sorted(folder.glob("*.eml")):
        raw = path.read_bytes()
        (address,) = parser.parsebytes(raw)["To"].addresses
        # The files have LF line ends; SmtpTransport sends CRLF (policy SMTP), and smtplib leaves bytes as they are.
        messages.append((address.addr_spec, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")))
    return messages


def check(name: str, run: Run, expected: int) -> None:
    """Stop the benchmark if a measurement did not deliver every message."""
    if run.sent != expected or run.received != expected:
        raise SystemExit(f"{name}: {run.sent} reported sent, {run.received} received by the sink; expected {expected}")


def main() -> None:
    """Start the sink, build the data, run the measurements in alternating order, print the medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.port)
        return
    n = args.messages
    importlib.import_module("yagmail")  # imported here, so the first timed run does not pay for it
    port = free_port()
    sink = start_sink(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp).resolve()
            config = load_config(write_config(folder, port))
            today = clock.office_today(TZ)
            db, original = folder / "cardsender.db", folder / "seeded.db"
            seed(config, n, today)
            if any(Path(f"{db}{suffix}").exists() for suffix in ("-wal", "-shm")):
                raise SystemExit("the seeded database left a -wal or -shm file behind after closing")
            shutil.copy(db, original)
            messages = dry_run_messages(config, today, original, db, folder / "dry-run")
            if len(messages) != n:
                raise SystemExit(f"the dry run rendered {len(messages)} messages, expected {n}")
            sender = config.office.from_address
            runs: dict[str, list[Run]] = {"cardsender": [], "bare": [], "per-connection": []}
            order = list(runs)
            for index in range(args.repeat):
                for name in order if index % 2 == 0 else order[::-1]:
                    if name == "cardsender":
                        run = run_cardsender(config, today, original, db, port)
                    elif name == "bare":
                        run = run_bare(messages, sender, port)
                    else:
                        run = run_per_connection(messages, sender, port)
                    check(name, run, n)
                    runs[name].append(run)
            _, total_bytes = sink_stats(port)
    finally:
        stop_sink(sink)
    ours = statistics.median(r.seconds for r in runs["cardsender"])
    bare = statistics.median(r.seconds for r in runs["bare"])
    each = statistics.median(r.seconds for r in runs["per-connection"])
    in_transport = statistics.median(r.transport_seconds for r in runs["cardsender"])
    sent = [r.sent for r in runs["cardsender"]]
    received = [r.received for r in runs["cardsender"]]
    size = sum(len(data) for _, data in messages) / n
    print(f"send {n:,} messages to a local aiosmtpd sink (another process), median of {args.repeat}")
    print(f"  average message {size:,.0f} bytes; the sink accepted {total_bytes:,} bytes in all")
    print(f"  bare smtplib, one connection     {bare:6.2f} s  {n / bare:6.0f} msg/s")
    print(f"  cardsender SendCycle.run         {ours:6.2f} s  {n / ours:6.0f} msg/s")
    print(f"  smtplib, connection per message  {each:6.2f} s  {n / each:6.0f} msg/s")
    print(f"    reported sent per run {sent}; received by the sink per run {received}")
    print(f"  ratio cardsender / bare loop     {bare / ours:6.2f}    (target >= {TARGET})")
    print(f"  ratio per-connection / bare      {bare / each:6.2f}")
    print(f"  cardsender's time: {in_transport:.2f} s in SmtpTransport (connect, serialise, send),")
    print(f"    {ours - in_transport:.2f} s in the rest (plan, claim, re-check, render, record)")
    print("  runs (s): " + json.dumps({k: [round(r.seconds, 2) for r in v] for k, v in runs.items()}))


if __name__ == "__main__":
    main()

"""``cardsender run``: the background service that runs the send cycle, unattended.

APScheduler only wakes the service up; correctness lives in the database
(REFERENCE.md, APScheduler 3.11).  One idempotent cycle runs at start-up, daily at
the office's send time, and on an interval tick that catches up after the machine
slept or was off.  The in-memory job store, the office time zone, no misfire grace
limit, coalescing and one instance at a time.  A lease row with a heartbeat keeps a
second service off the same database.  SIGTERM and SIGINT finish the message in
flight, put the rest back to pending, and exit cleanly.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import signal
import threading
from pathlib import Path
from types import FrameType

from cardsender import clock, digest, paths
from cardsender.config import Config
from cardsender.delivery.mail import Transport
from cardsender.errors import CardsenderError
from cardsender.service import SendCycle, worker_name
from cardsender.store import Store
from cardsender.store import lease as leases

log = logging.getLogger("cardsender")
HEARTBEAT = dt.timedelta(seconds=30)
# A lease whose heartbeat is older than this belongs to a service that is gone.
STALE_AFTER = dt.timedelta(minutes=3)
TICK_MINUTES = 15


class ServiceBusy(CardsenderError):
    """Another service holds the database."""


def setup_logging(verbose: bool, folder: Path | None = None) -> Path:
    """Log readable lines with time and level to stderr and to a rotating file; return the file."""
    folder = folder or paths.log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cardsender.log"
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = [
        logging.StreamHandler(),
        logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"),
    ]
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path


class Service:
    """The service: its lease, its scheduler and the cycle it runs."""

    def __init__(self, store: Store, config: Config, transport: Transport) -> None:
        self.store = store
        self.config = config
        self.transport = transport
        self.holder = worker_name()
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # one cycle at a time, whichever trigger fired

    def acquire(self) -> None:
        """Take the database's lease, or raise ServiceBusy naming the service that holds it."""
        with self.store.begin() as conn:
            other = leases.acquire(conn, self.holder, clock.utc_now(), STALE_AFTER)
        if other is not None:
            raise ServiceBusy(
                f"another cardsender service runs against this database: {other.holder}, since "
                f"{other.started_at:%Y-%m-%d %H:%M} UTC (last heartbeat {other.heartbeat_at:%H:%M:%S} UTC); "
                "stop it first, or wait a few minutes if it was killed"
            )

    def cycle(self) -> None:
        """Run one send cycle for today at the office; never let an error stop the service."""
        if self.stopping.is_set() or not self.lock.acquire(blocking=False):
            return
        try:
            today = clock.office_today(self.config.office.timezone)
            cycle = SendCycle(self.store, self.config, today=today, now=clock.utc_now,
                              office_now=clock.office_now(self.config.office.timezone), worker=self.holder)  # fmt: skip
            report = cycle.run(self.transport, should_stop=self.stopping.is_set)
            summary = (
                f"cycle for {today.isoformat()}: {report.planned} planned, {report.count('sent')} sent, "
                f"{report.count('pending')} to retry, {report.count('failed')} failed, {report.count('unknown')} "
                f"unknown, {report.count('held')} held"
            )
            if report.stopped:
                summary += f"; stopped: {report.stopped}"
                log.warning(summary)
            else:
                log.info(summary)
        except Exception as exc:  # the service keeps running; the next tick tries again
            summary = f"cycle failed: {exc}"
            log.exception(summary)
        try:
            if not self.stopping.is_set():
                summary += self.digest_if_due()
            with self.store.begin() as conn:
                leases.record_cycle(conn, self.holder, clock.utc_now(), summary)
        finally:
            self.lock.release()

    def wait_for_cycle(self) -> None:
        """Wait until a cycle under way has finished (it stops after the card in flight)."""
        with self.lock:
            pass

    def digest_if_due(self) -> str:
        """Send the morning digest once the send time has passed today, once a day; say so for the log."""
        now = clock.office_now(self.config.office.timezone)
        today = now.date()
        if now.time() < self.config.office.send_time or digest.already_sent(self.store, today):
            return ""
        try:
            written = digest.compose(self.store, self.config, today)
            self.transport.open()
            try:
                outcome = self.transport.send(digest.message_of(written, self.config, clock.utc_now()))
            finally:
                self.transport.close()
        except Exception as exc:  # the digest is tried again on the next tick
            log.exception("digest failed: %s", exc)
            return f"; digest failed: {exc}"
        if outcome.state != "sent":
            log.warning("digest not sent: %s", outcome.reply)
            return f"; digest not sent: {outcome.reply}"
        digest.record(self.store, written, clock.utc_now())
        log.info("digest sent: %s", written.subject)
        return "; digest sent"

    def beat(self, next_run: dt.datetime | None) -> None:
        """Renew the lease; stop if another service took it over."""
        with self.store.begin() as conn:
            kept = leases.heartbeat(conn, self.holder, clock.utc_now(), next_run)
        if not kept:
            log.error("another service took over this database; stopping")
            self.stopping.set()

    def release(self) -> None:
        """Give the lease up."""
        with self.store.begin() as conn:
            leases.release(conn, self.holder)


def run_service(store: Store, config: Config, transport: Transport) -> int:
    """Run the service until SIGTERM or SIGINT; return the exit status."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    service = Service(store, config, transport)
    zone = config.office.tz
    # Defaults that lose runs (misfire grace of 1 s) are replaced (REFERENCE.md, APScheduler 3.11).
    scheduler = BlockingScheduler(
        timezone=zone, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Only flags and a wake-up here: waiting in a signal handler can deadlock the scheduler's own locks.
        log.info("stopping on %s: finishing the card in flight", signal.Signals(signum).name)
        service.stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    # Handlers first: a stop asked for while the service starts is honoured, never a hard kill.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    service.acquire()
    send_at = config.office.send_time
    scheduler.add_job(service.cycle, "date", run_date=dt.datetime.now(zone), id="start-up")
    scheduler.add_job(service.cycle, CronTrigger(hour=send_at.hour, minute=send_at.minute, timezone=zone), id="daily")
    scheduler.add_job(service.cycle, IntervalTrigger(minutes=TICK_MINUTES, timezone=zone), id="tick")

    def beat() -> None:
        job = scheduler.get_job("daily")
        next_run = job.next_run_time.astimezone(dt.UTC).replace(tzinfo=None) if job and job.next_run_time else None
        service.beat(next_run)
        if service.stopping.is_set():
            scheduler.shutdown(wait=False)

    scheduler.add_job(beat, IntervalTrigger(seconds=int(HEARTBEAT.total_seconds()), timezone=zone), id="heartbeat")
    log.info("cardsender service started as %s; sends daily at %s %s", service.holder, send_at.strftime("%H:%M"), zone)
    try:
        if not service.stopping.is_set():
            scheduler.start()
    finally:
        service.wait_for_cycle()  # the cycle under way stops after its current card
        service.release()
        log.info("cardsender service stopped")
    return 0

"""``cardsender run``: the background service that runs the send cycle, unattended.

APScheduler only wakes the service up; correctness lives in the database (its
persistent job stores pickle jobs and lose a missed run when a job is re-added, and
do not support several schedulers).  One idempotent cycle runs at start-up, daily at
the office's send time, and on an interval tick that catches up after the machine
slept or was off (a scheduler can wake late and drop the run).  The in-memory job
store, the office time zone, no misfire grace limit (its default of one second skips
a run that starts late), coalescing and one instance at a time.  The cycle serves
every office the config names, each on its own clock, with its own send time and sender.

On SQLite a lease row with a heartbeat keeps a second service off the same
database.  On PostgreSQL any number of services share it: the outbox claims share
the sending, and a lease per office lets one service at a time do an office's
once-a-day work (planning, the digest).  SIGTERM and SIGINT finish the message in
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

from cardsender.app.office import Office, email_transport
from cardsender.config.model import Config
from cardsender.domain.errors import CardsenderError
from cardsender.domain.vocabulary import Delivery, OutboxState
from cardsender.sending.transport import Transport
from cardsender.store import Store
from cardsender.store import lease as leases
from cardsender.system import paths
from cardsender.system.clock import Clock
from cardsender.system.processes import worker_name

log = logging.getLogger("cardsender")
HEARTBEAT = dt.timedelta(seconds=30)
STALE_AFTER = leases.STALE_AFTER
TICK_MINUTES = 15
# The lease rows of services stopped this long ago are deleted (PostgreSQL, one row per service run).
FORGET_AFTER = dt.timedelta(days=30)


class ServiceBusy(CardsenderError):
    """Another service holds the database."""


def setup_logging(verbose: bool, folder: Path | None = None) -> Path:
    """Log readable lines with time and level to stderr and to a rotating file; return the file.

    The log names customers, so the folder is 0700 and the file and its rotations 0600.
    """
    from cardsender.system.private import PrivateRotatingFileHandler, make_private, private_folder

    folder = private_folder(folder or paths.log_dir())
    path = folder / "cardsender.log"
    backups = 5
    for number in range(1, backups + 1):  # rotations an earlier version left readable by others
        make_private(path.with_name(f"{path.name}.{number}"))
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    handlers: list[logging.Handler] = [
        logging.StreamHandler(),
        PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=backups, encoding="utf-8"),
    ]
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path


class Service:
    """The service: its lease, its scheduler and the cycle it runs."""

    def __init__(self, store: Store, config: Config, transport: Transport, clock: Clock | None = None) -> None:
        self.store = store
        self.config = config
        self.transport = transport
        self.clock = clock or Clock()
        self.holder = worker_name()
        # Several services may share a PostgreSQL database; SQLite takes one writer at a time.
        self.shared = store.dialect == "postgresql"
        self.lease = leases.service_name(self.shared, self.holder)
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # one cycle at a time, whichever trigger fired

    def acquire(self) -> None:
        """Take the service's lease, or raise ServiceBusy naming the service that holds it (SQLite only)."""
        with self.store.begin() as conn:
            now = self.clock.utc()
            if self.shared:
                leases.forget_services(conn, now - FORGET_AFTER)
            other = leases.acquire(conn, self.holder, now, STALE_AFTER, self.lease)
        if other is not None:
            raise ServiceBusy(
                f"another cardsender service runs against this database: {other.holder}, since "
                f"{other.started_at:%Y-%m-%d %H:%M} UTC (last heartbeat {other.heartbeat_at:%H:%M:%S} UTC); "
                "stop it first (one killed on another machine frees the database 3 minutes after its last heartbeat)"
            )

    def cycle(self) -> None:
        """Run one send cycle for today at each office; never let an error stop the service."""
        if self.stopping.is_set() or not self.lock.acquire(blocking=False):
            return
        try:
            tick = self.clock.frozen()  # one reading of the clock for the whole tick, every office
            summaries = []
            for office in self.config.served():
                if self.stopping.is_set():
                    break
                summaries.append(self.office_cycle(Office(self.config.for_office(office.key), self.store, tick)))
            with self.store.begin() as conn:
                leases.record_cycle(conn, self.holder, tick.utc(), " | ".join(summaries), self.lease)
        except Exception as exc:  # the database may be out of reach; the next tick tries again
            log.exception("cycle failed: %s", exc)
        finally:
            self.lock.release()

    def office_cycle(self, at: Office) -> str:
        """Run an office's cycle: its once-a-day work when this service may do it, then its sending."""
        office = at.config.office
        now = at.clock.utc()
        try:
            daily = self.owns_daily_work(office.key, now)
            today = at.today
            plan = daily or self.unplanned(office.key, now)
            sent = at.send_due(
                transport=self.transport,
                worker=self.holder,
                should_stop=self.stopping.is_set,
                plan=plan,
                planned=lambda: self.record_planned(office.key, now) if daily and self.shared else None,
            )
            report, waiting = sent.report, sent.awaiting_approval
            counts = ", ".join(
                f"{report.count(state)} {label}"
                for state, label in (
                    (OutboxState.SENT, "sent"),
                    (OutboxState.PENDING, "to retry"),
                    (OutboxState.FAILED, "failed"),
                    (OutboxState.UNKNOWN, "unknown"),
                    (OutboxState.HELD, "held"),
                )
            )
            summary = f"cycle for {today.isoformat()}: {report.planned} planned, {counts}"
            if waiting:
                summary += f"; {waiting} waiting for approval ('cardsender approve --all' releases them)"
            if report.stopped:
                summary += f"; stopped: {report.stopped}"
            if len(self.config.served()) > 1:
                summary = f"office {office.key}: {summary}"
            (log.warning if report.stopped else log.info)(summary)
        except Exception as exc:  # the service keeps running; the next tick tries again
            daily = False
            summary = f"cycle failed: {exc}"
            log.exception(summary)
        if daily and not self.stopping.is_set():
            summary += self.digest_if_due(at)
        return summary

    def record_planned(self, office: str, now: dt.datetime) -> None:
        """Note on the office's lease that its plan is in the outbox, so that other services need not plan it."""
        with self.store.begin() as conn:
            leases.record_cycle(conn, self.holder, now, "planned", leases.office_name(office))

    def unplanned(self, office: str, now: dt.datetime) -> bool:
        """Return whether an office went unplanned for longer than a tick (PostgreSQL): its lease holder is
        starting, or gone.  Any service then plans it too, which the outbox's unique key makes harmless, so
        no service waits idle for another's plan."""
        with self.store.begin() as conn:
            lease = leases.read(conn, leases.office_name(office))
        planned = lease.last_cycle_at if lease is not None else None
        return planned is None or now - planned > dt.timedelta(minutes=TICK_MINUTES)

    def owns_daily_work(self, office: str, now: dt.datetime) -> bool:
        """Return whether this service does an office's once-a-day work now: always alone on SQLite; on
        PostgreSQL while it holds the office's lease (taken when free, or when its holder fell silent)."""
        if not self.shared:
            return True
        with self.store.begin() as conn:
            other = leases.acquire(conn, self.holder, now, STALE_AFTER, leases.office_name(office))
        return other is None

    def wait_for_cycle(self) -> None:
        """Wait until a cycle under way has finished (it stops after the card in flight)."""
        with self.lock:
            pass

    def digest_if_due(self, at: Office) -> str:
        """Send an office's morning digest once its send time has passed today, once a day; say so for the log."""
        if not at.digest_due():
            return ""
        try:
            sent = at.send_digest(self.transport)
        except Exception as exc:  # the digest is tried again on the next tick
            log.exception("digest failed: %s", exc)
            return f"; digest failed: {exc}"
        if sent.outcome.state != Delivery.SENT:
            log.warning("digest not sent: %s", sent.outcome.reply)
            return f"; digest not sent: {sent.outcome.reply}"
        log.info("digest sent: %s", sent.digest.subject)
        return "; digest sent"

    def beat(self, next_run: dt.datetime | None) -> None:
        """Renew the leases; stop if another service took this one's over."""
        with self.store.begin() as conn:
            now = self.clock.utc()
            kept = leases.heartbeat(conn, self.holder, now, next_run, self.lease)
            leases.renew_all(conn, self.holder, now)
        if not kept:
            log.error("another service took over this database; stopping")
            self.stopping.set()

    def release(self) -> None:
        """Give the leases up."""
        with self.store.begin() as conn:
            leases.release_all(conn, self.holder)


def run_service(config: Config, transport: Transport | None = None, clock: Clock | None = None) -> int:
    """Run the service on the configured database until SIGTERM or SIGINT (with the configured transport unless
    given); return the exit status."""
    with Store.open(config.database.url) as store:
        return serve(store, config, transport, clock)


def serve(store: Store, config: Config, transport: Transport | None = None, clock: Clock | None = None) -> int:
    """Run the service on an open store until SIGTERM or SIGINT; return the exit status."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    service = Service(store, config, transport or email_transport(config), clock)
    zone = config.office.tz
    # APScheduler's defaults lose runs (a misfire grace of 1 s skips a run that starts late): replaced.
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
    # APScheduler wakes on the machine's wall clock, so the start-up run is due now on that clock.
    scheduler.add_job(service.cycle, "date", run_date=dt.datetime.now(zone), id="start-up")
    # The cycle at each office's send time, on the office's own clock.
    daily = [f"daily-{office.key}" for office in config.served()]
    for job_id, office in zip(daily, config.served(), strict=True):
        trigger = CronTrigger(hour=office.send_time.hour, minute=office.send_time.minute, timezone=office.tz)
        scheduler.add_job(service.cycle, trigger, id=job_id)
    scheduler.add_job(service.cycle, IntervalTrigger(minutes=TICK_MINUTES, timezone=zone), id="tick")

    def beat() -> None:
        runs = [job.next_run_time for job in map(scheduler.get_job, daily) if job and job.next_run_time]
        next_run = min(runs).astimezone(dt.UTC).replace(tzinfo=None) if runs else None
        service.beat(next_run)
        if service.stopping.is_set():
            scheduler.shutdown(wait=False)

    scheduler.add_job(beat, IntervalTrigger(seconds=int(HEARTBEAT.total_seconds()), timezone=zone), id="heartbeat")
    times = ", ".join(f"{o.send_time:%H:%M} {o.timezone}" for o in config.served())
    log.info("cardsender service started as %s; sends daily at %s", service.holder, times)
    try:
        if not service.stopping.is_set():
            scheduler.start()
    finally:
        service.wait_for_cycle()  # the cycle under way stops after its current card
        service.release()
        log.info("cardsender service stopped")
    return 0

"""Leases by name, each with a holder and a heartbeat.

On SQLite the lease ``service`` lets one service at a time run against the
database.  On PostgreSQL several services share the database: each one keeps a
lease of its own (``service:<holder>``) so that ``status`` can show it, and the
once-a-day work of an office (planning, the digest) is done by whichever
service holds ``office:<key>``.  Sending needs no lease there: the outbox
claims share it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, or_, select

from cardsender.store.dialect import insert_if_new, insert_or_ignore
from cardsender.store.schema import service_lease
from cardsender.system.processes import worker_is_gone

SERVICE = "service"
# A lease whose heartbeat is older than this belongs to a service that is gone.
STALE_AFTER = dt.timedelta(minutes=3)
# A clean stop sets the heartbeat this far back, so the next service takes over at once.
RELEASED = dt.datetime(2000, 1, 1)


def service_name(shared: bool, holder: str) -> str:
    """Return the name of a service's own lease: ``service`` alone on SQLite, one per service on PostgreSQL."""
    return f"{SERVICE}:{holder}" if shared else SERVICE


def office_name(key: str) -> str:
    """Return the name of the lease on an office's once-a-day work."""
    return f"office:{key}"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a lease, since when, its last heartbeat and cycle, and its next run."""

    name: str
    holder: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    last_cycle_at: dt.datetime | None
    last_cycle: str
    next_run_at: dt.datetime | None


def _lease(row: dict[str, object] | None) -> Lease | None:
    if row is None:
        return None
    return Lease(**{name: row[name] for name in Lease.__slots__})  # type: ignore[arg-type]


def read(conn: Connection, name: str = SERVICE) -> Lease | None:
    """Return a lease, or None when it was never taken."""
    row = conn.execute(select(service_lease).where(service_lease.c.name == name)).mappings().first()
    return _lease(dict(row) if row is not None else None)


def services(conn: Connection) -> list[Lease]:
    """Return the leases of the services (one on SQLite, one per service on PostgreSQL), latest heartbeat first."""
    query = select(service_lease).where(or_(service_lease.c.name == SERVICE, service_lease.c.name.like(f"{SERVICE}:%")))
    rows = conn.execute(query.order_by(service_lease.c.heartbeat_at.desc())).mappings().all()
    return [lease for row in rows if (lease := _lease(dict(row))) is not None]


def acquire(
    conn: Connection, holder: str, now: dt.datetime, stale_after: dt.timedelta, name: str = SERVICE
) -> Lease | None:
    """Take a lease for ``holder``, or renew it; return the other live holder instead when there is one.

    Run inside a transaction that locks the row for writing (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: the row lock taken here), so that two services cannot both take it.
    """
    query = select(service_lease).where(service_lease.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    current = _lease(dict(row) if row is not None else None)
    if current is not None and current.holder != holder and is_alive(current, now, stale_after):
        return current
    if current is not None and current.holder == holder:
        conn.execute(service_lease.update().where(service_lease.c.name == name).values(heartbeat_at=now))
        return None
    values = {"holder": holder, "started_at": now, "heartbeat_at": now, "next_run_at": None}
    if current is None:
        stmt = insert_or_ignore(conn, service_lease, ("name",)).values(name=name, last_cycle="", **values)
        if not insert_if_new(conn, stmt):  # another service inserted it first
            return read(conn, name)
    else:
        conn.execute(service_lease.update().where(service_lease.c.name == name).values(**values))
    return None


def heartbeat(
    conn: Connection, holder: str, now: dt.datetime, next_run_at: dt.datetime | None, name: str = SERVICE
) -> bool:
    """Renew a lease; return False when another service has taken it over."""
    stmt = service_lease.update().where(service_lease.c.name == name, service_lease.c.holder == holder)
    return bool(conn.execute(stmt.values(heartbeat_at=now, next_run_at=next_run_at)).rowcount)


def record_cycle(conn: Connection, holder: str, now: dt.datetime, outcome: str, name: str = SERVICE) -> None:
    """Record when the last cycle ran and what it did."""
    stmt = service_lease.update().where(service_lease.c.name == name, service_lease.c.holder == holder)
    conn.execute(stmt.values(last_cycle_at=now, last_cycle=outcome, heartbeat_at=now))


def release_all(conn: Connection, holder: str) -> None:
    """Give up every lease a service holds (its own and its offices') at a clean stop: the heartbeats are set
    far back, so that the next service takes over at once."""
    stmt = service_lease.update().where(service_lease.c.holder == holder)
    conn.execute(stmt.values(heartbeat_at=RELEASED, next_run_at=None))


def renew_all(conn: Connection, holder: str, now: dt.datetime) -> None:
    """Renew the heartbeat of every lease a service holds, so that no other service takes its offices' work."""
    conn.execute(service_lease.update().where(service_lease.c.holder == holder).values(heartbeat_at=now))


def forget_services(conn: Connection, before: dt.datetime) -> int:
    """Delete the leases of services (one per run, on PostgreSQL) not heard from since ``before``."""
    stmt = service_lease.delete().where(
        service_lease.c.name.like(f"{SERVICE}:%"), service_lease.c.heartbeat_at < before
    )
    return int(conn.execute(stmt).rowcount)


def is_alive(lease: Lease, now: dt.datetime, stale_after: dt.timedelta = STALE_AFTER) -> bool:
    """Return whether a lease's holder still runs: heard from lately, and not a process of this machine that
    has ended (a killed service frees its lease at once, without waiting for the heartbeat to go stale)."""
    return now - lease.heartbeat_at < stale_after and not worker_is_gone(lease.holder)


def stopped_cleanly(lease: Lease) -> bool:
    """Return whether a lease was given up by its holder at a clean stop."""
    return lease.heartbeat_at <= RELEASED

"""The lease that lets one service at a time run against a database, with its heartbeat and last cycle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from cardsender.store.schema import service_lease

LEASE_ROW = 1


@dataclass(frozen=True, slots=True)
class Lease:
    """Who runs the service, since when, its last heartbeat and cycle, and its next run."""

    holder: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    last_cycle_at: dt.datetime | None
    last_cycle: str
    next_run_at: dt.datetime | None


def read(conn: Connection) -> Lease | None:
    """Return the lease, or None when no service ever ran."""
    row = conn.execute(select(service_lease).where(service_lease.c.id == LEASE_ROW)).mappings().first()
    if row is None:
        return None
    return Lease(row["holder"], row["started_at"], row["heartbeat_at"], row["last_cycle_at"], row["last_cycle"],
                 row["next_run_at"])  # fmt: skip


def acquire(conn: Connection, holder: str, now: dt.datetime, stale_after: dt.timedelta) -> Lease | None:
    """Take the lease for ``holder``; return the other live holder instead when there is one.

    Run inside a transaction that locks the table for writing (SQLite: BEGIN IMMEDIATE), so that
    two services starting at once cannot both take it.
    """
    current = read(conn)
    if current is not None and current.holder != holder and now - current.heartbeat_at < stale_after:
        return current
    values = {"holder": holder, "started_at": now, "heartbeat_at": now, "next_run_at": None}
    if current is None:
        conn.execute(service_lease.insert().values(id=LEASE_ROW, last_cycle="", **values))
    else:
        conn.execute(service_lease.update().where(service_lease.c.id == LEASE_ROW).values(**values))
    return None


def heartbeat(conn: Connection, holder: str, now: dt.datetime, next_run_at: dt.datetime | None) -> bool:
    """Renew the lease; return False when another service has taken it over."""
    stmt = service_lease.update().where(service_lease.c.id == LEASE_ROW, service_lease.c.holder == holder)
    return bool(conn.execute(stmt.values(heartbeat_at=now, next_run_at=next_run_at)).rowcount)


def record_cycle(conn: Connection, holder: str, now: dt.datetime, outcome: str) -> None:
    """Record when the last cycle ran and what it did."""
    stmt = service_lease.update().where(service_lease.c.id == LEASE_ROW, service_lease.c.holder == holder)
    conn.execute(stmt.values(last_cycle_at=now, last_cycle=outcome, heartbeat_at=now))


def release(conn: Connection, holder: str) -> None:
    """Give the lease up at a clean stop: the heartbeat is set far back so the next service starts at once."""
    stmt = service_lease.update().where(service_lease.c.id == LEASE_ROW, service_lease.c.holder == holder)
    conn.execute(stmt.values(heartbeat_at=dt.datetime(2000, 1, 1), next_run_at=None))

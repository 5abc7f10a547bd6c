"""Numbered schema migrations, each run in one transaction with its record.

A new database is created from the current schema and stamped with the latest
version; an existing one is brought forward one migration at a time, so an
upgrade never loses data.  Add a migration by appending to ``MIGRATIONS`` and
changing ``schema.py`` to match; ``tests/test_store.py`` checks that both agree.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from cardsender.domain.errors import StoreError
from cardsender.store import schema

Migration = tuple[int, str, Callable[[Connection], None] | None]


def _create_outbox(conn: Connection) -> None:
    """Version 2: the outbox, one row per card (a frozen copy of the table as it was then)."""
    meta = MetaData()
    Table("customers", meta, Column("id", Integer, primary_key=True))
    table = Table(
        "outbox",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        Column("occasion", String(20), nullable=False),
        Column("occasion_date", Date, nullable=False),
        Column("channel", String(10), nullable=False),
        Column("due_date", Date, nullable=False),
        Column("state", String(20), nullable=False),
        Column("reason", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=False),
        UniqueConstraint("customer_id", "occasion", "occasion_date", "channel", name="uq_outbox_card"),
    )
    Index("ix_outbox_state_due", table.c.state, table.c.due_date)
    meta.create_all(conn, tables=[table])


def _variants_and_notes(conn: Connection) -> None:
    """Version 3: the wording variant of each outbox card, and personal notes for the next card."""
    conn.execute(text("ALTER TABLE outbox ADD COLUMN variant VARCHAR(20)"))  # the same on SQLite and PostgreSQL
    meta = MetaData()
    Table("customers", meta, Column("id", Integer, primary_key=True))
    Table("outbox", meta, Column("id", Integer, primary_key=True))
    notes = Table(
        "personal_notes",
        meta,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        Column("occasion", String(20)),
        Column("text", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("used_at", DateTime),
        Column("outbox_id", Integer, ForeignKey("outbox.id", ondelete="SET NULL")),
    )
    meta.create_all(conn, tables=[notes])


def _delivery(conn: Connection) -> None:
    """Version 4: what delivery records on each outbox row, and addresses that bounce."""
    # Plain ADD COLUMN, the same on SQLite and PostgreSQL; NOT NULL columns get their default for old rows.
    for column in (
        "expires_on DATE",
        "attempts INTEGER NOT NULL DEFAULT 0",
        "next_attempt_at TIMESTAMP",
        "last_error TEXT NOT NULL DEFAULT ''",
        "server_reply TEXT NOT NULL DEFAULT ''",
        "message_id VARCHAR(300)",
        "content_hash VARCHAR(64)",
        "claimed_by VARCHAR(100)",
        "lease_until TIMESTAMP",
        "sent_at TIMESTAMP",
    ):
        conn.execute(text(f"ALTER TABLE outbox ADD COLUMN {column}"))
    conn.execute(text("ALTER TABLE customers ADD COLUMN email_bouncing BOOLEAN NOT NULL DEFAULT FALSE"))


def _print_batches(conn: Connection) -> None:
    """Version 5: the print batch of each posted card."""
    conn.execute(text("ALTER TABLE outbox ADD COLUMN batch VARCHAR(40)"))


def _service_lease(conn: Connection) -> None:
    """Version 6: the lease of the one service running against the database."""
    meta = MetaData()
    lease = Table(
        "service_lease",
        meta,
        Column("id", Integer, primary_key=True),
        Column("holder", String(200), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("heartbeat_at", DateTime, nullable=False),
        Column("last_cycle_at", DateTime),
        Column("last_cycle", Text, nullable=False, default=""),
        Column("next_run_at", DateTime),
    )
    meta.create_all(conn, tables=[lease])


def _digests(conn: Connection) -> None:
    """Version 7: the days a morning digest went out."""
    meta = MetaData()
    table = Table(
        "digests",
        meta,
        Column("day", Date, primary_key=True),
        Column("sent_at", DateTime, nullable=False),
        Column("summary", Text, nullable=False, default=""),
    )
    meta.create_all(conn, tables=[table])


def _offices(conn: Connection) -> None:
    """Version 8: customers belong to an office; leases by name; one digest a day per office."""
    conn.execute(text("ALTER TABLE customers ADD COLUMN office VARCHAR(100) NOT NULL DEFAULT 'main'"))
    conn.execute(text("CREATE INDEX ix_customers_office ON customers (office)"))
    meta = MetaData()
    # The lease only matters while a service runs: a service that starts after the upgrade takes it anew.
    conn.execute(text("DROP TABLE service_lease"))
    lease = Table(
        "service_lease",
        meta,
        Column("id", Integer, primary_key=True),
        Column("name", String(200), nullable=False, unique=True),
        Column("holder", String(200), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("heartbeat_at", DateTime, nullable=False),
        Column("last_cycle_at", DateTime),
        Column("last_cycle", Text, nullable=False, default=""),
        Column("next_run_at", DateTime),
    )
    office_digests = Table(
        "digests_by_office",
        meta,
        Column("office", String(100), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("sent_at", DateTime, nullable=False),
        Column("summary", Text, nullable=False, default=""),
    )
    meta.create_all(conn, tables=[lease, office_digests])
    conn.execute(
        text(
            "INSERT INTO digests_by_office (office, day, sent_at, summary) "
            "SELECT 'main', day, sent_at, summary FROM digests"
        )
    )
    conn.execute(text("DROP TABLE digests"))
    conn.execute(text("ALTER TABLE digests_by_office RENAME TO digests"))


def _sending_marks(conn: Connection) -> None:
    """Version 9: when a claimed card took its sending slot and began its SMTP transaction; the shared pace."""
    conn.execute(text("ALTER TABLE outbox ADD COLUMN slot_at TIMESTAMP"))
    conn.execute(text("ALTER TABLE outbox ADD COLUMN smtp_started_at TIMESTAMP"))
    conn.execute(text("CREATE INDEX ix_outbox_state_sent ON outbox (state, sent_at)"))
    meta = MetaData()
    pace = Table(
        "send_pace",
        meta,
        Column("name", String(100), primary_key=True),
        Column("next_slot_at", DateTime, nullable=False),
    )
    meta.create_all(conn, tables=[pace])


def _print_traces(conn: Connection) -> None:
    """Version 10: the files each print batch was written to, and the cards of forgotten customers per batch."""
    meta = MetaData()
    files = Table(
        "print_files",
        meta,
        Column("id", Integer, primary_key=True),
        Column("batch", String(40), nullable=False),
        Column("path", Text, nullable=False),
        Column("written_at", DateTime, nullable=False),
    )
    Index("ix_print_files_batch", files.c.batch)
    forgotten = Table(
        "forgotten_cards",
        meta,
        Column("id", Integer, primary_key=True),
        Column("batch", String(40), nullable=False),
        Column("forgotten_at", DateTime, nullable=False),
    )
    Index("ix_forgotten_cards_batch", forgotten.c.batch)
    meta.create_all(conn, tables=[files, forgotten])


# (version, name, upgrade from the previous version); version 1 is the initial schema.
MIGRATIONS: list[Migration] = [
    (1, "initial: customers, contact events", None),
    (2, "outbox", _create_outbox),
    (3, "card variants and personal notes", _variants_and_notes),
    (4, "delivery state of outbox rows, bouncing addresses", _delivery),
    (5, "print batches", _print_batches),
    (6, "service lease", _service_lease),
    (7, "digests", _digests),
    (8, "offices", _offices),
    (9, "sending slots and the shared pace", _sending_marks),
    (10, "print files and forgotten cards", _print_traces),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int | None:
    """Return the schema version, or None for an empty database."""
    if not inspect(conn).has_table("schema_migrations"):
        return None
    version = conn.execute(
        select(schema.schema_migrations.c.version).order_by(schema.schema_migrations.c.version.desc()).limit(1)
    ).scalar()
    return int(version) if version is not None else None


def _record(conn: Connection, version: int, name: str) -> None:
    conn.execute(
        schema.schema_migrations.insert().values(
            version=version, name=name, applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
        )
    )


def migrate(engine: Engine) -> int:
    """Create or upgrade the schema; return the version reached."""
    try:
        with engine.begin() as conn:
            version = current_version(conn)
            if version is None:
                schema.metadata.create_all(conn)
                for number, name, _ in MIGRATIONS:
                    _record(conn, number, name)
                return LATEST
    except (OperationalError, IntegrityError):
        # Another process is creating the schema at the same moment (a service starting beside a command):
        # this transaction rolled back; wait for the other one to finish, then read the version it left.
        version = None
        for _ in range(100):
            with engine.begin() as conn:
                version = current_version(conn)
            if version is not None:
                break
            time.sleep(0.05)
        if version is None:
            raise
    if version > LATEST:
        raise StoreError(
            f"the database is at schema version {version}, newer than this cardsender knows ({LATEST}); "
            "upgrade cardsender (pip install --upgrade cardsender)"
        )
    for number, name, upgrade in MIGRATIONS:
        if number <= version or upgrade is None:
            continue
        with engine.begin() as conn:
            upgrade(conn)
            _record(conn, number, name)
    return LATEST

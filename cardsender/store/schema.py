"""The current tables, as the queries see them.

Migrations (``migrations.py``) create and change the real database; a test
checks that a migrated database has exactly these columns.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from cardsender.domain.vocabulary import ChannelPreference, OutboxState

metadata = MetaData()

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(200), nullable=False, unique=True),
    Column("first_name", String(200), nullable=False, default=""),
    Column("last_name", String(200), nullable=False, default=""),
    Column("email", String(320)),
    Column("birth_year", Integer),
    Column("birth_month", Integer),
    Column("birth_day", Integer),
    Column("country", String(2), nullable=False, default=""),
    Column("subdivision", String(50), nullable=False, default=""),
    Column("street", String(500), nullable=False, default=""),
    Column("city", String(200), nullable=False, default=""),
    Column("postal_code", String(50), nullable=False, default=""),
    Column("channel", String(10), nullable=False, default=ChannelPreference.EMAIL.value),
    Column("language", String(20), nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    Column("customer_since", Date),
    Column("no_email", Boolean, nullable=False, default=False),
    Column("no_post", Boolean, nullable=False, default=False),
    Column("no_humor", Boolean, nullable=False, default=False),
    Column("do_not_contact", Boolean, nullable=False, default=False),
    Column("notes", Text, nullable=False, default=""),
    Column("added_on", Date, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # A permanent refusal of the address: no more email to it until the email is changed (migration 4).
    Column("email_bouncing", Boolean, nullable=False, default=False),
    # The office the customer belongs to, by its key in the config: "main" for a single office (migration 8).
    Column("office", String(100), nullable=False, default="main", server_default="main"),
)

contact_events = Table(
    "contact_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    # Office-local time; a date without a time is stored at midnight.
    Column("occurred_at", DateTime, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("source", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    # Re-importing a history file adds nothing twice; the index also serves last-touch queries.
    UniqueConstraint("customer_id", "occurred_at", "kind", "summary", name="uq_contact_events_row"),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

Index("ix_customers_last_name", customers.c.last_name, customers.c.first_name)
Index("ix_customers_office", customers.c.office)

# One row per card: customer, occasion, occasion date and channel, under a UNIQUE key, so
# any number of planning runs (and services) give the same outbox.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("occasion", String(20), nullable=False),
    Column("occasion_date", Date, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String(20), nullable=False, default=OutboxState.PENDING.value),
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Which wording went out, so the next card of the occasion uses another (migration 3).
    Column("variant", String(20)),
    # Delivery (migration 4): the last day to try (none for a check-in), attempts and the next one,
    # the last error and the server's reply, the message, the claim of the service sending it.
    Column("expires_on", Date),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text, nullable=False, default=""),
    Column("server_reply", Text, nullable=False, default=""),
    Column("message_id", String(300)),
    Column("content_hash", String(64)),
    Column("claimed_by", String(100)),
    Column("lease_until", DateTime),
    Column("sent_at", DateTime),
    # The print batch a posted card went out in (migration 5).
    Column("batch", String(40)),
    # While a card is claimed (migration 9): when it took its slot of the mail account's pace, and when its
    # SMTP transaction began (committed before MAIL FROM). After a crash only a card whose transaction had
    # begun may have reached the server; the others of the claim go back to pending.
    Column("slot_at", DateTime),
    Column("smtp_started_at", DateTime),
    UniqueConstraint("customer_id", "occasion", "occasion_date", "channel", name="uq_outbox_card"),
)
Index("ix_outbox_state_due", outbox.c.state, outbox.c.due_date)
# The daily limit counts the mail sent in the last 24 hours before every card (migration 9).
Index("ix_outbox_state_sent", outbox.c.state, outbox.c.sent_at)

# Leases with a heartbeat, by name (migration 8): on SQLite "service", the one service that may run against
# the database; on PostgreSQL "service:<holder>" for each running service, and "office:<key>" for the service
# doing an office's once-a-day work (planning, digest).
service_lease = Table(
    "service_lease",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("holder", String(200), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
    Column("last_cycle_at", DateTime),
    Column("last_cycle", Text, nullable=False, default=""),
    Column("next_run_at", DateTime),
)

# The mail account's pace, shared by every process sending through it (migration 9): each card takes the
# next free slot from this one row, so any number of sends and services together keep rate_per_minute.
send_pace = Table(
    "send_pace",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("next_slot_at", DateTime, nullable=False),
)

# The days a morning digest went out: one a day and office, never more (migration 7; office in 8).
digests = Table(
    "digests",
    metadata,
    Column("office", String(100), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sent_at", DateTime, nullable=False),
    Column("summary", Text, nullable=False, default=""),
)

# A personal note for a customer's next card (of one occasion, or any); used once (migration 3).
personal_notes = Table(
    "personal_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("occasion", String(20)),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("used_at", DateTime),
    Column("outbox_id", Integer, ForeignKey("outbox.id", ondelete="SET NULL")),
)

# The files each print batch was written to (cards, envelopes or labels, reprints), as absolute paths, so
# that forgetting a customer can name the printouts that still hold their card (migration 10).
print_files = Table(
    "print_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch", String(40), nullable=False),
    Column("path", Text, nullable=False),
    Column("written_at", DateTime, nullable=False),
)
Index("ix_print_files_batch", print_files.c.batch)

# One row per card of a print batch whose customer was forgotten, and nothing about them: their outbox rows
# are deleted with them, and this is how a reprint knows the batch had more cards (migration 10).
forgotten_cards = Table(
    "forgotten_cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch", String(40), nullable=False),
    Column("forgotten_at", DateTime, nullable=False),
)
Index("ix_forgotten_cards_batch", forgotten_cards.c.batch)

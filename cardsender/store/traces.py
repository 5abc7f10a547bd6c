"""What is known about a customer outside their own rows: print files, forgotten cards, shared addresses.

``forget`` needs it to find every file about a customer and to leave a trace of the
cards it deletes: the files each print batch was written to, and one row per card of a
batch whose customer was forgotten (no customer data in it), so that a reprint can say
which cards are missing and why.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, func, select

from cardsender.domain.vocabulary import OutboxState
from cardsender.store.schema import customers, forgotten_cards, outbox, print_files


def record_print_file(conn: Connection, batch: str, path: Path, now: dt.datetime) -> None:
    """Record that a PDF of a batch (its cards, envelopes or labels, or a reprint) was written to a path."""
    conn.execute(print_files.insert().values(batch=batch, path=str(path.resolve()), written_at=now))


def print_files_of(conn: Connection, batch: str) -> list[Path]:
    """Return the files a batch was written to, oldest first, each once."""
    query = (
        select(print_files.c.path)
        .where(print_files.c.batch == batch)
        .group_by(print_files.c.path)
        .order_by(func.min(print_files.c.id))
    )
    return [Path(path) for path in conn.execute(query).scalars()]


def cards_of(conn: Connection, customer_row: int) -> list[tuple[str | None, str | None, OutboxState]]:
    """Return a customer's cards as (Message-ID, print batch, state)."""
    query = select(outbox.c.message_id, outbox.c.batch, outbox.c.state).where(outbox.c.customer_id == customer_row)
    rows = conn.execute(query.order_by(outbox.c.id))
    return [(message_id, batch, OutboxState(state)) for message_id, batch, state in rows]


def cards_in_batches(conn: Connection, batches: Iterable[str]) -> Counter[str]:
    """Return how many cards each of the given batches holds now."""
    query = (
        select(outbox.c.batch, func.count()).where(outbox.c.batch.in_(sorted(set(batches)))).group_by(outbox.c.batch)
    )
    return Counter({str(batch): int(count) for batch, count in conn.execute(query)})


def record_forgotten_cards(conn: Connection, batches: Iterable[str], now: dt.datetime) -> None:
    """Leave one row per card of a print batch whose customer is being forgotten: the batch and when."""
    rows = [{"batch": batch, "forgotten_at": now} for batch in batches]
    if rows:
        conn.execute(forgotten_cards.insert(), rows)


def forgotten_cards_in(conn: Connection, batch: str) -> int:
    """Return how many cards of a batch belonged to customers since forgotten."""
    query = select(func.count()).select_from(forgotten_cards).where(forgotten_cards.c.batch == batch)
    return int(conn.execute(query).scalar() or 0)


def holders_of(conn: Connection, addresses: Iterable[str]) -> dict[str, list[str]]:
    """Return the ids of the customers who have each of the given email addresses (compared in lower case)."""
    wanted = sorted({address.lower() for address in addresses})
    found: dict[str, list[str]] = {}
    if not wanted:
        return found
    query = select(func.lower(customers.c.email), customers.c.external_id).where(
        func.lower(customers.c.email).in_(wanted)
    )
    for address, external_id in conn.execute(query.order_by(customers.c.external_id)):
        found.setdefault(str(address), []).append(str(external_id))
    return found


def known_message_ids(conn: Connection, message_ids: Iterable[str]) -> set[str]:
    """Return those of the given Message-IDs that belong to a card in the outbox."""
    wanted = sorted(set(message_ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        query = select(outbox.c.message_id).where(outbox.c.message_id.in_(wanted[start : start + 500]))
        found.update(str(message_id) for message_id in conn.execute(query).scalars())
    return found

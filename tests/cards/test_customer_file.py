"""A customer's file: the one read a batch of cards is made from, and the cards it renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from cardsender.cards.context import preview_card
from cardsender.config.model import Config
from cardsender.domain.records import CARD_OCCASIONS, ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.printing.batches import print_batch
from cardsender.store import Store
from cardsender.store.customers import add_event, insert_customer, load_files
from cardsender.store.notes import add_note
from cardsender.store.schema import outbox
from tests.support.office import Office

WRITTEN_AT = dt.datetime(2024, 1, 5, 15, 30)
ON = dt.date(2026, 3, 14)
EXPECTED = Path(__file__).with_name("customer_file_expected.txt")
LONG_PRODUCT = (
    "Trek Domane SL 6 Gen 4 Carbon Road Bike 56cm, Crimson / Carbon Smoke, Shimano 105 Di2 12-speed, "
    "with Bontrager Aeolus Pro 37V wheels"
)
# Customers whose records are as staff really keep them.
MESSY = (
    (
        {
            "id": "M1",
            "first_name": "  Dave ",
            "last_name": "O'Neill-Brown",
            "email": "dave.oneill@example.com",
            "birthday": "1979-03-14",
            "country": "US",
            "customer_since": "2015-06-01",
        },
        [
            (dt.datetime(2021, 5, 2, 9, 30), "purchase", LONG_PRODUCT),
            (dt.datetime(2025, 12, 1, 16, 0), "call", "cust called re: brk squeal -> bkd in 4 tune-up, pd $45 dep"),
            (
                dt.datetime(2026, 2, 20, 11, 0),
                "visit",
                "fit chk @ shop; wants clip-ins nxt time (ask re SPD vs SPD-SL)",
            ),
            (dt.datetime(2026, 2, 21, 8, 0), "note", "internal: DO NOT upsell, budget tight"),
        ],
    ),
    (
        {
            "id": "M2",
            "last_name": "Nakamura",
            "email": "nakamura@example.jp",
            "birthday": "--03-14",
            "country": "CA",
        },
        [(dt.datetime(2026, 1, 9, 13, 0), "purchase", "2x tubes 700x28c + chain lube (wet)")],
    ),
    (
        {
            "id": "M3",
            "first_name": "Ελένη",
            "last_name": "Παπαδοπούλου",
            "email": "eleni@example.gr",
            "birthday": "1990-03-20",
            "country": "CA",
            "language": "fr-CA",
            "street": "Οδός Ερμού 12",
            "city": "Αθήνα",
            "channel": "post",
        },
        [(dt.datetime(2025, 11, 30, 10, 0), "email", "asked abt winter storage; sent price list")],
    ),
)


def store_messy(ws: Office) -> Config:
    """Store the messy customers, a note waiting for one, and a wording already sent to another."""
    config = ws.config()
    with Store.open(config.database.url) as store, store.begin() as conn:
        rows = {}
        for fields, history in MESSY:
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            rows[fields["id"]] = row
            for at, kind, summary in history:
                add_event(conn, row, ContactEvent(fields["id"], at, kind, summary, "import"), WRITTEN_AT)
        add_note(conn, rows["M2"], "Hope the commute's drier now!", None, WRITTEN_AT)
        add_note(conn, rows["M2"], "Thanks for the kind review", "thank_you", WRITTEN_AT + dt.timedelta(hours=1))
        conn.execute(
            outbox.insert().values(
                customer_id=rows["M1"],
                occasion="birthday",
                occasion_date=dt.date(2025, 3, 14),
                channel="email",
                due_date=dt.date(2025, 3, 14),
                state="sent",
                variant="v1",
                reason="birthday",
                created_at=WRITTEN_AT,
                updated_at=WRITTEN_AT,
            )
        )
    return config


def transcript(config: Config) -> str:
    """Render one card per occasion for each messy customer, on both channels, as one text to compare."""
    parts: list[str] = []
    with Store.open(config.database.url) as store:
        for fields, _ in MESSY:
            for occasion in CARD_OCCASIONS:
                for channel in ("email", "post"):
                    shown = preview_card(store, config, fields["id"], occasion, ON, channel)
                    card = shown.card
                    parts.append(
                        f"=== {fields['id']} {occasion} {channel} {shown.occasion_date} "
                        f"{card.variant} {card.language}\nheld: {shown.held_because}\n"
                    )
                    if channel == "email":
                        parts.append(f"subject: {card.subject}\n--- text\n{card.text}--- html\n{card.html}")
                    else:
                        parts.append(f"--- front\n{card.card_front}\n--- inside\n{card.card_inside}\n")
    return "".join(parts)


def test_every_occasion_renders_as_before_for_messy_customers(workspace: Office) -> None:
    """Shorthand in the history, a long product, a surname only and another script render exactly as before."""
    assert transcript(store_messy(workspace)) == EXPECTED.read_text(encoding="utf-8")


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect the SQL of every statement any engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def reads_of_customers(seen: list[str]) -> int:
    """Return how many statements read a customer's record, history or notes."""
    tables = ("customers", "contact_events", "personal_notes")
    return sum(1 for sql in seen if sql.lstrip().upper().startswith("SELECT") and any(t in sql for t in tables))


def store_posted(config: Config, count: int) -> None:
    """Store ``count`` post customers with a birthday on Dec 12, 2026 and a purchase in November."""
    with Store.open(config.database.url) as store, store.begin() as conn:
        for n in range(count):
            fields = {
                "id": f"P{n}",
                "first_name": "Zoë",
                "last_name": "Ødegård",
                "street": "Karl Johans gate 1",
                "city": "Oslo",
                "country": "NO",
                "channel": "post",
                "birthday": "--12-12",
            }
            row = insert_customer(conn, parse_customer_fields(fields), dt.date(2023, 5, 1), WRITTEN_AT)
            event = ContactEvent(fields["id"], dt.datetime(2026, 11, 10, 10), "purchase", "Winter tires", "import")
            add_event(conn, row, event, WRITTEN_AT)
            if n % 2:
                add_note(conn, row, f"See you at the ride, number {n}!", None, WRITTEN_AT)


def test_a_batch_of_files_is_four_statements_whatever_its_size(workspace: Office) -> None:
    """Reading the files of 1, 20 or 40 customers takes the same four statements: customers, events, notes, wordings."""
    config = store_messy(workspace)
    store_posted(config, 40)
    with Store.open(config.database.url) as store, store.begin() as conn:
        counts = []
        for size in (1, 20, 40):
            with statements() as seen:
                files = load_files(conn, range(1, size + 1))
            assert len(files) == size
            counts.append(len(seen))
        dave = load_files(conn, [1])[1]
    assert counts == [4, 4, 4]
    assert (dave.customer.id, [e.kind for e in dave.history], dave.variants_sent("birthday")) == (
        "M1",
        ["purchase", "call", "visit", "note"],
        ["v1"],
    )


def test_printing_reads_each_customer_once_for_the_whole_batch(workspace: Office, tmp_path: Path) -> None:
    """Printing 20 cards reads the customers no more often than printing 10, and adds three statements a card.

    The batch reads its customers' files once (four statements, whatever the number of cards), so the reads
    must not grow with the cards at all; each card adds only the writes recorded for it: its row in the
    outbox, its printed state and its note used (``record_touches``, ``mark_printed`` and ``use_note``).
    """
    config = workspace.config()
    totals: list[tuple[int, int]] = []
    for count in (10, 20):
        with Store.open(config.database.url) as store, store.begin() as conn:
            conn.exec_driver_sql("DELETE FROM personal_notes")
            conn.exec_driver_sql("DELETE FROM outbox")
            conn.exec_driver_sql("DELETE FROM contact_events")
            conn.exec_driver_sql("DELETE FROM customers")
        store_posted(config, count)
        with Store.open(config.database.url) as store, statements() as seen:
            batch = print_batch(
                store,
                config,
                first=dt.date(2026, 11, 30),
                last=dt.date(2026, 12, 6),
                out=tmp_path / f"cards-{count}.pdf",
                today=dt.date(2026, 11, 30),
                now=dt.datetime(2026, 11, 30, 15),
            )
        assert (len(batch.printed), batch.held) == (count, ())
        totals.append((reads_of_customers(seen), len(seen)))
    (reads_10, all_10), (reads_20, all_20) = totals
    assert reads_20 == reads_10
    assert all_20 - all_10 <= 3 * 10


if __name__ == "__main__":  # pragma: no cover - how the expected text was captured, once
    import sys
    import tempfile

    from tests.support.office import WORKSPACE_CONFIG

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cardsender.toml").write_text(
            WORKSPACE_CONFIG.format(database_url=f"sqlite:///{root / 'c.db'}"), encoding="utf-8"
        )
        sys.stdout.write(transcript(store_messy(Office(root, root / "cardsender.toml"))))

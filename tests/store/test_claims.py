"""The outbox claim: each due card to one claimant, marks fenced by the claim, and a lost claim made unknown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Row, select

from cardsender.domain.records import Touch
from cardsender.store import Store
from cardsender.store import outbox as queries
from cardsender.store.customers import insert_customer
from cardsender.store.schema import outbox

TODAY = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, 14, 0)
LEASE = dt.timedelta(minutes=30)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Return a database with three customers (two in office east, one in west), each with a card due today."""
    with Store.open(database_url) as opened:
        with opened.begin() as conn:
            ids = {}
            for customer_id, office in (("C1", "east"), ("C2", "east"), ("C3", "west")):
                values = {"id": customer_id, "email": f"{customer_id.lower()}@example.com", "office": office}
                ids[customer_id] = insert_customer(conn, values, TODAY, NOW)
            touches = [Touch(c, "thank_you", "email", TODAY, TODAY, "bought a bike") for c in ids]
            assert queries.record_touches(conn, touches, ids, 3, NOW) == 3
        yield opened


def claim(store: Store, worker: str, limit: int, office: str = "east", now: dt.datetime = NOW) -> list[str]:
    """Claim due cards of an office for a worker; return whose they are."""
    with store.begin() as conn:
        return [row.customer_id for row in queries.claim_due(conn, TODAY, now, worker, LEASE, limit, office)]


def test_a_claim_takes_only_its_office_and_never_a_card_another_holds(store: Store) -> None:
    """Claims hand each due card of an office to one worker; the other office's card is left alone."""
    assert claim(store, "a:1", 1) == ["C1"]
    assert claim(store, "b:2", 5) == ["C2"]
    assert claim(store, "c:3", 5) == []
    assert claim(store, "c:3", 5, office="west") == ["C3"]


def test_a_mark_needs_the_claim_and_a_lapsed_claim_that_had_begun_becomes_unknown(store: Store) -> None:
    """Only the claimant may settle its row; once its lease runs out a row whose SMTP transaction had begun is
    unknown and its late mark is refused, so the card is neither resent nor recorded twice."""
    claim(store, "a:1", 1)
    with store.begin() as conn:
        (row,) = queries.list_rows(conn, ("sending",))
        assert queries.mark_started(conn, row.row, "a:1", NOW)
        assert not queries.finish(conn, row.row, "b:2", NOW, state="sent")
        assert queries.recover_abandoned(conn, NOW + LEASE - dt.timedelta(seconds=1)) == (0, 0)
        assert queries.recover_abandoned(conn, NOW + LEASE + dt.timedelta(seconds=1)) == (1, 0)
        assert not queries.finish(conn, row.row, "a:1", NOW + LEASE, state="sent")
        assert queries.get_row(conn, row.row).state == "unknown"  # type: ignore[union-attr]


def test_claimed_cards_that_never_began_go_back_to_pending_when_their_claimant_is_gone(store: Store) -> None:
    """Of a claim abandoned by a crash, only the card whose transaction had begun is unknown; the others of the
    batch never reached the server and are pending again, to go out on the next run."""
    claim(store, "gone:1", 2)
    with store.begin() as conn:
        first, second = queries.list_rows(conn, ("sending",))
        assert queries.mark_started(conn, first.row, "gone:1", NOW)
        assert queries.recover_abandoned(conn, NOW, gone=["gone:1"]) == (1, 1)
        assert queries.get_row(conn, first.row).state == "unknown"  # type: ignore[union-attr]
        assert queries.get_row(conn, second.row).state == "pending"  # type: ignore[union-attr]
    assert claim(store, "b:2", 5) == ["C2"]


@pytest.mark.postgresql_only
def test_concurrent_claims_skip_the_rows_locked_by_each_other(database: str, store: Store) -> None:
    """Two services claiming at the same moment (PostgreSQL): the second does not wait for the first's
    transaction, and takes the next card instead of the locked one."""
    with store.engine.connect() as first, store.engine.connect() as second:
        with first.begin():
            taken = queries.claim_due(first, TODAY, NOW, "a:1", LEASE, 1, "east")
            with second.begin():
                second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")  # waiting would fail the test, not hang it
                other = queries.claim_due(second, TODAY, NOW, "b:2", LEASE, 5, "east")
        assert [row.customer_id for row in taken] == ["C1"]
        assert [row.customer_id for row in other] == ["C2"]


def test_expiry_follows_each_office_own_calendar(store: Store) -> None:
    """A card past its last day in one office is failed; another office's card of that day, still on an
    earlier day in its own time zone, is left to go out."""
    last_day = TODAY + dt.timedelta(days=3)  # record_touches gave every card 3 grace days
    with store.begin() as conn:
        assert queries.expire_overdue(conn, last_day + dt.timedelta(days=1), NOW, "east") == 2
        assert sorted(row.office for row in queries.list_rows(conn, ("pending",))) == ["west"]
        assert queries.expire_overdue(conn, last_day, NOW, "west") == 0


def test_every_sender_takes_its_slot_from_one_pace(store: Store) -> None:
    """rate_per_minute is the mail account's: cards claimed by different processes take consecutive slots of
    one shared pace, and only a slot already due marks the transaction begun."""
    claim(store, "a:1", 1)
    claim(store, "b:2", 1)
    claim(store, "c:3", 1, office="west")
    gap = dt.timedelta(seconds=2)
    with store.begin() as conn:
        rows = {row.claimed_by: row.row for row in _claimed_rows(conn)}
        slots = [queries.take_slot(conn, rows[w], w, NOW, gap, 100) for w in ("a:1", "b:2", "c:3")]
        assert slots == [NOW, NOW + gap, NOW + 2 * gap]
        assert queries.transaction_began(conn, rows["a:1"])
        assert not queries.transaction_began(conn, rows["b:2"])


def test_the_daily_limit_counts_what_was_sent_and_what_holds_a_slot(store: Store) -> None:
    """rate_per_day counts the mail of the last 24 hours and the cards holding a slot, whoever sends them."""
    claim(store, "a:1", 2)
    claim(store, "c:3", 1, office="west")
    gap = dt.timedelta(milliseconds=1)
    with store.begin() as conn:
        first, second, third = _claimed_rows(conn)
        assert queries.take_slot(conn, first.row, str(first.claimed_by), NOW, gap, 2) is not None
        queries.finish(conn, first.row, str(first.claimed_by), NOW, state="sent", sent_at=NOW)
        assert queries.take_slot(conn, second.row, str(second.claimed_by), NOW, gap, 2) is not None
        assert queries.take_slot(conn, third.row, str(third.claimed_by), NOW, gap, 2) is None
        later = NOW + dt.timedelta(days=1, seconds=1)
        queries.finish(conn, second.row, str(second.claimed_by), NOW, state="sent", sent_at=NOW)
        assert queries.take_slot(conn, third.row, str(third.claimed_by), later, gap, 2) == later


def _claimed_rows(conn: Connection) -> Sequence[Row[Any, Any]]:
    """Return the claimed outbox rows with their claimant, in claim order."""
    query = select(outbox.c.id.label("row"), outbox.c.claimed_by).where(outbox.c.state == "sending")
    return conn.execute(query.order_by(outbox.c.updated_at, outbox.c.id)).all()

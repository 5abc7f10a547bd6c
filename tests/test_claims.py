"""The outbox claim: each due card to one claimant, marks fenced by the claim, and a lost claim made unknown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from cardsender.planner import Touch
from cardsender.store import Store
from cardsender.store import outbox as queries
from cardsender.store.customers import insert_customer

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


def test_a_mark_needs_the_claim_and_a_lapsed_claim_becomes_unknown(store: Store) -> None:
    """Only the claimant may settle its row; once its lease runs out the row is unknown and its late mark is
    refused, so the card is neither resent nor recorded twice."""
    claim(store, "a:1", 1)
    with store.begin() as conn:
        (row,) = queries.list_rows(conn, ("sending",))
        assert not queries.finish(conn, row.row, "b:2", NOW, state="sent")
        assert queries.recover_abandoned(conn, NOW + LEASE - dt.timedelta(seconds=1)) == 0
        assert queries.recover_abandoned(conn, NOW + LEASE + dt.timedelta(seconds=1)) == 1
        assert not queries.finish(conn, row.row, "a:1", NOW + LEASE, state="sent")
        assert queries.get_row(conn, row.row).state == "unknown"  # type: ignore[union-attr]


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


def test_the_rate_per_minute_is_shared_by_the_services_running(store: Store) -> None:
    """rate_per_minute is the mail account's: with three services running (one more long gone), each waits
    three times as long between two cards, so that together they keep to it."""
    from cardsender.config import parse_config
    from cardsender.service import SendCycle
    from cardsender.store import lease as leases

    config = parse_config({"email": {"rate_per_minute": 600}, "offices": {"east": {}}}, None)
    cycle = SendCycle(store, config, today=TODAY, now=lambda: NOW, office_now=NOW, worker="a:1")
    assert cycle.pause_between_cards() == pytest.approx(0.1)  # no service running: a command alone
    with store.begin() as conn:
        for n, heard in enumerate((NOW, NOW, NOW - dt.timedelta(minutes=1), NOW - dt.timedelta(hours=1))):
            assert leases.acquire(conn, f"host:{n}", heard, leases.STALE_AFTER, f"service:host:{n}") is None
    assert cycle.pause_between_cards() == pytest.approx(0.3)

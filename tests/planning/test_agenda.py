"""Planning from a real store: facts read from SQLite, and the one-day filter that skips idle customers."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest

from cardsender.config.loading import parse_config
from cardsender.config.model import Config
from cardsender.domain.records import Birthday, Card, ContactEvent
from cardsender.planning.agenda import call_list, coverage_report, load_all_facts, plan_from_facts, plan_touches
from cardsender.planning.facts import add_card
from cardsender.store import Store
from cardsender.store.customers import add_event, insert_customer

NOW = dt.datetime(2026, 1, 1, 12, 0)
CONFIG = parse_config({"office": {"start_date": "2025-01-01", "country": "US"}}, None)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Return an empty store."""
    with Store.open(database_url) as opened:
        yield opened


def add_customer(store: Store, customer_id: str, added: dt.date, **fields: object) -> int:
    """Insert a customer and return its row id."""
    with store.begin() as conn:
        return insert_customer(conn, {"id": customer_id, **fields}, added, NOW)


def add_history(store: Store, row_id: int, customer_id: str, day: dt.date, kind: str, summary: str = "") -> None:
    """Record a contact event at noon."""
    with store.begin() as conn:
        add_event(conn, row_id, ContactEvent(customer_id, dt.datetime.combine(day, dt.time(12)), kind, summary), NOW)


def test_facts_ignore_notes_and_history_after_the_day(store: Store) -> None:
    """The last touch is the latest non-note event on or before the day planned."""
    row = add_customer(store, "c1", dt.date(2025, 1, 1), email="a@example.com", channel="email")
    add_history(store, row, "c1", dt.date(2026, 3, 1), "call")
    add_history(store, row, "c1", dt.date(2026, 3, 5), "note", "prefers mornings")
    add_history(store, row, "c1", dt.date(2026, 4, 1), "visit")
    (facts,) = load_all_facts(store, CONFIG, dt.date(2026, 3, 20))
    assert facts.last_event_touch == dt.date(2026, 3, 1)
    assert facts.channels == ("email",)


def test_facts_carry_recent_purchases_and_outbox_cards(store: Store) -> None:
    """Recent purchases (with their summaries) and outbox cards reach the planner."""
    row = add_customer(store, "c1", dt.date(2025, 1, 1), email="a@example.com", channel="email")
    add_history(store, row, "c1", dt.date(2026, 3, 1), "purchase", "tandem bike")
    with store.begin() as conn:
        add_card(conn, row, Card("c1", "birthday", dt.date(2026, 3, 3), "email", "sent"), dt.date(2026, 3, 3), NOW)
    (facts,) = load_all_facts(store, CONFIG, dt.date(2026, 3, 2))
    assert [(p.day, p.summary) for p in facts.purchases] == [(dt.date(2026, 3, 1), "tandem bike")]
    assert facts.cards == (Card("c1", "birthday", dt.date(2026, 3, 3), "email", "sent"),)


def test_plan_reads_the_store(store: Store) -> None:
    """plan_touches plans a thank-you the day after a purchase recorded in the store."""
    row = add_customer(store, "c1", dt.date(2025, 1, 1), email="a@example.com", channel="email")
    add_history(store, row, "c1", dt.date(2026, 3, 1), "purchase", "tandem bike")
    touches = plan_touches(store, CONFIG, dt.date(2026, 3, 2))
    assert [t.to_json() for t in touches] == [
        {
            "customer_id": "c1",
            "occasion": "thank_you",
            "channel": "email",
            "occasion_date": "2026-03-02",
            "due_date": "2026-03-02",
            "reason": "thank you for the purchase on 2026-03-01 (tandem bike)",
        },
    ]


def _random_store(store: Store, rng: random.Random, count: int) -> None:
    """Fill the store with varied customers, histories and outbox cards (in one transaction: on PostgreSQL a
    commit per row takes seconds for the lot)."""
    first = dt.date(2025, 6, 1)
    with store.begin() as conn:
        for n in range(count):
            cid = f"c{n}"
            channel = rng.choice(["email", "post", "both"])
            fields: dict[str, object] = {
                "email": f"{cid}@example.com" if rng.random() < 0.9 else None,
                "channel": channel,
                "street": "1 Main St" if rng.random() < 0.8 else "",
                "city": "Springfield",
                "country": rng.choice(["US", "CA", "FR", ""]),
                "no_humor": rng.random() < 0.2,
                "do_not_contact": rng.random() < 0.05,
            }
            if rng.random() < 0.8:
                month = rng.randint(1, 12)
                fields["birthday"] = Birthday(month, 29 if rng.random() < 0.1 else rng.randint(1, 28), None)
            added = first - dt.timedelta(days=rng.randint(0, 300))
            row = insert_customer(conn, {"id": cid, **fields}, added, NOW)
            for _ in range(rng.randint(0, 8)):
                day = first + dt.timedelta(days=rng.randint(0, 420))
                kind = rng.choice(["purchase", "call", "visit", "note", "email"])
                add_event(conn, row, ContactEvent(cid, dt.datetime.combine(day, dt.time(12)), kind, ""), NOW)
            for _ in range(rng.randint(0, 2)):
                day = first + dt.timedelta(days=rng.randint(0, 420))
                card = Card(
                    cid,
                    rng.choice(["birthday", "check_in", "thank_you"]),
                    day,
                    rng.choice(["email", "post"]),
                    rng.choice(["pending", "sent", "mailed", "printed", "failed"]),
                )
                add_card(conn, row, card, day, NOW)


@pytest.mark.slow(seconds=40)
@pytest.mark.parametrize(
    "config",
    [
        CONFIG,
        parse_config({"occasions": {"birthday": {"feb29": "mar1"}}}, None),
        parse_config({"occasions": {"grace_days": 0, "thank_you": {"delay_days": 3, "coalesce_days": 30}}}, None),
    ],
    ids=["default", "feb29-mar1", "no-grace-late-thanks"],
)
def test_the_one_day_filter_drops_only_customers_with_nothing_due(store: Store, config: Config) -> None:
    """Planning one day from the filtered customers gives exactly the plan of all customers, all year."""
    _random_store(store, random.Random(3), 250)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(0, 365, 3)]
    days += [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 25), dt.date(2026, 11, 19)]
    days += [dt.date(2026, 12, n) for n in range(8, 21)]
    for day in days:
        everyone = plan_from_facts(load_all_facts(store, config, day), config, day)
        assert plan_touches(store, config, day) == everyone, day


def test_call_list_and_report_from_the_store(store: Store) -> None:
    """The call list and the coverage report count customers by days since their last touch."""
    today = dt.date(2026, 6, 1)
    for cid, days_ago in (("fresh", 10), ("risk", 60), ("late", 80)):
        row = add_customer(store, cid, dt.date(2025, 1, 1), email=f"{cid}@example.com", channel="email")
        add_history(store, row, cid, today - dt.timedelta(days=days_ago), "call")
    assert [(e.customer_id, e.days_since_contact, e.overdue) for e in call_list(store, CONFIG, today)] == [
        ("late", 80, True),
        ("risk", 60, False),
    ]
    report = coverage_report(store, CONFIG, today)
    assert (report.contactable, report.touched_within_limit) == (3, 2)
    assert round(report.coverage, 4) == 0.6667
    assert [e.customer_id for e in report.overdue] == ["late"]
    assert [e.customer_id for e in report.at_risk] == ["risk"]
    assert report.breaches_next_14_days == ["late"]


def test_customers_never_contacted_are_not_covered(store: Store) -> None:
    """A customer added without history counts in the denominator, not as covered, with the first card's day."""
    today = dt.date(2026, 6, 1)
    for cid in ("new1", "new2"):
        add_customer(store, cid, today - dt.timedelta(days=5), email=f"{cid}@example.com", channel="email")
    row = add_customer(store, "seen", dt.date(2025, 1, 1), email="seen@example.com", channel="email")
    add_history(store, row, "seen", today - dt.timedelta(days=10), "visit")
    add_history(store, row, "seen", today - dt.timedelta(days=2), "note", "a note is not a contact")
    report = coverage_report(store, CONFIG, today)
    assert (report.contactable, report.touched_within_limit, report.never_contacted) == (3, 1, 2)
    assert (report.coverage_percent, report.contacted_over_limit) == (33, 0)
    # First check-ins land 49 to 63 days after a customer was added, spread by id.
    assert report.first_cards_planned_by is not None
    assert dt.date(2026, 7, 15) <= report.first_cards_planned_by <= dt.date(2026, 7, 29)
    data = report.to_json()
    assert (data["never_contacted"], data["first_cards_planned_by"]) == (2, report.first_cards_planned_by.isoformat())


def test_a_card_that_reached_the_customer_covers_them(store: Store) -> None:
    """A sent, mailed or unknown card covers a customer on its occasion date; a failed or printed one does not."""
    today = dt.date(2026, 6, 1)
    for cid, state in (
        ("sent", "sent"),
        ("mailed", "mailed"),
        ("unknown", "unknown"),
        ("failed", "failed"),
        ("printed", "printed"),
    ):
        row = add_customer(store, cid, today - dt.timedelta(days=5), email=f"{cid}@example.com", channel="email")
        with store.begin() as conn:
            add_card(conn, row, Card(cid, "birthday", today - dt.timedelta(days=1), "email", state), today, NOW)
    report = coverage_report(store, CONFIG, today)
    assert (report.contactable, report.touched_within_limit, report.never_contacted) == (5, 3, 2)

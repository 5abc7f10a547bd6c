"""One source for every count: the report, the digest and the forecast count the same cards on one office."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_ok as run
from tests.support.office import Office

# Thursday, December 10, 2026, at noon in Toronto.
NOW = "2026-12-10T17:00:00+00:00"
CUSTOMERS = """\
id,first_name,last_name,email,birthday,street,city,postal_code,country,channel
A1,Ana,Silva,ana@example.com,1985-12-10,,,,CA,email
B1,Bruno,Costa,,1970-12-17,12 King Street,Toronto,M5H 1A1,CA,post
C1,Chloé,Roy,chloe@example.com,,,,,CA,email
"""
# Chloé's cards were written by hand before cardsender; the purchase is not a card.
HISTORY = """\
customer_id,date,kind,summary
C1,2026-11-20,purchase,Winter tires
C1,2026-12-02,card,Birthday card (by hand)
C1,2026-12-03,card,Handwritten thank-you card
"""


def run_json(ws: Office, *args: str) -> Any:
    """Run a command with --json and return what it printed, parsed."""
    return json.loads(run(ws, *args, "--json").stdout)


@pytest.fixture
def office(workspace: Office, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    """Return an office on December 10, 2026: Ana's birthday card sent by email, Bruno's posted birthday card
    printed and mailed (it arrives on December 17), and two cards Chloé got by hand imported from the history."""
    monkeypatch.setenv("CARDSENDER_TEST_NOW", NOW)
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "history.csv").write_text(HISTORY, encoding="utf-8")
    run(workspace, "import", "customers", str(tmp_path / "customers.csv"))
    run(workspace, "import", "history", str(tmp_path / "history.csv"))
    run(workspace, "send", "--no-dry-run")
    run(workspace, "print", "--out", str(tmp_path / "cards.pdf"))
    (batch,) = {row["batch"] for row in run_json(workspace, "outbox", "--state", "printed")}
    run(workspace, "mark-mailed", batch)
    states = sorted((row["customer_id"], row["occasion"], row["state"]) for row in run_json(workspace, "outbox"))
    assert states == [("A1", "birthday", "sent"), ("B1", "birthday", "mailed")]
    return workspace


def test_report_digest_and_forecast_count_the_same_cards(office: Office) -> None:
    """Sent, mailed and imported cards count once each, on the day they reach the customer, in all three."""
    december = {"birthday": 3, "thank_you": 1}
    report = run_json(office, "report", "--on", "2026-12-17")
    assert (report["cards_this_month"], report["cards_this_year"]) == (december, december)
    assert report["cards_per_month"] == {"2026-12": december}
    digest = run(office, "digest", "--on", "2026-12-17").stdout
    assert "Cards this month: 3 birthday, 1 thank-you (4 this year).\n" in digest
    summary = run_json(office, "forecast", "--from", "2026-12-10", "--to", "2026-12-31")["summary"]
    assert summary["cards_sent_per_month"] == {"2026-12": december}
    # Bruno's card was mailed on the 10th but reaches him on the 17th: before then, the report does not count it.
    assert run_json(office, "report", "--on", "2026-12-16")["cards_this_month"] == {"birthday": 2, "thank_you": 1}


def test_a_posted_card_on_its_way_is_no_breach(office: Office) -> None:
    """The forecast counts Bruno's mailed card on its arrival, so neither he nor anyone is over the limit."""
    summary = run_json(office, "forecast", "--from", "2026-12-10", "--to", "2027-03-31")["summary"]
    assert (summary["overdue_at_start"], summary["breached_by_plan"], summary["customers_over_limit"]) == ([], [], 0)


def test_the_coverage_counts_only_real_contacts(office: Office) -> None:
    """Ana and Bruno are touched by their cards, Chloé by hers; before Bruno's arrives he is never contacted."""
    before = run_json(office, "report", "--on", "2026-12-16")
    assert {k: before[k] for k in ("contactable", "touched_within_limit", "never_contacted")} == {
        "contactable": 3,
        "touched_within_limit": 2,
        "never_contacted": 1,
    }
    assert before["first_cards_planned_by"] == "2026-12-17"
    after = run_json(office, "report", "--on", "2026-12-17")
    assert (after["touched_within_limit"], after["never_contacted"], after["coverage"]) == (3, 0, 1.0)
    lines = run(office, "report", "--on", "2026-12-16").stdout.splitlines()
    assert lines[1:3] == [
        "Touched within 70 days                 2 of 3 (66%)",
        "Never contacted yet (not touched)      1, first card planned for 2026-12-17",
    ]
    digest = run(office, "digest", "--on", "2026-12-16").stdout
    assert (
        "Coverage: 66% of customers heard from us in the last 70 days (2 of 3).\n"
        "Of the 3 customers cards can reach: 2 heard from us within 70 days; 1 never contacted yet, "
        "first card planned for 2026-12-17.\n"
    ) in digest

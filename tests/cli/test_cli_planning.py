"""The planning commands: plan, calls, forecast and report, run through the CLI against a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest

from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store.customers import add_event, insert_customer
from tests.support.cli import run
from tests.support.customers import BOB, POSTED_TARO
from tests.support.office import Office

ADDED = dt.date(2026, 1, 5)
WRITTEN_AT = dt.datetime(2026, 1, 5, 15, 30)
ANA = {
    "id": "C1",
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "birthday": "--03-14",
    "country": "CA",
    "channel": "email",
    "owner": "Maria",
}
GONE = {"id": "C4", "first_name": "Gus", "email": "gus@example.com", "do_not_contact": "yes"}


def run_json(ws: Office, *args: str) -> Any:
    """Run a command with --json and return what it printed, parsed."""
    result = run(ws, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def shop(workspace: Office) -> Office:
    """Return a workspace whose customers were added on Jan 5, 2026: Ana bought a bike on Feb 20, Taro was
    called on Jan 20 and wants no humour, Bob has no history, Gus asked not to be contacted."""
    history = {"C1": [(dt.date(2026, 2, 20), "purchase", "Road bike")], "C3": [(dt.date(2026, 1, 20), "call", "")]}
    with workspace.open_store() as store, store.begin() as conn:
        for fields in (ANA, BOB, POSTED_TARO, GONE):
            row = insert_customer(conn, parse_customer_fields(fields), ADDED, WRITTEN_AT)
            for day, kind, summary in history.get(fields["id"], []):
                event = ContactEvent(fields["id"], dt.datetime.combine(day, dt.time(10)), kind, summary, "import")
                add_event(conn, row, event, WRITTEN_AT)
    return workspace


def test_plan_json_lists_the_cards_due_on_the_day(shop: Office) -> None:
    """plan --json prints each due card with the contract's keys, ISO dates and a reason."""
    assert run_json(shop, "plan", "--on", "2026-03-14") == [
        {
            "customer_id": "C1",
            "occasion": "birthday",
            "channel": "email",
            "occasion_date": "2026-03-14",
            "due_date": "2026-03-14",
            "reason": "birthday",
        },
        {
            "customer_id": "C2",
            "occasion": "check_in",
            "channel": "email",
            "occasion_date": "2026-03-14",
            "due_date": "2026-03-14",
            "reason": "overdue: 68 days since the last contact on 2026-01-05",
        },
    ]


def test_plan_over_days_includes_each_card_as_if_sent(shop: Office) -> None:
    """plan --days plans the range as if each card went out on its due date; a posted card is mailed ahead."""
    touches = run_json(shop, "plan", "--on", "2026-03-14", "--days", "30")
    assert [(t["customer_id"], t["occasion"], t["channel"], t["occasion_date"], t["due_date"]) for t in touches] == [
        ("C1", "birthday", "email", "2026-03-14", "2026-03-14"),
        ("C2", "check_in", "email", "2026-03-14", "2026-03-14"),
        ("C3", "check_in", "post", "2026-03-24", "2026-03-17"),
        ("C1", "april_fools", "email", "2026-04-01", "2026-04-01"),
        ("C2", "april_fools", "email", "2026-04-01", "2026-04-01"),
    ]
    assert all("suppressed_reason" not in t for t in touches)


def test_plan_explain_adds_what_was_left_out_and_why(shop: Office) -> None:
    """plan --explain adds the cards left out with a suppressed_reason: humour opted out, missed after grace."""
    touches = run_json(shop, "plan", "--on", "2026-03-14", "--days", "30", "--explain")
    left_out = {(t["customer_id"], t["occasion"]): t["suppressed_reason"] for t in touches if "suppressed_reason" in t}
    assert left_out == {
        ("C3", "april_fools"): "customer asked for no humour",
        ("C1", "thank_you"): "missed: due 2026-02-21, more than 3 grace days ago",
        ("C4", "april_fools"): "customer asked not to be contacted",
    }
    assert len(touches) == 8


def test_plan_text_shows_names_literally_and_a_summary(shop: Office) -> None:
    """plan prints a table with names as given (markup included) and ends with a one-line count."""
    result = run(shop, "plan", "--on", "2026-03-14")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Due", "Customer", "Occasion", "Channel", "Arrives", "Why"]
    assert "<b>Bob</b> Tables (C2)" in lines[2]
    assert lines[-1] == "2 cards due on 2026-03-14 (2 by email, 0 by post)."


def test_plan_on_a_quiet_day_says_so(shop: Office) -> None:
    """A day with nothing due prints only the count."""
    result = run(shop, "plan", "--on", "2026-02-10")
    assert result.output == "0 cards due on 2026-02-10 (0 by email, 0 by post).\n"


def test_plan_rejects_a_bad_date_in_one_line(shop: Office) -> None:
    """A date that is not a date gives one Error line and a non-zero exit, not a traceback."""
    result = run(shop, "plan", "--on", "2026-02-30")
    assert result.exit_code == 1
    assert result.output == "Error: --on: '2026-02-30' is not a date; write YYYY-MM-DD, for example 2026-03-14\n"


def test_calls_json_lists_customers_from_day_56_with_overdue_after_70(shop: Office) -> None:
    """calls --json gives the call list with the contract's keys; do_not_contact is never on it."""
    assert run_json(shop, "calls", "--on", "2026-03-20") == [
        {
            "customer_id": "C3",
            "name": "太郎 山田",
            "owner": "Aiko",
            "last_contact": "2026-01-20",
            "days_since_contact": 59,
            "overdue": False,
            "card_held": False,
            "card_failed": False,
        },
        {
            "customer_id": "C2",
            "name": "<b>Bob</b> Tables",
            "owner": "Tom",
            "last_contact": None,
            "days_since_contact": 74,
            "overdue": True,
            "card_held": False,
            "card_failed": False,
        },
    ]


def test_calls_text_groups_by_owner(shop: Office) -> None:
    """calls prints one group per owner, marks the overdue, and ends with a count."""
    result = run(shop, "calls", "--on", "2026-03-20")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Aiko:"
    assert lines[3] == "Tom:"
    assert lines[5].split() == ["<b>Bob</b>", "Tables", "(C2)", "never", "74", "OVERDUE"]
    assert lines[-1] == "2 customers to call on 2026-03-20, 1 overdue (over 70 days)."


def test_forecast_json_keeps_everyone_within_70_days(shop: Office) -> None:
    """forecast --json gives touches, customers and a summary; nobody contactable goes past 70 days."""
    data = run_json(shop, "forecast", "--from", "2026-03-01", "--to", "2026-06-30")
    assert set(data) == {"touches", "customers", "summary"}
    assert data["customers"] == [
        {"customer_id": "C1", "contactable": True, "touches": 3, "max_gap_days": 63},
        {"customer_id": "C2", "contactable": True, "touches": 3, "max_gap_days": 63},
        {"customer_id": "C3", "contactable": True, "touches": 2, "max_gap_days": 63},
        {"customer_id": "C4", "contactable": False, "touches": 0, "max_gap_days": 176},
    ]
    summary = data["summary"]
    assert (summary["max_gap_days"], summary["customers_over_limit"]) == (63, 0)
    assert summary["cards_per_month"] == {
        "2026-03": {"birthday": 1, "check_in": 2},
        "2026-04": {"april_fools": 2},
        "2026-05": {"check_in": 1},
        "2026-06": {"check_in": 2},
    }
    assert len(data["touches"]) == sum(sum(month.values()) for month in summary["cards_per_month"].values())


def test_forecast_lists_the_same_touches_as_plan_over_the_range(shop: Office) -> None:
    """forecast over a range and plan --days over the same range list the same touches."""
    planned = run_json(shop, "plan", "--on", "2026-03-01", "--days", "122")
    assert run_json(shop, "forecast", "--from", "2026-03-01", "--to", "2026-06-30")["touches"] == planned


def test_forecast_writes_the_html_page(shop: Office, tmp_path: Path) -> None:
    """forecast --html writes a page with the office name and prints a summary line."""
    page = tmp_path / "forecast.html"
    result = run(shop, "forecast", "--from", "2026-03-01", "--to", "2026-06-30", "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "Harbour Street Bikes" in page.read_text(encoding="utf-8")
    assert result.output.splitlines()[-2:] == [
        f"Wrote {page}",
        "Forecast 2026-03-01 to 2026-06-30: 8 cards for 3 contactable customers; longest gap 63 days (limit 70), "
        "0 over the limit.",
    ]


def test_forecast_refuses_a_range_that_ends_before_it_starts(shop: Office) -> None:
    """--to before --from is an error that says which comes first."""
    result = run(shop, "forecast", "--from", "2026-06-01", "--to", "2026-05-01")
    assert result.exit_code == 1
    assert result.output == "Error: --to 2026-05-01 is before --from 2026-06-01; give the earlier day first\n"


def test_report_json_counts_coverage(shop: Office) -> None:
    """report --json gives coverage, at risk, overdue and the breaches forecast for 14 days."""
    data = run_json(shop, "report", "--on", "2026-03-20")
    assert {k: data[k] for k in ("on", "contactable", "touched_within_limit", "coverage")} == {
        "on": "2026-03-20",
        "contactable": 3,
        "touched_within_limit": 2,
        "coverage": 0.6667,
    }
    assert [e["customer_id"] for e in data["at_risk"]] == ["C3"]
    assert [e["customer_id"] for e in data["overdue"]] == ["C2"]
    assert data["breaches_next_14_days"] == ["C2"]
    assert (data["cards_this_month"], data["cards_this_year"]) == ({}, {})


def test_report_writes_a_one_page_pdf_that_renders(shop: Office, tmp_path: Path) -> None:
    """report --pdf writes one Letter page with the office, the figure rounded down and the names as given."""
    pdf = tmp_path / "report.pdf"
    result = run(shop, "report", "--on", "2026-03-20", "--pdf", str(pdf))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Coverage on 2026-03-20: 66% of contactable customers touched within 70 days; 1 overdue."
    )
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == (612.0, 792.0)
    text = reader.pages[0].extract_text()
    assert "Harbour Street Bikes" in text
    assert "66%" in text
    assert "<b>Bob</b> Tables" in text
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=0.5).to_pil().convert("L")
    assert image.size == (306, 396)
    assert image.getextrema()[0] < 64  # something dark was drawn: the text is there

"""The forecast page and the coverage report PDF, written to files and read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pypdf

from cardsender.config.loading import parse_config
from cardsender.config.model import KeepInTouchConfig
from cardsender.domain.records import Card, Touch
from cardsender.planning.agenda import (
    CallEntry,
    CountedCard,
    CoverageReport,
    CustomerForecast,
    Forecast,
    forecast_from_facts,
)
from cardsender.planning.planner import CustomerFacts
from cardsender.reports.forecast_page import write_forecast_html
from cardsender.reports.report_pdf import write_report_pdf

MARCH = dt.date(2026, 3, 1)
MAY_END = dt.date(2026, 5, 31)


class Page(HTMLParser):
    """What the tests look at in a page: SVG shapes, texts by id, table rows, list items and outside links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rects: list[dict[str, str]] = []
        self.lines: list[dict[str, str]] = []
        self.by_id: dict[str, str] = {}
        self.rows: list[list[str]] = []
        self.items: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self._open: list[tuple[str, str | None, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the element and, unless it is empty by nature, start collecting its text."""
        found = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        self.links += [value for name, value in found.items() if name in ("src", "href")]
        if tag == "rect":
            self.rects.append(found)
        elif tag == "line":
            self.lines.append(found)
        elif tag == "tr":
            self.rows.append([])
        if tag not in ("meta", "line", "br"):
            self._open.append((tag, found.get("id"), []))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record a self-closed element (``<line/>``), which holds no text."""
        self.handle_starttag(tag, attrs)
        if tag not in ("meta", "line", "br"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close the element and file its text (under its id, as a table cell, list item or tooltip)."""
        assert self._open[-1][0] == tag, f"</{tag}> closes <{self._open[-1][0]}>"
        _, element_id, parts = self._open.pop()
        text = "".join(parts).strip()
        if self._open:
            self._open[-1][2].append("".join(parts))
        if element_id:
            self.by_id[element_id] = text
        if tag in ("td", "th"):
            self.rows[-1].append(text)
        elif tag == "li":
            self.items.append(text)
        elif tag == "title" and self._open and self._open[-1][0] == "rect":
            self.rects[-1]["title"] = text

    def handle_data(self, data: str) -> None:
        """Add text to every open element."""
        if self._open:
            self._open[-1][2].append(data)

    def days(self) -> list[dict[str, str]]:
        """Return the calendar's squares."""
        return [r for r in self.rects if "day" in r["class"].split()]

    def bars(self) -> list[tuple[str, str]]:
        """Return the histogram's bars as (class, tooltip)."""
        return [(r["class"], r["title"]) for r in self.rects if "bar" in r["class"].split()]


def touch(customer_id: str, day: dt.date, occasion: str = "check_in") -> Touch:
    """Return an email touch sent on its occasion date."""
    return Touch(customer_id, occasion, "email", day, day, "test")


def spring_forecast(customers: list[CustomerForecast], touches: list[Touch] | None = None) -> Forecast:
    """Return a forecast from March 1 to May 31, 2026, with the 70-day limit."""
    if touches is None:
        touches = [
            touch("a", dt.date(2026, 3, 2)),
            touch("b", dt.date(2026, 3, 2), "birthday"),
            touch("c", dt.date(2026, 4, 1), "april_fools"),
            touch("a", dt.date(2026, 5, 11)),
        ]
    return Forecast(MARCH, MAY_END, 70, touches, customers)


CUSTOMERS = [
    CustomerForecast("a", True, 2, 70, "Ana Silva"),
    CustomerForecast("b", True, 1, 71, "Bo Li"),
    CustomerForecast("c", True, 1, 85, "Cara Roy", overdue_at_start=True, plan_gap_days=40),
    CustomerForecast("d", False, 0, 92, "Dev Rao"),
    CustomerForecast("e", True, 0, 3, "e"),
]


def render(tmp_path: Path, forecast: Forecast, office_name: str = "Harbour Street Bikes") -> tuple[str, Page]:
    """Write the forecast page and return its text and parse."""
    path = tmp_path / "forecast.html"
    write_forecast_html(forecast, path, office_name=office_name)
    html = path.read_text(encoding="utf-8")
    return html, Page(html)


def test_calendar_has_one_square_per_day(tmp_path: Path) -> None:
    """The calendar has exactly one square per day of the range, each with its date and count as a tooltip."""
    _, page = render(tmp_path, spring_forecast(CUSTOMERS))
    days = page.days()
    assert len(days) == 92
    assert [d["data-date"] for d in days] == [(MARCH + dt.timedelta(days=n)).isoformat() for n in range(92)]
    assert [d["title"] for d in days[:3]] == [
        "2026-03-01 (Sun): no cards",
        "2026-03-02 (Mon): 2 cards",
        "2026-03-03 (Tue): no cards",
    ]
    # Quartiles of the busy days (1, 1, 2): the busiest day is the darkest.
    assert [(d["data-date"], d["class"]) for d in days if d["class"] != "day l0"] == [
        ("2026-03-02", "day l4"),
        ("2026-04-01", "day l2"),
        ("2026-05-11", "day l2"),
    ]
    assert " ".join(page.by_id["legend"].split()) == "Cards a day: 0 1 2"


def test_calendar_puts_weeks_in_columns_from_monday(tmp_path: Path) -> None:
    """A Sunday sits at the bottom of the first column and the next Monday at the top of the second."""
    _, page = render(tmp_path, spring_forecast(CUSTOMERS))
    sunday, monday = page.days()[:2]
    assert (sunday["x"], sunday["y"]) == ("30", "100")
    assert (monday["x"], monday["y"]) == ("44", "16")


def test_summary_shows_the_figures(tmp_path: Path) -> None:
    """The summary gives customers, contactable, cards, the longest gap, those overdue at the start and the
    breaches the plan would cause, each group listed by name and id apart."""
    _, page = render(tmp_path, spring_forecast(CUSTOMERS))
    keys = ("customers", "contactable", "cards", "longest-gap", "overdue-at-start", "breached-by-plan")
    assert {key: page.by_id[key] for key in keys} == {
        "customers": "5",
        "contactable": "4",
        "cards": "4",
        "longest-gap": "85 days",
        "overdue-at-start": "1",
        "breached-by-plan": "1",
    }
    assert " ".join(page.by_id["overdue-list"].split()) == (
        "Already overdue on the first day (1) Over 70 days without hearing from us on 2026-03-01, before the plan "
        "can do anything; call them (the longest gap): Cara Roy (c): 85 days"
    )
    assert " ".join(page.by_id["caused-list"].split()) == (
        "Breaches the plan would cause (1) Within 70 days on the first day, but the plan leaves a longer gap: "
        "Bo Li (b): 71 days"
    )
    assert page.items == ["Cara Roy (c): 85 days", "Bo Li (b): 71 days"]
    assert page.by_id["range"] == (
        "2026-03-01 to 2026-05-31 (92 days), as if every planned card goes out on its due date. Cards count on the "
        "day they reach the customer: a posted card on its arrival."
    )


def test_customers_overdue_at_the_start_alone_are_not_the_plans_breaches(tmp_path: Path) -> None:
    """A customer overdue on the first day whose plan then keeps the limit is listed only as overdue."""
    customers = [CustomerForecast("c", True, 1, 85, "Cara Roy", overdue_at_start=True, plan_gap_days=40)]
    html, page = render(tmp_path, spring_forecast(customers))
    assert (page.by_id["overdue-at-start"], page.by_id["breached-by-plan"]) == ("1", "0")
    assert "caused-list" not in page.by_id
    assert '<p class="good">The plan itself keeps every contactable customer within 70 days.</p>' in html


def test_cards_per_month_table(tmp_path: Path) -> None:
    """The table counts cards per occasion in each month, with totals."""
    _, page = render(tmp_path, spring_forecast(CUSTOMERS))
    assert page.rows == [
        ["Month", "Birthday", "April Fool's", "Check-in", "Total"],
        ["Mar 2026", "1", "0", "1", "2"],
        ["Apr 2026", "0", "1", "0", "1"],
        ["May 2026", "0", "0", "1", "1"],
        ["Total", "1", "1", "2", "4"],
    ]


def test_histogram_draws_the_limit_and_warns_beyond_it(tmp_path: Path) -> None:
    """The gap histogram has week-wide bins ending on the limit, the line between 70 and 71, and red bars past it."""
    _, page = render(tmp_path, spring_forecast(CUSTOMERS))
    assert page.bars() == [
        ("bar", "0 days: 0 customers"),
        ("bar", "1–7 days: 1 customer"),
        ("bar", "8–14 days: 0 customers"),
        ("bar", "15–21 days: 0 customers"),
        ("bar", "22–28 days: 0 customers"),
        ("bar", "29–35 days: 0 customers"),
        ("bar", "36–42 days: 0 customers"),
        ("bar", "43–49 days: 0 customers"),
        ("bar", "50–56 days: 0 customers"),
        ("bar", "57–63 days: 0 customers"),
        ("bar", "64–70 days: 1 customer"),
        ("bar over", "71–77 days: 1 customer"),
        ("bar over", "78–84 days: 0 customers"),
        ("bar over", "85–91 days: 1 customer"),
    ]
    (limit,) = [line for line in page.lines if line.get("class") == "limit"]
    first_over = next(r for r in page.rects if r.get("class") == "bar over")
    assert limit["x1"] == limit["x2"] == str(int(first_over["x"]) - 1)
    assert page.by_id["limit-label"] == "70-day limit"


def test_page_loads_nothing_from_outside(tmp_path: Path) -> None:
    """The page has no links, sources, scripts or style sheets to fetch: everything is inline."""
    html, page = render(tmp_path, spring_forecast(CUSTOMERS))
    assert page.links == []
    assert page.tags & {"script", "link", "img", "iframe", "object"} == set()
    assert "http://" not in html
    assert "https://" not in html
    assert "url(" not in html


def test_ids_and_office_name_are_escaped(tmp_path: Path) -> None:
    """A customer id or office name holding markup is shown as text, never as markup."""
    customers = [CustomerForecast("<script>alert(1)</script>", True, 0, 80)]
    html, page = render(tmp_path, spring_forecast(customers, []), office_name="<b>x</b> & Sons")
    assert "<script>" not in html
    assert "<b>x</b>" not in html
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;: 80 days</li>" in html
    assert "<h1>&lt;b&gt;x&lt;/b&gt; &amp; Sons: card forecast</h1>" in html
    assert page.items == ["<script>alert(1)</script>: 80 days"]


def test_at_most_50_customers_over_the_limit_are_listed(tmp_path: Path) -> None:
    """Past 50 customers in a group over the limit, the rest are counted, not listed."""
    customers = [CustomerForecast(f"c{n:03d}", True, 0, 100) for n in range(60)]
    html, page = render(tmp_path, spring_forecast(customers, []))
    assert page.items == [f"c{n:03d}: 100 days" for n in range(50)]
    assert "<p>and 10 more.</p>" in html
    assert page.by_id["breached-by-plan"] == "60"


def test_page_renders_a_simulated_forecast(tmp_path: Path) -> None:
    """A forecast simulated by the planner shows its one check-in on the calendar and in the table."""
    facts = [CustomerFacts("c1", dt.date(2025, 1, 1), channels=("email",), last_event_touch=dt.date(2026, 1, 1))]
    forecast = forecast_from_facts(facts, parse_config({}, None), dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    _, page = render(tmp_path, forecast)
    days = page.days()
    assert len(days) == 90
    assert [(d["data-date"], d["title"]) for d in days if d["class"] != "day l0"] == [
        ("2026-03-05", "2026-03-05 (Thu): 1 card")
    ]
    assert page.rows == [["Month", "Check-in", "Total"], ["Mar 2026", "1", "1"], ["Total", "1", "1"]]
    assert page.by_id["longest-gap"] == "63 days"


def test_a_posted_card_already_mailed_counts_on_its_arrival(tmp_path: Path) -> None:
    """A posted card mailed before the range closes the customer's gap on the day it arrives, and is counted."""
    mailed = Card("c1", "check_in", dt.date(2026, 3, 5), "post", "mailed")
    facts = [
        CustomerFacts(
            "c1",
            dt.date(2025, 1, 1),
            name="Ana Silva",
            channels=("post",),
            last_event_touch=dt.date(2026, 1, 1),
            cards=(mailed,),
        )
    ]
    config = parse_config({}, None)
    on_its_way = [CountedCard("c1", "check_in", dt.date(2026, 3, 5), "post", "outbox")]
    alone = forecast_from_facts(facts, config, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    counted = forecast_from_facts(facts, config, dt.date(2026, 3, 1), dt.date(2026, 3, 31), on_its_way)
    assert [(c.max_gap_days, c.overdue_at_start) for c in alone.customers] == [(89, False)]
    assert [(c.max_gap_days, c.overdue_at_start) for c in counted.customers] == [(63, False)]
    # The one card planned is April Fool's, mailed on March 25 to arrive after the range.
    assert [(t.occasion, t.due_date) for t in counted.touches] == [("april_fools", dt.date(2026, 3, 25))]
    html, page = render(tmp_path, counted)
    assert (page.by_id["cards"], page.by_id["breached-by-plan"]) == ("2", "0")
    assert "1 posted card is mailed by 2026-03-31 and arrives after it." in html
    assert [(d["data-date"], d["title"]) for d in page.days() if d["class"] != "day l0"] == [
        ("2026-03-05", "2026-03-05 (Thu): 1 card")
    ]


def test_a_customer_overdue_on_the_first_day_is_told_apart_from_the_plans_breaches() -> None:
    """Overdue on the first day, a customer's check-in goes at once and the plan keeps the limit after it."""
    facts = [
        CustomerFacts(
            "c1", dt.date(2025, 1, 1), name="Ana Silva", channels=("email",), last_event_touch=dt.date(2025, 12, 1)
        )
    ]
    forecast = forecast_from_facts(facts, parse_config({}, None), dt.date(2026, 3, 1), dt.date(2026, 5, 31))
    (customer,) = forecast.customers
    # December 1 to the check-in on March 1 is 90 days; after it, April Fool's Day, then none until June.
    assert (customer.max_gap_days, customer.overdue_at_start, customer.gap_of_plan) == (90, True, 60)
    assert [c.who for c in forecast.overdue_at_start] == ["Ana Silva (c1)"]
    assert forecast.breached_by_plan == []


def call(n: int, name: str, days: int, *, overdue: bool = True) -> CallEntry:
    """Return a call-list entry last contacted ``days`` before March 15, 2026."""
    return CallEntry(f"c{n}", name, "Anna", dt.date(2026, 3, 15) - dt.timedelta(days=days), days, overdue)


REPORT = CoverageReport(
    on=dt.date(2026, 3, 15),
    contactable=480,
    touched_within_limit=451,
    at_risk=[call(900, "Rita Risk", 60, overdue=False)],
    overdue=[call(1, "Ola Overdue", 80)],
    breaches_next_14_days=["b1", "b2"],
    breach_names=["b1", "b2"],  # customers with no name on file are shown by id
    cards_this_month={"check_in": 40, "birthday": 12},
    cards_this_year={"check_in": 140, "birthday": 42, "april_fools": 300},
    never_contacted=20,
    first_cards_planned_by=dt.date(2026, 5, 17),
    breaches_by_plan_next_14_days=["b2"],
)


def read_pdf(path: Path) -> tuple[pypdf.PdfReader, str]:
    """Return the PDF and its first page's text."""
    reader = pypdf.PdfReader(path)
    return reader, reader.pages[0].extract_text()


def test_report_is_one_letter_page_with_the_coverage_figure(tmp_path: Path) -> None:
    """The report is one US Letter page led by the office name, the date and the share heard from in 70 days."""
    path = tmp_path / "report.pdf"
    write_report_pdf(REPORT, path, office_name="Harbour Street Bikes")
    reader, text = read_pdf(path)
    assert len(reader.pages) == 1
    assert [float(v) for v in reader.pages[0].mediabox] == [0, 0, 612, 792]
    assert text.splitlines()[:5] == [
        "Harbour Street Bikes",
        "Keep-in-touch report, Sunday, March 15, 2026",
        "93%",
        "of customers heard from us in the last 70 days",
        "451 of 480 customers that cards can reach",
    ]
    assert text.splitlines()[5:8] == [
        "9 last heard from us over 70 days ago",
        "20 never contacted yet, first cards planned by 2026-05-17",
        "(not counted as heard from)",
    ]
    assert reader.metadata is not None
    assert reader.metadata.title == "Harbour Street Bikes: keep-in-touch report, 2026-03-15"


def test_report_shows_the_counts_calls_and_cards(tmp_path: Path) -> None:
    """The report counts contactable, at-risk, overdue and forecast breaches, lists whom to call and the cards sent."""
    path = tmp_path / "report.pdf"
    write_report_pdf(REPORT, path, office_name="Harbour Street Bikes")
    _, text = read_pdf(path)
    lines = [line.strip() for line in text.splitlines()]
    for expected in (
        "at risk (56 to 70 days since",
        "overdue (over 70 days)",
        "Forecast to pass 70 days within 14 days: b1, b2 (1 of them the plan would cause; the rest are overdue "
        "already).",
        "Ola Overdue",
        "Rita Risk",
        "2025-12-25",
        "Check-in",
        "April Fool's",
    ):
        assert expected in lines, expected
    assert lines.index("Ola Overdue") < lines.index("Rita Risk")
    # Each occasion row: the label, then this month's and this year's counts.
    assert lines[lines.index("Birthday") : lines.index("Birthday") + 3] == ["Birthday", "12", "42"]
    assert lines[lines.index("Total") : lines.index("Total") + 3] == ["Total", "52", "482"]


def test_report_prints_markup_in_names_literally(tmp_path: Path) -> None:
    """A name or office name holding markup is printed as typed, not interpreted."""
    path = tmp_path / "report.pdf"
    write_report_pdf(replace(REPORT, overdue=[call(1, "<b>Bob</b>", 80)]), path, office_name="Smith & <Sons>")
    _, text = read_pdf(path)
    lines = text.splitlines()
    assert lines[0] == "Smith & <Sons>"
    assert "<b>Bob</b>" in lines


def test_report_with_500_overdue_customers_stays_on_one_page(tmp_path: Path) -> None:
    """Five hundred overdue customers still give one page: 20 rows, then how many more."""
    overdue = [call(n, f"Customer {n:03d}", 71 + n) for n in range(500)]
    path = tmp_path / "report.pdf"
    write_report_pdf(replace(REPORT, overdue=overdue), path, office_name="Harbour Street Bikes")
    reader, text = read_pdf(path)
    assert len(reader.pages) == 1
    names = [line.strip() for line in text.splitlines() if line.strip().startswith("Customer ")]
    assert names == [f"Customer {n:03d}" for n in range(499, 479, -1)]
    assert "and 481 more; cardsender calls lists them all." in text


def test_report_cuts_long_names(tmp_path: Path) -> None:
    """A very long name is cut to 40 characters with an ellipsis, and the page stays one page."""
    path = tmp_path / "report.pdf"
    overdue = [call(n, "Bartholomew " * 20, 80) for n in range(30)]
    write_report_pdf(replace(REPORT, overdue=overdue), path, office_name="Harbour Street Bikes " * 10)
    reader, text = read_pdf(path)
    assert len(reader.pages) == 1
    assert text.count("Bartholomew Bartholomew Bartholomew Bar…") == 20


def test_report_uses_the_configured_limits(tmp_path: Path) -> None:
    """With a 60-day promise and calls from 45 days, the wording gives those numbers."""
    path = tmp_path / "report.pdf"
    kit = KeepInTouchConfig(max_gap_days=60, call_after_days=45)
    write_report_pdf(replace(REPORT, overdue=[]), path, office_name="Harbour Street Bikes", keep_in_touch=kit)
    _, text = read_pdf(path)
    lines = [line.strip() for line in text.splitlines()]
    assert "of customers heard from us in the last 60 days" in lines
    assert "at risk (45 to 60 days since" in lines
    assert "overdue (over 60 days)" in lines


def test_report_without_contactable_customers_says_so(tmp_path: Path) -> None:
    """With nobody reachable by card there is no percentage, only a sentence saying so."""
    path = tmp_path / "report.pdf"
    report = replace(
        REPORT, contactable=0, touched_within_limit=0, at_risk=[], overdue=[], breaches_next_14_days=[], breach_names=[]
    )
    write_report_pdf(report, path, office_name="Harbour Street Bikes")
    _, text = read_pdf(path)
    lines = [line.strip() for line in text.splitlines()]
    assert lines[2] == "No customers can be reached by card yet."
    assert "Nobody has gone 56 days without hearing from us." in lines
    assert "%" not in text


def test_report_is_byte_identical_for_the_same_record(tmp_path: Path) -> None:
    """The same report written twice gives the same bytes (no timestamps or random ids)."""
    write_report_pdf(REPORT, tmp_path / "one.pdf", office_name="Harbour Street Bikes")
    write_report_pdf(REPORT, tmp_path / "two.pdf", office_name="Harbour Street Bikes")
    assert (tmp_path / "one.pdf").read_bytes() == (tmp_path / "two.pdf").read_bytes()

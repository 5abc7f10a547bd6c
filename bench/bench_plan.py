"""Benchmark the planner: one day for 100,000 customers, and a 365-day forecast for 10,000.

Targets: planning one day takes at most 1.5 times the bare SQL query
that reads the same customers with their last-touch date, both measured here;
peak memory at most 500 MB; the forecast in at most 10 s.  Each figure is the
median of several runs, each in a fresh process so that peak memory is its own.
Two days are planned: the worst case (Thanksgiving week, with a year of history
that leaves many customers overdue, so no customer can be skipped) and an
ordinary day in an office where every customer was touched in the last 8 weeks.

    python bench/bench_plan.py [--customers 100000] [--events 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Four days before US Thanksgiving: every US customer has a card due, so no customer can be skipped.
TODAY = dt.date(2026, 11, 22)
# An ordinary day in an office where the service has been running: every customer was touched
# within the last 8 weeks, and the one-day filter reads only those who may have something due.
ORDINARY_DAY = dt.date(2026, 6, 10)
STEADY_HISTORY_DAYS = 56
BARE_QUERY = """
SELECT c.*, t.last_touch
FROM customers AS c
LEFT JOIN (
    SELECT customer_id, MAX(occurred_at) AS last_touch FROM contact_events
    WHERE kind IN ('purchase', 'call', 'visit', 'email', 'meeting', 'card') AND occurred_at < ?
    GROUP BY customer_id
) AS t ON t.customer_id = c.id
"""
KINDS = ("purchase", "call", "visit", "email", "meeting", "note")


def build_database(
    path: Path, customers: int, events: int, seed: int = 7, history_days: int = 365, end: dt.date = TODAY
) -> None:
    """Create a migrated database with random customers and ``history_days`` of history up to ``end``."""
    from cardsender.store import Store

    Store.open(f"sqlite:///{path}").close()
    rng = random.Random(seed)
    now = "2026-01-01 00:00:00.000000"
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO customers (id, external_id, first_name, last_name, email, birth_year, birth_month,"
            " birth_day, country, subdivision, street, city, postal_code, channel, language, owner, no_email,"
            " no_post, no_humor, do_not_contact, notes, added_on, created_at, updated_at, email_bouncing)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, '', ?, 'en', ?, 0, 0, ?, ?, '', '2025-01-01', ?, ?, 0)",
            (
                (
                    n,
                    f"C{n:07d}",
                    f"First{n}",
                    f"Last{n}",
                    f"c{n}@example.com",
                    rng.choice([None, rng.randint(1940, 2005)]),
                    rng.randint(1, 12),
                    rng.randint(1, 28),
                    rng.choice(["US", "CA", "FR", "GB"]),
                    f"{n} Main St",
                    "Springfield",
                    rng.choice(["email", "post", "both"]),
                    rng.choice(["Ann", "Bo", "Cy"]),
                    int(rng.random() < 0.1),
                    int(rng.random() < 0.02),
                    now,
                    now,
                )
                for n in range(1, customers + 1)
            ),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO contact_events (customer_id, occurred_at, kind, summary, source, created_at)"
            " VALUES (?, ?, ?, '', 'import', ?)",
            (
                (
                    rng.randint(1, customers),
                    f"{end - dt.timedelta(days=rng.randint(0, history_days))} 00:00:00.000000",
                    rng.choice(KINDS),
                    now,
                )
                for _ in range(events)
            ),
        )
    conn.close()


def child(kind: str, path: Path) -> None:
    """Run one measurement in this process and print seconds and peak memory as JSON.

    Each side times its work alone: the query from execute to the last row fetched, the
    planner from the call to its result (not the import of the package or opening the store).
    """
    if kind in ("query", "query-ordinary"):
        day = TODAY if kind == "query" else ORDINARY_DAY
        conn = sqlite3.connect(path)
        started = time.perf_counter()
        rows = conn.execute(BARE_QUERY, (f"{day + dt.timedelta(days=1)} 00:00:00",)).fetchall()
        count = len(rows)
        conn.close()
    else:
        from cardsender.config.loading import parse_config
        from cardsender.planning.agenda import forecast, plan_touches
        from cardsender.store import Store

        config = parse_config({"office": {"start_date": "2026-01-01"}}, None)
        with Store.open(f"sqlite:///{path}") as store:
            started = time.perf_counter()
            if kind == "plan":
                count = len(plan_touches(store, config, TODAY))
            elif kind == "plan-ordinary":
                count = len(plan_touches(store, config, ORDINARY_DAY))
            else:
                count = len(forecast(store, config, TODAY, TODAY + dt.timedelta(days=364)).touches)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": count}))


def measure(kind: str, path: Path, repeat: int) -> tuple[float, float, int]:
    """Return the median seconds, the largest peak memory and the row count of ``repeat`` fresh runs."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--db", str(path)], check=True, capture_output=True, text=True
        )
        runs.append(json.loads(out.stdout))
    return (
        statistics.median(r["seconds"] for r in runs),
        max(r["peak_mb"] for r in runs),
        runs[0]["rows"],
    )


def main() -> None:
    """Build the data, run the measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--forecast-customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["query", "query-ordinary", "plan", "plan-ordinary", "forecast"])
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db)
        return
    with tempfile.TemporaryDirectory() as tmp:
        big, small, steady = Path(tmp, "plan.db"), Path(tmp, "forecast.db"), Path(tmp, "steady.db")
        build_database(big, args.customers, args.events)
        build_database(steady, args.customers, args.events, history_days=STEADY_HISTORY_DAYS, end=ORDINARY_DAY)
        build_database(small, args.forecast_customers, args.forecast_customers * 10)
        query_s, query_mb, rows = measure("query", big, args.repeat)
        plan_s, plan_mb, planned = measure("plan", big, args.repeat)
        steady_query_s, _, _ = measure("query-ordinary", steady, args.repeat)
        ordinary_s, ordinary_mb, ordinary_planned = measure("plan-ordinary", steady, args.repeat)
        forecast_s, forecast_mb, touches = measure("forecast", small, args.repeat)
    ratio = plan_s / query_s
    print(f"plan one day, {args.customers:,} customers, {args.events:,} events (median of {args.repeat})")
    print(f"worst case: {TODAY}, Thanksgiving week, a year of history with many customers overdue")
    print(f"  bare SQL query     {query_s:7.2f} s  {query_mb:6.0f} MB peak  {rows:,} rows")
    print(f"  plan               {plan_s:7.2f} s  {plan_mb:6.0f} MB peak  {planned:,} touches due")
    print(f"  ratio plan/query   {ratio:7.2f}    (target <= 1.5; peak memory target <= 500 MB)")
    print(f"steady state: {ORDINARY_DAY}, everyone touched within {STEADY_HISTORY_DAYS} days")
    print(f"  bare SQL query     {steady_query_s:7.2f} s")
    print(f"  plan               {ordinary_s:7.2f} s  {ordinary_mb:6.0f} MB peak  {ordinary_planned:,} touches due")
    print(f"  ratio plan/query   {ordinary_s / steady_query_s:7.2f}    (target <= 1.5)")
    print(f"forecast 365 days, {args.forecast_customers:,} customers")
    print(f"  forecast           {forecast_s:7.2f} s  {forecast_mb:6.0f} MB peak  {touches:,} touches (target <= 10 s)")


if __name__ == "__main__":
    main()

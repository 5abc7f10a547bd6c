"""Time customer and history imports into a fresh SQLite database, and measure their peak memory.

Usage: python bench/bench_import.py [--customers 100000] [--events 1000000] [--repeat 3] [--also-half]

The files are generated first (not timed).  Each import runs in its own child
process, so its peak memory (``ru_maxrss``: the peak resident set size of that
process, interpreter and libraries included) belongs to that import alone; the
growth during the import is the peak minus the peak before the first row.
``--also-half`` repeats with half the customers and half the history rows (over
the same customers), to show that peak memory does not grow with the history
file; the customer import keeps one dict entry per customer id.
Targets: 100,000 customers in 5 s, 1,000,000 history rows in 30 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

CUSTOMER_TARGET_S = 5.0
HISTORY_TARGET_S = 30.0
FIRST = ["Zoë", "Łukasz", "José", "Ana", "John", "Mary", "Ahmed", "Yuki", "An", "Olivia", "Noah", "Emma", "Liam"]
LAST = ["Ødegård", "Żółć", "García", "Smith", "Nguyễn", "Yamada", "Brown", "Martin", "Tremblay", "Müller"]
DOMAINS = ["example.com", "gmail.com", "outlook.com", "yahoo.ca", "shop.example.org", "mail.example.fr"]
KINDS = ["purchase", "call", "visit", "email", "meeting", "card", "note"]
HEADER = [
    "id",
    "first_name",
    "last_name",
    "email",
    "birthday",
    "country",
    "subdivision",
    "street",
    "city",
    "postal_code",
    "channel",
    "language",
    "owner",
    "customer_since",
    "no_email",
    "no_post",
    "no_humor",
    "do_not_contact",
    "notes",
]


def write_customers(path: Path, count: int, rng: random.Random) -> None:
    """Write ``count`` customers with every column filled, as a spreadsheet would."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            year = rng.choice(["", str(rng.randint(1940, 2005))])
            birthday = f"{year or '-'}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            writer.writerow(
                [
                    f"C{n:07d}",
                    first,
                    last,
                    f"customer{n}@{rng.choice(DOMAINS)}",
                    birthday,
                    "CA",
                    "ON",
                    f"{rng.randint(1, 999)} Main St",
                    "Toronto",
                    "M5V 2T6",
                    "",
                    "en",
                    "Ann",
                    f"20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                    "",
                    "",
                    "no",
                    "",
                    "Likes tea, not coffee",
                ]
            )


def write_history(path: Path, count: int, customers: int, rng: random.Random) -> None:
    """Write ``count`` contact events spread over three years."""
    start = dt.datetime(2023, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer_id", "date", "kind", "summary"])
        for _ in range(count):
            when = start + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            text = when.strftime("%Y-%m-%d %H:%M") if rng.random() < 0.5 else when.strftime("%Y-%m-%d")
            kind = rng.choice(KINDS)
            writer.writerow([f"C{rng.randrange(customers):07d}", text, kind, f"{kind} #{rng.randrange(1000)}"])


def run_child(kind: str, db: Path, source: Path) -> dict[str, float]:
    """Import one file in a fresh process; return its seconds, row counts and memory."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(db), str(source)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def peak_rss_mib() -> float:
    """Return this process's peak resident set size so far (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, db: Path, source: Path) -> None:
    """Run one import and print its figures as JSON (the child side of ``run_child``)."""
    from cardsender.importers import import_customers, import_history
    from cardsender.store import Store

    today, now = dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 12)
    calls = 0

    def progress(_done: int, _total: int) -> None:
        nonlocal calls
        calls += 1

    store = Store.open(f"sqlite:///{db}")
    importer = import_customers if kind == "customers" else import_history
    baseline = peak_rss_mib()  # interpreter, libraries and an open database, before any row
    started = time.perf_counter()
    result = importer(store, source, today=today, now=now, progress=progress)
    seconds = time.perf_counter() - started
    store.close()
    figures = {
        "seconds": seconds,
        "added": result.added,
        "updated": result.updated,
        "skipped": result.skipped,
        "rejected": result.rejected_count,
        "progress_calls": calls,
        "baseline_rss_mib": baseline,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(figures))


def report(kind: str, rows: int, target: float, runs: list[dict[str, float]]) -> float:
    """Print the median time and the peak memory of some runs; return the peak."""
    seconds = statistics.median(run["seconds"] for run in runs)
    peak = max(run["peak_rss_mib"] for run in runs)
    growth = max(run["peak_rss_mib"] - run["baseline_rss_mib"] for run in runs)
    last = runs[-1]
    print(
        f"  {kind:9} {rows:>9,} rows  median {seconds:6.2f} s  {rows / seconds:8,.0f} rows/s  "
        f"target {target:.0f} s ({seconds / target:.0%})  peak RSS {peak:.0f} MiB (+{growth:.0f} during the import)  "
        f"added {last['added']:,.0f} skipped {last['skipped']:,.0f} rejected {last['rejected']:,.0f}"
    )
    return peak


def bench(
    customers: int, events: int, repeat: int, folder: Path, seed: Path | None = None
) -> tuple[float, float, Path]:
    """Generate the files, time each import ``repeat`` times, print medians; return the peaks and the seeded db.

    History is imported into a copy of ``seed`` (a database holding its customers),
    or of the database the customer import made.
    """
    rng = random.Random(20261122)
    customer_file, history_file = folder / f"customers-{customers}.csv", folder / f"history-{events}.csv"
    write_customers(customer_file, customers, rng)
    known = customers
    if seed is not None:
        with closing(sqlite3.connect(seed)) as seeded:
            known = int(seeded.execute("SELECT count(*) FROM customers").fetchone()[0])
    write_history(history_file, events, known, rng)
    sizes = customer_file.stat().st_size / 2**20, history_file.stat().st_size / 2**20
    print(f"{customers:,} customers ({sizes[0]:.1f} MiB); ", end="")
    print(f"{events:,} history rows of {known:,} customers ({sizes[1]:.1f} MiB); {repeat} runs each")
    customer_runs: list[dict[str, float]] = []
    history_runs: list[dict[str, float]] = []
    for n in range(repeat):
        db = folder / f"customers-{customers}-{n}.db"
        customer_runs.append(run_child("customers", db, customer_file))
        seed = seed or db
    assert seed is not None
    for n in range(repeat):
        db = folder / f"history-{events}-{n}.db"
        shutil.copy(seed, db)
        history_runs.append(run_child("history", db, history_file))
        for leftover in folder.glob(f"{db.name}*"):
            leftover.unlink()
    customer_peak = report("customers", customers, CUSTOMER_TARGET_S, customer_runs)
    history_peak = report("history", events, HISTORY_TARGET_S, history_runs)
    return customer_peak, history_peak, seed


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--also-half", action="store_true", help="repeat at half size and compare peak memory")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, db, source = args.child
        child(kind, Path(db), Path(source))
        return
    with tempfile.TemporaryDirectory(prefix="cardsender-bench-") as name:
        folder = Path(name)
        customer_peak, history_peak, seed = bench(args.customers, args.events, args.repeat, folder)
        if args.also_half:
            # Half the customer file; half the history file, over the same customers as before.
            half_customers, half_history, _ = bench(args.customers // 2, args.events // 2, args.repeat, folder, seed)
            print(
                f"  peak RSS full size / half size: customers {customer_peak / half_customers:.2f}, "
                f"history {history_peak / half_history:.2f}"
            )


if __name__ == "__main__":
    main()

"""Run every benchmark and print one table: each figure, its baseline from the same run, the ratio, the target.

    python bench/run.py            # the full sizes the targets are set at (several minutes)
    python bench/run.py --quick    # smaller sizes, in about a minute

Each benchmark runs as its own process (its full output is shown with --verbose); this
script reads the figures back from what they print.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
QUICK = {
    "bench_import.py": ["--customers", "10000", "--events", "100000", "--repeat", "1"],
    "bench_plan.py": ["--customers", "10000", "--events", "100000", "--forecast-customers", "1000", "--repeat", "1"],
    "bench_render.py": ["--cards", "2000", "--repeat", "3"],
    "bench_send.py": ["--messages", "200", "--repeat", "1"],
    "bench_print.py": ["--cards", "1000", "--repeat", "1"],
    "bench_footprint.py": ["--idle-seconds", "4", "--repeat", "3"],
    "bench_services.py": ["--cards", "200", "--repeat", "1"],
}
NUMBER = r"([\d,]+(?:\.\d+)?)"
# No number is set for several services; on 2 cores, more services must at least not be slower than one.
TARGET_SERVICES = ">= 1.0 (2 cores)"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table."""

    name: str
    figure: str
    baseline: str
    ratio: str
    target: str


def number(pattern: str, text: str) -> float:
    """Return the first number a pattern captures in a benchmark's output."""
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"no match for {pattern!r}")
    return float(found.group(1).replace(",", ""))


def rows_of(script: str, out: str) -> list[Row]:
    """Read a benchmark's figures from its output."""
    if script == "bench_import.py":
        customers = number(r"customers\s+[\d,]+ rows\s+median\s+([\d.]+) s", out)
        history = number(r"history\s+[\d,]+ rows\s+median\s+([\d.]+) s", out)
        return [
            Row("import customers", f"{customers:.2f} s", "", "", "<= 5 s at 100,000"),
            Row("import history", f"{history:.2f} s", "", "", "<= 30 s at 1,000,000"),
        ]
    if script == "bench_plan.py":
        query = number(rf"bare SQL query\s+{NUMBER} s", out)
        plan = number(rf"\n  plan\s+{NUMBER} s", out)
        steady_query = number(rf"steady state.*\n  bare SQL query\s+{NUMBER} s", out)
        steady = number(rf"steady state.*\n.*\n  plan\s+{NUMBER} s", out)
        forecast = number(rf"forecast\s+{NUMBER} s", out)
        return [
            Row("plan one day, worst week", f"{plan:.2f} s", f"{query:.2f} s (SQL)", f"{plan / query:.2f}", "<= 1.5"),
            Row(
                "plan one day, ordinary",
                f"{steady:.2f} s",
                f"{steady_query:.2f} s (SQL)",
                f"{steady / steady_query:.2f}",
                "<= 1.5",
            ),
            Row("forecast 365 days", f"{forecast:.2f} s", "", "", "<= 10 s at 10,000"),
        ]
    if script == "bench_render.py":
        bare = number(rf"bare jinja2 Environment\s+{NUMBER} s", out)
        ours = number(rf"cardsender \(sandboxed\)\s+{NUMBER} s", out)
        return [Row("render cards", f"{ours:.2f} s", f"{bare:.2f} s (Jinja2)", f"{bare / ours:.2f}", ">= 0.5")]
    if script == "bench_send.py":
        bare = number(rf"bare smtplib, one connection\s+[\d.]+ s\s+{NUMBER} msg/s", out)
        ours = number(rf"cardsender SendCycle.run\s+[\d.]+ s\s+{NUMBER} msg/s", out)
        return [Row("send email", f"{ours:,.0f} msg/s", f"{bare:,.0f} msg/s (smtplib)", f"{ours / bare:.2f}", ">= 0.9")]
    if script == "bench_print.py":
        bare = number(rf"bare canvas loop\s+[\d.]+ s\s+{NUMBER} pages/s", out)
        ours = number(rf"cardsender batch\s+[\d.]+ s\s+{NUMBER} pages/s", out)
        memory = number(rf"cardsender batch\s+[\d.]+ s\s+[\d,]+ pages/s\s+{NUMBER} MB", out)
        return [
            Row("print cards", f"{ours:,.0f} pages/s", f"{bare:,.0f} pages/s (canvas)", f"{ours / bare:.2f}", ">= 0.5"),
            Row("print memory", f"{memory:.0f} MB", "", "", "<= 300 MB at 10,000"),
        ]
    if script == "bench_footprint.py":
        bare = number(rf"python -c pass\s+{NUMBER} s", out)
        helped = number(rf"cardsender --help\s+{NUMBER} s", out)
        memory = number(rf"resident memory\s+{NUMBER} MB", out)
        cpu = number(rf"CPU\s+{NUMBER} %", out)
        return [
            Row("cardsender --help", f"{helped:.3f} s", f"{bare:.3f} s (python)", "", "<= 0.15 s"),
            Row("idle service memory", f"{memory:.0f} MB", "", "", "<= 80 MB"),
            Row("idle service CPU", f"{cpu:.2f} %", "", "", "< 1 %"),
        ]
    if script == "bench_services.py":
        skipped = re.search(r"^skipped: (.*)$", out, re.MULTILINE)
        if skipped:
            return [Row("4-service PostgreSQL", "skipped", "", "", skipped.group(1))]
        rates = {n: number(rf"\n  {n} services?\s+[\d.]+ s\s+{NUMBER} cards/s", out) for n in (1, 2, 4)}
        one = f"{rates[1]:,.1f} cards/s (1 service)"
        return [
            Row("4-service PostgreSQL: 1 service", f"{rates[1]:,.1f} cards/s", "", "", ""),
            Row(
                "4-service PostgreSQL: 2 services",
                f"{rates[2]:,.1f} cards/s",
                one,
                f"{rates[2] / rates[1]:.2f}",
                TARGET_SERVICES,
            ),
            Row(
                "4-service PostgreSQL: 4 services",
                f"{rates[4]:,.1f} cards/s",
                one,
                f"{rates[4] / rates[1]:.2f}",
                TARGET_SERVICES,
            ),
        ]
    raise ValueError(script)


def main() -> None:
    """Run the benchmarks one after the other and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Smaller sizes, in about a minute.")
    parser.add_argument("--verbose", action="store_true", help="Also show each benchmark's own output.")
    args = parser.parse_args()
    table: list[Row] = []
    started = time.monotonic()
    for script, quick in QUICK.items():
        command = [sys.executable, str(HERE / script), *(quick if args.quick else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if args.verbose:
            print(done.stdout)
        if done.returncode != 0:
            table.append(Row(script, "failed", "", "", done.stderr.strip().splitlines()[-1] if done.stderr else ""))
            continue
        table.extend(rows_of(script, done.stdout))
    headers = Row("benchmark", "figure", "baseline (same run)", "ratio", "target")
    widths = [max(len(getattr(r, f)) for r in (headers, *table)) for f in Row.__slots__]
    for row in (headers, *table):
        print("  ".join(getattr(row, f).ljust(w) for f, w in zip(Row.__slots__, widths, strict=True)).rstrip())
    size = "quick sizes" if args.quick else "full sizes"
    print(f"{len(table)} figures at {size} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

"""The benchmarks still run against the code as it is: each prints its figures at a tiny size (no timing is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "args", "figure"),
    [
        ("bench_render.py", ["--cards", "40", "--repeat", "1"], "speed ratio"),
        ("bench_print.py", ["--cards", "20", "--repeat", "1"], "pages/s"),
        (
            "bench_plan.py",
            ["--customers", "200", "--events", "1000", "--forecast-customers", "50", "--repeat", "1"],
            "s",
        ),
        ("bench_import.py", ["--customers", "200", "--events", "1000", "--repeat", "1"], "median"),
    ],
)
def test_a_benchmark_runs_and_prints_its_figures(script: str, args: list[str], figure: str) -> None:
    """A benchmark broken by a change in the library fails here, not first when someone measures."""
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert figure in done.stdout

"""Benchmark the service's footprint: an idle service's memory and CPU, and how fast the command line starts.

Targets: an idle service at most 80 MB resident and under 1% CPU over 60 seconds;
``cardsender --help`` in at most 0.15 s wall, measured beside ``python -c pass`` in the
same run (medians of several runs).  Linux: memory and CPU are read from /proc.

    python bench/bench_footprint.py [--idle-seconds 60] [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(command: list[str], repeat: int) -> float:
    """Return the median wall time of running a command."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time a process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    """Measure the command line's start, then a demo service left idle."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "cardsender"
    bare = wall([sys.executable, "-c", "pass"], args.repeat)
    helped = wall([str(script), "--help"], args.repeat)
    print(f"start-up (median of {args.repeat})")
    print(f"  python -c pass        {bare:6.3f} s")
    print(f"  cardsender --help     {helped:6.3f} s   (target <= 0.15 s; {helped - bare:.3f} s more than bare Python)")
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp, "demo")
        subprocess.run([str(script), "demo", str(demo)], check=True, capture_output=True)
        env = dict(os.environ, XDG_STATE_HOME=str(Path(tmp, "state")))
        service = subprocess.Popen(
            [str(script), "--config", str(demo / "cardsender.toml"), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            time.sleep(10)  # start-up and its first cycle
            before, started = cpu_seconds(service.pid), time.monotonic()
            peak = 0.0
            while time.monotonic() - started < args.idle_seconds:
                peak = max(peak, rss_mb(service.pid))
                time.sleep(1)
            used = cpu_seconds(service.pid) - before
            share = 100 * used / (time.monotonic() - started)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=60)
    print(f"idle service over {args.idle_seconds:.0f} s")
    print(f"  resident memory       {peak:6.1f} MB   (target <= 80 MB)")
    print(f"  CPU                   {share:6.2f} %    (target < 1 %)")


if __name__ == "__main__":
    main()

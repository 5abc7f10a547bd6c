"""Benchmark print batches: 10,000 quarter-fold cards in one batch against a bare reportlab canvas loop.

Target: at least 0.5 times the pages per second of a bare canvas loop that
draws the same text with the same embedded font, measured in the same run; peak memory
at most 300 MB at 10,000 cards.  Each run is a fresh process, so its peak memory
(``ru_maxrss``) is its own; the figures are medians of several runs.

    python bench/bench_print.py [--cards 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["Zoë", "Łukasz", "José", "Ana", "John", "Ольга", "Nguyễn", "Élodie", "Ahmed", "Mary"]
LAST = ["Ødegård", "Żółć", "García", "Smith", "Ковальчук", "Văn An", "Tremblay", "Bello", "Walsh"]
# Every card's words differ (a name and an order number), as real cards do: nothing can be reused across cards.
INSIDE = (
    "Dear {name},\n\nHappy birthday! Wishing you good company, something delicious and a little time just "
    "for you.\n\nAnd maybe a quiet moment with the Road bike from order {order}, too.\n\nWarmly,\nMaria and the team"
)


def make_cards(count: int) -> list[object]:
    """Return ``count`` printed cards with varied names (not timed)."""
    from cardsender.cards.render import RenderedCard
    from cardsender.printing.layout import PrintedCard

    cards: list[object] = []
    for n in range(count):
        name = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
        card = RenderedCard(
            "birthday",
            "v1",
            "en",
            "Happy birthday",
            "",
            "",
            f"Happy birthday, {name.split()[0]}!",
            INSIDE.format(name=name.split()[0], order=1000 + n),
        )
        cards.append(
            PrintedCard(
                n,
                f"C{n:05d}",
                name,
                "Birthday",
                card,
                "Road bike (March 3, 2026)",
                "",
                3,
                "Ann",
                "Ask how the Road bike is working out.",
                ("1 Main St", "Springfield"),
            )
        )
    return cards


def child(kind: str, count: int, out: Path) -> None:
    """Run one measurement in this process and print seconds, pages and peak memory as JSON."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen.canvas import Canvas

    from cardsender.printing.layout import BOLD, FONT, write_batch_pdf

    cards = make_cards(count)
    started = time.perf_counter()
    if kind == "bare":
        canvas = Canvas(str(out), pagesize=letter, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
        for item in cards:
            card = item.card  # type: ignore[attr-defined]
            canvas.setFont(BOLD, 20)
            canvas.drawCentredString(459, 200, card.card_front)
            canvas.saveState()
            canvas.translate(612, 792)
            canvas.rotate(180)
            canvas.setFont(FONT, 11)
            y = 370.0
            for line in card.card_inside.splitlines():
                canvas.drawString(29, y, line)
                y -= 15
            canvas.restoreState()
            canvas.showPage()
        canvas.save()
        pages = count
    else:
        write_batch_pdf(cards, out, "bench", "Harbour Street Bikes")  # type: ignore[arg-type]
        pages = count + (count + 13) // 14  # the cards and the guide
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "pages": pages, "peak_mb": peak_mb}))


def measure(kind: str, count: int, repeat: int, folder: Path) -> tuple[float, int, float]:
    """Return the median seconds, the pages and the largest peak memory of ``repeat`` fresh runs."""
    runs = []
    for n in range(repeat):
        out = folder / f"{kind}-{n}.pdf"
        done = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--cards", str(count), "--out", str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout))
        out.unlink()
    return statistics.median(r["seconds"] for r in runs), runs[0]["pages"], max(r["peak_mb"] for r in runs)


def main() -> None:
    """Run both measurements and print the figures and the ratio of pages per second."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["bare", "batch"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.cards, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bare_s, bare_pages, bare_mb = measure("bare", args.cards, args.repeat, Path(tmp))
        batch_s, batch_pages, batch_mb = measure("batch", args.cards, args.repeat, Path(tmp))
    bare_rate, batch_rate = bare_pages / bare_s, batch_pages / batch_s
    print(f"print {args.cards:,} quarter-fold cards in one batch (median of {args.repeat})")
    print(f"  bare canvas loop   {bare_s:7.2f} s  {bare_rate:8,.0f} pages/s  {bare_mb:6.0f} MB peak")
    print(f"  cardsender batch   {batch_s:7.2f} s  {batch_rate:8,.0f} pages/s  {batch_mb:6.0f} MB peak")
    print(f"  ratio              {batch_rate / bare_rate:7.2f}    (target >= 0.5; peak memory target <= 300 MB)")


if __name__ == "__main__":
    main()

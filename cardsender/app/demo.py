"""``cardsender demo``: a folder that shows everything cardsender does, on bundled sample data.

It makes a workspace with the file transport, imports about 50 sample customers with a
year of history, runs one send cycle as of today (the cards land as .eml files in
``outbox/``), and writes card previews, today's print batch, the forecast page and
the owner's report, so a first look needs nothing but Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cardsender.app.workspace import Demo, create_demo
from cardsender.cards import context as cards
from cardsender.config.loading import load_config
from cardsender.domain.errors import CardsenderError
from cardsender.planning import agenda
from cardsender.printing import batches as printing
from cardsender.sending.cycle import CycleReport, SendCycle
from cardsender.sending.transport import FileTransport
from cardsender.store import Store
from cardsender.system.private import make_private, open_private, private_folder

# Cards to preview: an English birthday, a French check-in, a Japanese thank-you, and a posted card.
PREVIEWS = (
    ("C001", "birthday", "html"),
    ("C003", "check_in", "html"),
    ("C012", "thank_you", "html"),
    ("C004", "birthday", "png"),
)


@dataclass(slots=True)
class DemoRun:
    """The demo folder and every file it wrote."""

    made: Demo
    cycle: CycleReport
    previews: list[Path] = field(default_factory=list)
    batch: Path | None = None
    forecast: Path | None = None
    report: Path | None = None


def run_demo(directory: Path, *, today: dt.date, now: dt.datetime, office_now: dt.datetime) -> DemoRun:
    """Make the demo folder and run everything once as of today."""
    from cardsender.printing.card_pdf import write_card_pdf, write_page_png
    from cardsender.reports.forecast_page import write_forecast_html
    from cardsender.reports.report_pdf import write_report_pdf

    made = create_demo(directory, today=today, now=now)
    config = load_config(made.workspace.config_path)
    with Store.open(config.database.url) as store:
        cycle = SendCycle(
            store, config, today=today, now=lambda: now, office_now=office_now, worker="demo", sleep=lambda _: None
        )
        report = cycle.run(FileTransport(config.email.outbox_dir))
        done = DemoRun(made, report)
        folder = private_folder(directory / "previews")
        for customer_id, occasion, kind in PREVIEWS:
            shown = cards.preview_card(store, config, customer_id, occasion, today, "post" if kind == "png" else None)
            target = folder / f"{customer_id}-{occasion}.{kind}"
            if kind == "html":
                with open_private(target, "w", encoding="utf-8") as fh:
                    fh.write(shown.card.html)
            else:
                pdf = target.with_suffix(".pdf")
                write_card_pdf(shown.card, pdf)
                write_page_png(pdf, target)
                done.previews.append(pdf)
            done.previews.append(target)
        try:
            batch = printing.print_batch(
                store,
                config,
                first=today,
                last=today + dt.timedelta(days=6),
                out=directory / "print-this-week.pdf",
                today=today,
                now=now,
            )
            done.batch = batch.path
        except CardsenderError:
            done.batch = None  # nothing that can be printed this week; the demo goes on
        done.forecast = directory / "forecast.html"
        ahead = agenda.forecast(store, config, today, today + dt.timedelta(days=364))
        write_forecast_html(ahead, done.forecast, office_name=config.office.name)
        done.report = directory / "report.pdf"
        coverage = agenda.coverage_report(store, config, today)
        write_report_pdf(coverage, done.report, office_name=config.office.name, keep_in_touch=config.keep_in_touch)
    # The PDF and image writers create their files with the umask's mode; every file here names customers.
    for path in (*done.previews, done.forecast, done.report):
        make_private(path)
    return done

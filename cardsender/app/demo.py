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

from cardsender.app.office import Office, file_transport
from cardsender.app.workspace import Demo, create_demo
from cardsender.config.loading import load_config
from cardsender.domain.errors import CardsenderError
from cardsender.sending.cycle import CycleReport
from cardsender.system.clock import Clock
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


def run_demo(directory: Path, clock: Clock) -> DemoRun:
    """Make the demo folder and run everything once as of the clock's moment."""
    from cardsender.app.workspace import example_timezone

    clock = clock.frozen()
    moment = clock.moment(example_timezone())
    today = moment.today
    made = create_demo(directory, today=today, now=moment.utc)
    config = load_config(made.workspace.config_path)
    with Office(config, clock=clock) as office:
        # The demo's cards land as files in its outbox, whatever its config says; no pause between them.
        sent = office.send_due(transport=file_transport(config.email.outbox_dir), worker="demo", sleep=lambda _: None)
        done = DemoRun(made, sent.report)
        folder = private_folder(directory / "previews")
        for customer_id, occasion, kind in PREVIEWS:
            target = folder / f"{customer_id}-{occasion}.{kind}"
            if kind == "html":
                shown = office.preview(customer_id, occasion, "html")
                with open_private(target, "w", encoding="utf-8") as fh:
                    fh.write(shown.body or "")
            else:
                pdf = office.preview(customer_id, occasion, "pdf", out=target.with_suffix(".pdf")).written
                assert pdf is not None
                office.preview(customer_id, occasion, "png", out=target)
                done.previews.append(pdf)
            done.previews.append(target)
        try:
            batch = office.print_batch(today, today + dt.timedelta(days=6), out=directory / "print-this-week.pdf")
            done.batch = batch.batch.path
        except CardsenderError:
            done.batch = None  # nothing that can be printed this week; the demo goes on
        done.forecast = office.forecast(today, today + dt.timedelta(days=364), page=directory / "forecast.html").page
        done.report = office.report(pdf=directory / "report.pdf").pdf
    # The PDF and image writers create their files with the umask's mode; every file here names customers.
    for path in (*done.previews, done.forecast, done.report):
        if path is not None:
            make_private(path)
    return done

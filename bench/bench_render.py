"""Benchmark card rendering: 10,000 cards (subject, text and HTML) through cardsender's sandboxed templates.

Target: at least 0.5 times the speed of a bare Jinja2 ``Environment``
rendering the same template files with the same data, measured in the same run.
Both sides render from compiled templates (each is rendered once before timing);
the figure is the median of several runs.

    python bench/bench_render.py [--cards 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from cardsender.cards.context import card_context, sample_customers
from cardsender.cards.render import CardTemplates
from cardsender.config.model import OfficeConfig
from cardsender.domain.occasions import ACCENTS, DEFAULT_ACCENT
from cardsender.domain.records import CARD_OCCASIONS
from cardsender.system import paths

PARTS = ("subject.txt", "body.txt", "body.html")
OFFICE = OfficeConfig(
    name="Harbour Street Bikes",
    sender_name="Maria Lopez",
    signature="Maria and the team",
    postal_address="12 Harbour Street\nPortland, ME 04101",
)


def workload(templates: CardTemplates, cards: int) -> list[tuple[list[str], dict[str, Any]]]:
    """Return, for each card, the template names of its parts and its variables."""
    today = dt.date(2026, 3, 5)
    samples = sample_customers()
    jobs: list[tuple[list[str], dict[str, Any]]] = []
    for n in range(cards):
        _, customer, history = samples[n % len(samples)]
        occasion = CARD_OCCASIONS[n % len(CARD_OCCASIONS)]
        variants = templates.variants(occasion)
        variant = variants[n % len(variants)]
        note = "See you at the Sunday ride!" if n % 3 == 0 else ""
        context = card_context(
            customer, history, occasion=occasion, occasion_date=today, today=today, office=OFFICE, note=note
        )
        names = [templates.template_name(occasion, variant, part, context.language) for part in PARTS]
        jobs.append((names, context.variables))
    return jobs


def run_ours(templates: CardTemplates, jobs: list[tuple[list[str], dict[str, Any]]]) -> float:
    """Render every card through CardTemplates (name lookup, sandbox, error wrapping) and return the seconds."""
    started = time.perf_counter()
    for names, variables in jobs:
        for name in names:
            templates.render_part(name, variables)
    return time.perf_counter() - started


def run_bare(env: Environment, jobs: list[tuple[list[str], dict[str, Any]]]) -> float:
    """Render the same templates with the same data through a bare Environment and return the seconds."""
    started = time.perf_counter()
    for names, variables in jobs:
        for name in names:
            env.get_template(name).render(variables).strip()
    return time.perf_counter() - started


def main() -> None:
    """Render the cards both ways, several times, and print the medians and the ratio of speeds."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    templates = CardTemplates(paths.bundled_templates() / "cards")
    bare = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(root)) for root in templates.roots]),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # The email layout colours its band from the occasion table: the bare side gets the same table to read.
    bare.globals.update(accents=dict(ACCENTS), default_accent=DEFAULT_ACCENT)
    jobs = workload(templates, args.cards)
    run_ours(templates, jobs[: len(CARD_OCCASIONS) * 8])  # compile every template once on each side
    run_bare(bare, jobs[: len(CARD_OCCASIONS) * 8])
    ours, plain = [], []
    for _ in range(args.repeat):  # interleaved, so a busy moment of the machine falls on both sides
        ours.append(run_ours(templates, jobs))
        plain.append(run_bare(bare, jobs))
    ours_s, bare_s = statistics.median(ours), statistics.median(plain)
    print(f"render {args.cards:,} cards (subject, text, HTML), median of {args.repeat}")
    print(f"  bare jinja2 Environment   {bare_s:6.2f} s  {args.cards / bare_s:8,.0f} cards/s")
    print(f"  cardsender (sandboxed)    {ours_s:6.2f} s  {args.cards / ours_s:8,.0f} cards/s")
    print(f"  speed ratio               {bare_s / ours_s:6.2f}    (target >= 0.5)")


if __name__ == "__main__":
    main()

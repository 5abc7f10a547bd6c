"""The forecast as one self-contained HTML page: cards per day as a calendar, the gaps as a histogram, a summary.

The page has no scripts and no external resources (inline CSS and SVG), so it can
be mailed or opened from a USB stick.  All geometry is computed here; the
template only writes it out, with every customer id and office name escaped.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import jinja2

from cardsender.domain.occasions import occasion_label
from cardsender.planning.agenda import Forecast, occasion_order

# The template's name does not end in .html, so select_autoescape would leave it unescaped: escape always.
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATE = "forecast.html.j2"

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Calendar geometry in px: a square, the distance between squares, room for the labels.
CELL, PITCH, CAL_LEFT, CAL_TOP = 11, 14, 30, 16
# Histogram geometry in px, and at most this many bars (wider bins beyond that).
BAR_WIDTH, PLOT_HEIGHT, HIST_LEFT, HIST_TOP, HIST_BOTTOM, MAX_BARS = 22, 160, 44, 34, 40, 36
# Customers over the limit listed by name and id in each group; the rest are counted.
MAX_LISTED = 50
# The colour of each level, from no cards to the most; set as attributes so viewers without CSS see them too.
COLOURS = ("#ebedf0", "#9be9a8", "#40c463", "#30a14e", "#216e39")


@dataclass(frozen=True, slots=True)
class Square:
    """One day of the calendar."""

    x: int
    y: int
    day: str
    level: int
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    """A text placed in a chart."""

    x: int
    y: int
    text: str


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """The days of one calendar year within the range, a column per week from Monday."""

    year: int
    width: int
    height: int
    squares: list[Square]
    months: list[Label]
    weekdays: list[Label]


@dataclass(frozen=True, slots=True)
class LegendStep:
    """One colour of the scale and the counts it stands for."""

    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One bin of the gap histogram."""

    x: int
    y: int
    height: int
    count: int
    over: bool
    title: str


@dataclass(frozen=True, slots=True)
class Histogram:
    """The contactable customers counted by their longest gap, with the limit as a vertical line."""

    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    bar_width: int
    bars: list[Bar]
    limit_x: int
    x_ticks: list[Label]
    y_ticks: list[Label]


@dataclass(frozen=True, slots=True)
class MonthRow:
    """Cards per occasion in one month."""

    month: str
    counts: list[int]
    total: int


def write_forecast_html(forecast: Forecast, path: Path, *, office_name: str) -> None:
    """Write the forecast as a self-contained HTML page."""
    per_day = forecast.cards_per_day()
    scale = _scale(list(per_day.values()))
    contactable = forecast.contactable
    overdue = sorted(forecast.overdue_at_start, key=lambda c: c.customer_id)
    caused = sorted(forecast.breached_by_plan, key=lambda c: c.customer_id)
    per_month = forecast.cards_per_month()
    occasions = sorted({name for counts in per_month.values() for name in counts}, key=occasion_order)
    before = forecast.counted_before
    html = _ENV.get_template(TEMPLATE).render(
        office_name=office_name,
        first=forecast.first.isoformat(),
        last=forecast.last.isoformat(),
        days=len(per_day),
        customers=len(forecast.customers),
        contactable=len(contactable),
        cards=forecast.card_count,
        longest_gap=max((c.max_gap_days for c in contactable), default=0),
        limit_days=forecast.limit_days,
        overdue_listed=[(c.who, c.max_gap_days) for c in overdue[:MAX_LISTED]],
        overdue_count=len(overdue),
        overdue_unlisted=max(len(overdue) - MAX_LISTED, 0),
        caused_listed=[(c.who, c.gap_of_plan) for c in caused[:MAX_LISTED]],
        caused_count=len(caused),
        caused_unlisted=max(len(caused) - MAX_LISTED, 0),
        occasions=[occasion_label(name) for name in occasions],
        months=[
            MonthRow(_month_name(month), [counts.get(name, 0) for name in occasions], sum(counts.values()))
            for month, counts in per_month.items()
        ],
        occasion_totals=[sum(counts.get(name, 0) for counts in per_month.values()) for name in occasions],
        table_total=sum(sum(counts.values()) for counts in per_month.values()),
        sent_before=len(before),
        month_start=before[0].day.replace(day=1).isoformat() if before else "",
        day_before=(forecast.first - dt.timedelta(days=1)).isoformat(),
        calendars=_calendars(per_day, scale),
        colours=COLOURS,
        early_cards=sum(1 for touch in forecast.touches if touch.occasion_date < forecast.first),
        late_cards=sum(1 for touch in forecast.touches if touch.occasion_date > forecast.last),
        legend=_legend(scale),
        histogram=_histogram([c.max_gap_days for c in contactable], forecast.limit_days) if contactable else None,
    )
    path.write_text(html, encoding="utf-8")


def _month_name(month: str) -> str:
    """Return "2026-03" as "Mar 2026"."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _scale(counts: list[int]) -> list[tuple[int, int]]:
    """Return the colour levels in use as (highest count, level), from the quartiles of the busy days.

    Quartiles rather than equal steps, so that a few peaks (April 1, Thanksgiving)
    do not paint every ordinary day the palest green.  When quartiles coincide,
    the levels in use are spread over 1 to 4, so the busiest day is always the darkest.
    """
    busy = sorted(count for count in counts if count)
    quartiles = sorted({busy[math.ceil(k * len(busy) / 4) - 1] for k in range(1, 5)} if busy else set())
    return [(bound, round((i + 1) * 4 / len(quartiles))) for i, bound in enumerate(quartiles)]


def _level(count: int, scale: list[tuple[int, int]]) -> int:
    if count == 0:
        return 0
    return next(level for bound, level in scale if count <= bound)


def _legend(scale: list[tuple[int, int]]) -> list[LegendStep]:
    steps = [LegendStep(0, "0")]
    low = 1
    for high, level in scale:
        steps.append(LegendStep(level, str(low) if high == low else f"{low}–{high}"))
        low = high + 1
    return steps


def _cards(count: int) -> str:
    return "no cards" if count == 0 else "1 card" if count == 1 else f"{count} cards"


def _calendars(per_day: dict[dt.date, int], scale: list[tuple[int, int]]) -> list[CalendarYear]:
    """Lay out each calendar year of the range like a contribution chart: weeks as columns, Monday on top."""
    years: dict[int, list[dt.date]] = {}
    for day in per_day:
        years.setdefault(day.year, []).append(day)
    calendars = []
    for year, days in years.items():
        monday = days[0] - dt.timedelta(days=days[0].weekday())
        squares: list[Square] = []
        months: list[Label] = []
        for day in days:
            column = (day - monday).days // 7
            x, y = CAL_LEFT + column * PITCH, CAL_TOP + day.weekday() * PITCH
            count = per_day[day]
            title = f"{day.isoformat()} ({WEEKDAYS[day.weekday()]}): {_cards(count)}"
            squares.append(Square(x, y, day.isoformat(), _level(count, scale), title))
            if day.day == 1 or day == days[0]:
                months.append(Label(x, CAL_TOP - 5, MONTHS[day.month - 1]))
        # A range starting late in a month would print its label on top of the next month's.
        if len(months) > 1 and months[1].x - months[0].x < 3 * PITCH:
            months.pop(0)
        columns = (days[-1] - monday).days // 7 + 1
        weekdays = [Label(0, CAL_TOP + row * PITCH + CELL - 2, WEEKDAYS[row]) for row in (0, 2, 4)]
        calendars.append(CalendarYear(year, CAL_LEFT + columns * PITCH, CAL_TOP + 7 * PITCH, squares, months, weekdays))
    return calendars


def _histogram(gaps: list[int], limit: int) -> Histogram:
    """Count the gaps in bins whose edges fall on the limit, so every bar right of the line is over it."""
    # Bin i holds the gaps in (limit + (i - 1) * width, limit + i * width]: bin 0 ends on the limit.
    span = max(*gaps, limit) + 1
    width = 7 * max(1, math.ceil(span / (7 * (MAX_BARS - 2))))

    def bin_of(gap: int) -> int:
        return -((limit - gap) // width)

    first, last = bin_of(0), max(bin_of(max(gaps)), 1)
    counts = dict.fromkeys(range(first, last + 1), 0)
    for gap in gaps:
        counts[bin_of(gap)] += 1
    top = max(counts.values())
    plot_bottom = HIST_TOP + PLOT_HEIGHT
    bars = []
    for i, count in counts.items():
        low, high = max(limit + (i - 1) * width + 1, 0), limit + i * width
        days = f"{low} days" if low == high else f"{low}–{high} days"
        height = round(count / top * PLOT_HEIGHT)
        who = "1 customer" if count == 1 else f"{count} customers"
        x = HIST_LEFT + (i - first) * BAR_WIDTH
        bars.append(Bar(x, plot_bottom - height, height, count, i > 0, f"{days}: {who}"))
    step = math.ceil(len(counts) / 12)
    x_ticks = [
        Label(HIST_LEFT + (i - first + 1) * BAR_WIDTH, plot_bottom + 14, str(limit + i * width))
        for i in counts
        if i % step == 0
    ]
    y_ticks = [
        Label(HIST_LEFT - 6, plot_bottom - round(n / top * PLOT_HEIGHT) + 4, str(n)) for n in sorted({0, top // 2, top})
    ]
    plot_right = HIST_LEFT + len(counts) * BAR_WIDTH
    return Histogram(
        width=plot_right + 20,
        height=plot_bottom + HIST_BOTTOM,
        plot_left=HIST_LEFT,
        plot_bottom=plot_bottom,
        plot_right=plot_right,
        bar_width=BAR_WIDTH,
        bars=bars,
        limit_x=HIST_LEFT + (1 - first) * BAR_WIDTH,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
    )

"""The coverage report as a one-page US Letter PDF for the owner.

Everything is laid out in one frame on one canvas page and shrunk to fit if it
must, so no list, however long, starts a second page; the customer table is cut
at MAX_ROWS with "and N more".  Names are data: they are escaped before they go
into Paragraph markup, which breaks on an unescaped "<".
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Frame, KeepInFrame, Paragraph, Spacer, Table, TableStyle

from cardsender.config.model import KeepInTouchConfig
from cardsender.domain.occasions import occasion_label
from cardsender.planning.agenda import CallEntry, CoverageReport
from cardsender.planning.dates import OCCASIONS
from cardsender.printing.fonts import register_fonts

# DejaVu Sans, embedded: the built-in Helvetica prints Ż, Greek or Cyrillic as boxes, without any error.
FONT, BOLD = register_fonts()
MARGIN = 0.6 * inch
# Customers in the call table; the rest are counted.
MAX_ROWS = 20
# Customer ids listed as forecast to pass the limit; the rest are counted.
MAX_BREACHES_LISTED = 10
# Longest name and owner shown, so one long name cannot crowd out the table.
MAX_NAME, MAX_OWNER = 40, 24
DEFAULT_KEEP_IN_TOUCH = KeepInTouchConfig()
GOOD, BAD, GREY, LINE = (
    colors.HexColor("#1a7f37"),
    colors.HexColor("#cf222e"),
    colors.HexColor("#59636e"),
    colors.HexColor("#d1d9e0"),
)

TITLE = ParagraphStyle("title", fontName=BOLD, fontSize=20, leading=24)
SUBTITLE = ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=14, textColor=GREY)
FIGURE = ParagraphStyle("figure", fontName=BOLD, fontSize=56, leading=60)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=13)
LEAD = ParagraphStyle("lead", parent=BODY, fontSize=11, leading=15)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11, textColor=GREY)
HEADING = ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=15, spaceBefore=14, spaceAfter=5)
CARDS_HEADING = ParagraphStyle("cards_heading", parent=HEADING, spaceBefore=0)
COUNT = ParagraphStyle("count", fontName=BOLD, fontSize=22, leading=26)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=9, leading=11)
CELL_RIGHT = ParagraphStyle("cell_right", parent=CELL, alignment=TA_RIGHT)
HEAD_CELL = ParagraphStyle("head_cell", parent=CELL, fontName=BOLD)
HEAD_CELL_RIGHT = ParagraphStyle("head_cell_right", parent=HEAD_CELL, alignment=TA_RIGHT)


def write_report_pdf(
    report: CoverageReport,
    path: Path,
    *,
    office_name: str,
    keep_in_touch: KeepInTouchConfig = DEFAULT_KEEP_IN_TOUCH,
) -> None:
    """Write the coverage report as a one-page US Letter PDF; ``keep_in_touch`` gives the limits in the wording."""
    # invariant=1: no creation date or random id, so the same report gives the same bytes.
    canvas = Canvas(str(path), pagesize=letter, invariant=1, initialFontName=FONT)  # type: ignore[arg-type]  # a font name; the stubs say float
    canvas.setTitle(f"{office_name}: keep-in-touch report, {report.on.isoformat()}")
    canvas.setAuthor(office_name)
    width, height = letter
    frame = Frame(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN, 0, 0, 0, 0)
    story = _story(report, office_name, keep_in_touch, frame.width)
    # A frame draws on this one page only; shrink-to-fit keeps anything from being cut off at the bottom.
    frame.addFromList([KeepInFrame(frame.width, frame.height, story, mode="shrink")], canvas)
    canvas.setFont(FONT, 8)
    canvas.setFillColor(GREY)
    canvas.drawString(MARGIN, MARGIN / 2, f"cardsender coverage report as of {report.on.isoformat()}")
    canvas.showPage()
    canvas.save()


def _story(report: CoverageReport, office_name: str, kit: KeepInTouchConfig, width: float) -> list[Flowable]:
    on = report.on
    story: list[Flowable] = [
        Paragraph(_text(office_name), TITLE),
        Paragraph(f"Keep-in-touch report, {on:%A}, {on:%B} {on.day}, {on.year}", SUBTITLE),
        Spacer(1, 12),
        _side_by_side(_coverage(report, kit), _cards(report, width * 0.48), width),
        Spacer(1, 12),
        _counts(report, kit, width),
    ]
    if report.breaches_next_14_days:
        listed = ", ".join(_text(who) for who in report.breach_names[:MAX_BREACHES_LISTED])
        more = len(report.breaches_next_14_days) - MAX_BREACHES_LISTED
        tail = f" and {more} more" if more > 0 else ""
        caused = len(report.breaches_by_plan_next_14_days)
        why = f" ({caused} of them the plan would cause; the rest are overdue already)" if caused else ""
        story.append(Spacer(1, 4))
        story.append(Paragraph(f"Forecast to pass {kit.max_gap_days} days within 14 days: {listed}{tail}{why}.", SMALL))
    story += _calls(report, kit, width)
    return story


def _side_by_side(left: list[Flowable], right: list[Flowable], width: float) -> Table:
    """Return two columns of flowables, top-aligned, without lines."""
    table = Table([[left, right]], colWidths=[width * 0.52, width * 0.48])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _text(value: str, limit: int | None = None) -> str:
    """Return a value for Paragraph markup: cut to ``limit`` characters, then escaped."""
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return escape(value)


def _coverage(report: CoverageReport, kit: KeepInTouchConfig) -> list[Flowable]:
    """Return the big figure: the share of contactable customers heard from within the limit."""
    if not report.contactable:
        return [Paragraph("No customers can be reached by card yet.", LEAD)]
    percent = report.coverage_percent
    kept = report.touched_within_limit == report.contactable
    colour = GOOD if kept else BAD
    figure = ParagraphStyle("figure_coloured", parent=FIGURE, textColor=colour)
    return [
        Paragraph(f"{percent}%", figure),
        Paragraph(f"of customers heard from us in the last {kit.max_gap_days} days", LEAD),
        Paragraph(f"{report.touched_within_limit} of {report.contactable} customers that cards can reach", SMALL),
        *_not_covered(report, kit),
    ]


def _not_covered(report: CoverageReport, kit: KeepInTouchConfig) -> list[Flowable]:
    """Return who the figure leaves out: customers contacted too long ago, and those never contacted yet."""
    lines = []
    if report.contacted_over_limit:
        lines.append(f"{report.contacted_over_limit} last heard from us over {kit.max_gap_days} days ago")
    if report.never_contacted:
        lines.append(
            f"{report.never_contacted} never contacted yet{report.first_cards_text()} (not counted as heard from)"
        )
    return [Paragraph(_text(line), SMALL) for line in lines]


def _counts(report: CoverageReport, kit: KeepInTouchConfig, width: float) -> Table:
    """Return the four counts side by side, each above its label."""
    figures = [
        (report.contactable, "contactable customers", False),
        (len(report.at_risk), f"at risk ({kit.call_after_days} to {kit.max_gap_days} days since contact)", False),
        (len(report.overdue), f"overdue (over {kit.max_gap_days} days)", True),
        (len(report.breaches_next_14_days), f"forecast to pass {kit.max_gap_days} days in the next 14 days", True),
    ]
    cells = []
    for count, label, alarming in figures:
        style = ParagraphStyle("count_coloured", parent=COUNT, textColor=BAD) if alarming and count else COUNT
        cells.append([Paragraph(str(count), style), Paragraph(label, SMALL)])
    table = Table([cells], colWidths=[width / 4] * 4)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.75, LINE),
                ("INNERGRID", (0, 0), (-1, -1), 0.75, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _calls(report: CoverageReport, kit: KeepInTouchConfig, width: float) -> list[Flowable]:
    """Return the overdue customers, then those at risk, longest untouched first, cut at MAX_ROWS."""
    entries = sorted(report.overdue, key=_longest_first) + sorted(report.at_risk, key=_longest_first)
    heading = Paragraph("Customers to call", HEADING)
    if not entries:
        return [heading, Paragraph(f"Nobody has gone {kit.call_after_days} days without hearing from us.", BODY)]
    rows: list[list[Flowable]] = [
        [
            Paragraph("Name", HEAD_CELL),
            Paragraph("Owner", HEAD_CELL),
            Paragraph("Last contact", HEAD_CELL),
            Paragraph("Days since", HEAD_CELL_RIGHT),
        ]
    ]
    for entry in entries[:MAX_ROWS]:
        days = ParagraphStyle("days_coloured", parent=CELL_RIGHT, textColor=BAD) if entry.overdue else CELL_RIGHT
        rows.append(
            [
                Paragraph(_text(entry.name or entry.customer_id, MAX_NAME), CELL),
                Paragraph(_text(entry.owner, MAX_OWNER), CELL),
                Paragraph(entry.last_contact.isoformat() if entry.last_contact else "never", CELL),
                Paragraph(str(entry.days_since_contact), days),
            ]
        )
    table = Table(rows, colWidths=[width * 0.42, width * 0.26, width * 0.17, width * 0.15], repeatRows=1)
    table.setStyle(_table_style())
    story: list[Flowable] = [heading, table]
    if len(entries) > MAX_ROWS:
        more = len(entries) - MAX_ROWS
        story.append(Spacer(1, 3))
        story.append(Paragraph(f"and {more} more; <font name='Courier'>cardsender calls</font> lists them all.", SMALL))
    return story


def _longest_first(entry: CallEntry) -> tuple[int, str]:
    return (-entry.days_since_contact, (entry.name or entry.customer_id).casefold())


def _cards(report: CoverageReport, width: float) -> list[Flowable]:
    """Return the cards per occasion this month and this year, in the planner's order of occasions."""
    heading = Paragraph("Cards sent", CARDS_HEADING)
    names = set(report.cards_this_month) | set(report.cards_this_year)
    if not names:
        return [heading, Paragraph("No cards yet this year.", BODY)]
    ordered = [name for name in OCCASIONS if name in names] + sorted(names - set(OCCASIONS))
    rows: list[list[Flowable]] = [
        [
            Paragraph("Occasion", HEAD_CELL),
            Paragraph(f"{report.on:%B}", HEAD_CELL_RIGHT),
            Paragraph(str(report.on.year), HEAD_CELL_RIGHT),
        ]
    ]
    for name in ordered:
        rows.append(
            [
                Paragraph(_text(occasion_label(name), MAX_NAME), CELL),
                Paragraph(str(report.cards_this_month.get(name, 0)), CELL_RIGHT),
                Paragraph(str(report.cards_this_year.get(name, 0)), CELL_RIGHT),
            ]
        )
    rows.append(
        [
            Paragraph("Total", HEAD_CELL),
            Paragraph(str(sum(report.cards_this_month.values())), HEAD_CELL_RIGHT),
            Paragraph(str(sum(report.cards_this_year.values())), HEAD_CELL_RIGHT),
        ]
    )
    table = Table(rows, colWidths=[width * 0.5, width * 0.25, width * 0.25], hAlign="LEFT")
    table.setStyle(_table_style())
    return [heading, table]


def _table_style() -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
    )

"""Plain-text tables that stay aligned in a terminal, whatever the script of the names."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Sequence


def display_width(text: str) -> int:
    """Return how many terminal columns a text takes: wide East Asian letters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def clean_cell(text: str) -> str:
    """Return a text on one line: control characters (newlines, tabs, escapes) become spaces."""
    return "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)


def format_table(rows: Iterable[Sequence[str]], headers: Sequence[str] = (), align_right: Collection[int] = ()) -> str:
    """Return rows (under headers, if any) in columns two spaces apart; cells are printed literally, on one line."""
    cells = [[clean_cell(cell) for cell in row] for row in [*([headers] if headers else []), *rows]]
    if not cells:
        return ""
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - display_width(cell))
            parts.append(pad + cell if i in align_right else cell + pad)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)

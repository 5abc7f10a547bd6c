"""Property: any CSV of customers imports without crashing, and the report matches the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cardsender.domain.errors import InputError
from cardsender.importers import import_customers
from cardsender.importers.cells import unmark
from cardsender.importers.fields import parse_customer_fields, parse_id
from cardsender.store import Store
from cardsender.store.customers import get_customer
from cardsender.store.schema import customers

HEADER = ["id", "first_name", "email", "birthday"]
TODAY = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 14, 30)
# NUL marks a binary file (the whole file is refused, tested elsewhere); lone surrogates cannot be written.
CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
TRICKY = ["", " ", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "crlf\r\nend", "<b>x</b>", "Zoë Ødegård", "山田"]

ids = st.sampled_from(["", "  ", "C1", "C2", " C1 ", "c1", "Łukasz-7", "x" * 201, "tab\tid"]) | st.text(
    CHARACTERS, max_size=8
)
texts = st.sampled_from(TRICKY) | st.text(CHARACTERS, max_size=20)
emails = st.sampled_from(["", "ana@example.com", "ANA@Example.COM", "bad@", "@x.com", "a@b", "zoë@exämple.de"]) | (
    st.emails().map(str)
)
dates = (
    st.sampled_from(["", "1980-02-29", "1981-02-29", "--02-29", "--13-01", "03/04/1980", "25/12/1975", "1879-01-01"])
    | st.dates(dt.date(1850, 1, 1), dt.date(2150, 12, 31)).map(dt.date.isoformat)
    | st.text(CHARACTERS, max_size=10)
)
rows = st.lists(st.tuples(ids, texts, emails, dates).map(list), max_size=12)

_LINE_END = re.compile(r"\r\n|\r|\n")


def write_csv(path: Path, cells: list[list[str]]) -> list[int]:
    """Write the rows under HEADER; return the physical line where each row starts."""
    starts: list[int] = []
    line = 2
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(HEADER)
        for row in cells:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerow(row)
            fh.write(buffer.getvalue())
            starts.append(line)
            line += len(_LINE_END.findall(buffer.getvalue()))
    return starts


def parsed_id(text: str) -> str | None:
    """Return the id a cell stands for, or None when it is not a usable id."""
    try:
        return parse_id(text)
    except InputError:
        return None


@settings(max_examples=50, deadline=None)
@given(cells=rows)
def test_import_never_crashes_and_never_stores_a_refused_row(cells: list[list[str]]) -> None:
    """Random rows import without an exception; refused ids are absent and accepted rows are stored as parsed."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.csv"
        starts = write_csv(path, cells)
        with Store.open(f"sqlite:///{Path(folder) / 't.db'}") as store:
            result = import_customers(store, path, today=TODAY, now=NOW)
            with store.begin() as conn:
                stored_ids = set(conn.execute(select(customers.c.external_id)).scalars())
                refused = {error.line for error in result.rejected}
                present = [(start, row) for start, row in zip(starts, cells, strict=True) if "".join(row).strip()]
                accepted = [row for start, row in present if start not in refused]
                accepted_ids = {parse_id(row[0]) for row in accepted}
                assert refused <= {start for start, _ in present}
                assert (result.added, result.updated, result.rejected_count) == (len(accepted), 0, len(refused))
                assert stored_ids == accepted_ids
                for start, row in present:
                    external_id = parsed_id(row[0])
                    if start in refused and external_id is not None and external_id not in accepted_ids:
                        assert external_id not in stored_ids
                for row in accepted:
                    # The import takes off the apostrophe a rejects file puts before formula-like cells.
                    expected = parse_customer_fields(dict(zip(HEADER, map(unmark, row), strict=True)))
                    customer = get_customer(conn, expected["id"])
                    assert (customer.first_name, customer.email, customer.birthday) == (
                        expected["first_name"],
                        expected["email"],
                        expected["birthday"],
                    )
            assert (result.rejects_path is not None) == bool(refused)

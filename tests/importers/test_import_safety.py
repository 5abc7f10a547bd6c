"""Importing never garbles text silently, refuses one bad row rather than the file, and writes safe rejects files."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardsender.domain.errors import ImportFileError
from cardsender.importers import ImportResult, import_customers, import_history
from cardsender.importers.cells import mark, unmark
from cardsender.store import Store
from cardsender.store.customers import events_of
from tests.support.cli import run
from tests.support.customers import stored, stored_ids
from tests.support.office import Office

TODAY = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 14, 30)
BIG = 10 * 2**20  # a 10 MB cell, as a pasted document makes
NOT_A_DATE = "is not a date (expected YYYY-MM-DD, --MM-DD or DD/MM/YYYY or MM/DD/YYYY)"
TOO_LONG = (
    "has a cell longer than 131,072 characters, the most a cell may hold ({column}); shorten it, or split a "
    "pasted document into notes of their own: fix it in customers.csv, where it starts {start!r}, and import "
    "that file again (its row in the rejects file holds only this message)"
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Return a fresh, empty database."""
    with Store.open(database_url) as opened:
        yield opened


def write(folder: Path, name: str, content: bytes) -> Path:
    """Write a file to import with exactly these bytes."""
    path = folder / name
    path.write_bytes(content)
    return path


def customers_of(store: Store, path: Path) -> ImportResult:
    """Import customers with the test clock."""
    return import_customers(store, path, today=TODAY, now=NOW)


def rejects_text(folder: Path, name: str = "customers.rejects.csv") -> str:
    """Return a rejects file as text, checking that it starts with the UTF-8 BOM."""
    data = (folder / name).read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    return data[len(codecs.BOM_UTF8) :].decode("utf-8")


def temporary_files(folder: Path) -> list[str]:
    """Return the temporary files in a folder."""
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".tmp")


# Rows in another encoding, double-encoded text, rows in another separator


def test_a_cp1252_row_in_a_utf8_file_is_refused_alone(store: Store, tmp_path: Path) -> None:
    """A cp1252 row in a UTF-8 file is refused and shown in the rejects file as cp1252 reads it; others keep accents."""
    content = (
        b"id,first_name,last_name\n"
        + "C1,Zoë,Müller\n".encode()
        + "C2,Zoë,Müller\n".encode("cp1252")
        + "C3,José,Núñez\n".encode()
    )
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:3: row is not UTF-8 like the rest of the file: column 'first_name' holds byte 0xEB; read as "
        "Windows cp1252 it says 'Zoë', as the rejects file has it: check the row there and import that file"
    ]
    assert stored_ids(store) == ["C1", "C3"]
    assert (stored(store, "C1").first_name, stored(store, "C1").last_name) == ("Zoë", "Müller")
    assert (stored(store, "C3").first_name, stored(store, "C3").last_name) == ("José", "Núñez")
    assert rejects_text(tmp_path).startswith('id,first_name,last_name,error\r\nC2,Zoë,Müller,"row is not UTF-8')
    again = customers_of(store, tmp_path / "customers.rejects.csv")
    assert (again.added, again.rejected) == (1, ())
    assert (stored(store, "C2").first_name, stored(store, "C2").last_name) == ("Zoë", "Müller")


def test_a_utf8_row_in_a_cp1252_file_is_refused_as_double_encoded(store: Store, tmp_path: Path) -> None:
    """In a file mostly in cp1252, a row saved as UTF-8 reads as 'ZoÃ«' and is refused, not stored garbled."""
    content = (
        b"id;first_name;last_name\n" + "C1;José;Núñez\nC2;Åsa;Ødegård\n".encode("cp1252") + "C3;Zoë;Müller\n".encode()
    )
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:4: column 'first_name' 'ZoÃ«' looks like UTF-8 text read as Windows cp1252 (it would read "
        "'Zoë'); correct the cell, or export the sheet again as CSV UTF-8"
    ]
    assert stored_ids(store) == ["C1", "C2"]
    assert (stored(store, "C2").first_name, stored(store, "C2").last_name) == ("Åsa", "Ødegård")


def test_double_encoded_cells_are_refused_and_genuine_ones_kept(store: Store, tmp_path: Path) -> None:
    """Cells that are UTF-8 read as cp1252 (Ã«, Ã¼, â€™) are refused; Ãngel, São, AÇÃO and «CAFÉ» are names and text."""
    content = (
        "id,first_name,last_name,notes\n"
        "D1,ZoÃ«,MÃ¼ller,\n"
        "D2,Ann,Lee,Loves the â€™90s\n"
        "D3,Ã…se,Berg,\n"
        "G1,Ãngel,Sánchez,\n"
        "G2,João,São Paulo,AÇÃO today\n"
        "G3,Émile,Zola,Asked for «CAFÉ» and said ALLÔ…\n"
        "G4,Łukasz,Żółć,Ã alone\n"
    ).encode()
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:2: column 'first_name' 'ZoÃ«' looks like UTF-8 text read as Windows cp1252 (it would read "
        "'Zoë'); correct the cell, or export the sheet again as CSV UTF-8",
        "customers.csv:3: column 'notes' 'Loves the â€™90s' looks like UTF-8 text read as Windows cp1252 (it would "
        "read 'Loves the ’90s'); correct the cell, or export the sheet again as CSV UTF-8",
        "customers.csv:4: column 'first_name' 'Ã…se' looks like UTF-8 text read as Windows cp1252 (it would read "
        "'Åse'); correct the cell, or export the sheet again as CSV UTF-8",
    ]
    assert stored_ids(store) == ["G1", "G2", "G3", "G4"]
    assert [stored(store, f"G{n}").first_name for n in range(1, 5)] == ["Ãngel", "João", "Émile", "Łukasz"]
    assert stored(store, "G3").notes == "Asked for «CAFÉ» and said ALLÔ…"
    # The rejects file keeps the cells as they were, for the user to correct.
    assert rejects_text(tmp_path).splitlines()[1].startswith("D1,ZoÃ«,MÃ¼ller,,")


def test_a_row_written_with_another_separator_is_refused(store: Store, tmp_path: Path) -> None:
    """In a semicolon file, a comma row or a lone cell is refused instead of becoming an id; a short row is padded."""
    content = b"id;first_name;email\r\nC1;Ana;ana@example.com\r\nC2,Ben,ben@example.com\r\nC3\r\nC4;Chloe\r\n"
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:3: row has 1 cell but the header has 3 columns; it is separated by commas: separate its "
        "cells with semicolons like the other rows",
        "customers.csv:4: row has 1 cell but the header has 3 columns; give it its other cells, empty ones too, or "
        "join it to the cell it was broken from",
    ]
    assert stored_ids(store) == ["C1", "C4"]
    assert (stored(store, "C4").first_name, stored(store, "C4").email) == ("Chloe", None)
    assert rejects_text(tmp_path).splitlines()[:3] == [
        "id;first_name;email;error",
        'C2,Ben,ben@example.com;;;"row has 1 cell but the header has 3 columns; it is separated by commas: separate '
        'its cells with semicolons like the other rows"',
        'C3;;;"row has 1 cell but the header has 3 columns; give it its other cells, empty ones too, or join it to '
        'the cell it was broken from"',
    ]


def test_garbled_rows_are_reported_by_the_import_command(workspace: Office) -> None:
    """import customers lists the garbled rows as FILE:LINE: why on stderr, imports the rest and exits 2."""
    path = workspace.root / "customers.csv"
    path.write_bytes("id,first_name\nC1,Zoë\n".encode() + "C2,Zoë\n".encode("cp1252") + "C3,MÃ¼ller\n".encode())
    result = run(workspace, "import", "customers", str(path))
    rejects = workspace.root / "customers.rejects.csv"
    assert result.exit_code == 2
    assert result.stderr == (
        "customers.csv:3: row is not UTF-8 like the rest of the file: column 'first_name' holds byte 0xEB; read as "
        "Windows cp1252 it says 'Zoë', as the rejects file has it: check the row there and import that file\n"
        "customers.csv:4: column 'first_name' 'MÃ¼ller' looks like UTF-8 text read as Windows cp1252 (it would "
        "read 'Müller'); correct the cell, or export the sheet again as CSV UTF-8\n"
    )
    assert result.stdout == f"Imported {path}: 1 added, 0 updated, 2 rejected (rejects written to {rejects})\n"


# One bad row, not the whole file


def test_a_nul_byte_refuses_its_row_only(store: Store, tmp_path: Path) -> None:
    """A NUL byte in one row refuses that row with its line; the rejects file holds it without the NUL."""
    content = b"id,first_name,email\nC1,Ana,ana@example.com\nC2,B\x00en,ben@example.com\nC3,Chloe,\n"
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:3: column 'first_name' holds a NUL character (byte 0x00), which no spreadsheet writes, so "
        "the file may be damaged here; check the row in the rejects file, written there without it, and import "
        "that file"
    ]
    assert stored_ids(store) == ["C1", "C3"]
    assert rejects_text(tmp_path).splitlines()[1].startswith("C2,Ben,ben@example.com,")


def test_a_10_mb_cell_refuses_its_row_only(store: Store, tmp_path: Path) -> None:
    """A 10 MB cell, bare or quoted over several lines, refuses its row and its lines; the rows after it import."""
    content = (
        b"id,first_name,notes\n"
        b"C1,Ana,short\n"
        b"C2,Ben," + b"x" * BIG + b"\n"
        b'C3,Chloe,"' + b"y" * BIG + b"\nsecond line, with a comma\n" + b"z" * 10 + b'"\n'
        b"C4,Dev,fine\n"
    )
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:3: row " + TOO_LONG.format(column="column 'notes'", start="C2,Ben," + "x" * 33 + "..."),
        "customers.csv:4: row (lines 4-6) "
        + TOO_LONG.format(column="column 'notes'", start='C3,Chloe,"' + "y" * 30 + "..."),
    ]
    assert stored_ids(store) == ["C1", "C4"]
    lines = rejects_text(tmp_path).splitlines()
    assert lines[1].startswith(',,,"row ') and lines[2].startswith(',,,"row (lines 4-6) ')
    # Imported again unchanged, such a row is refused again (it has no id), never stored half.
    again = customers_of(store, tmp_path / "customers.rejects.csv")
    assert (again.added, again.updated, again.rejected_count) == (0, 0, 2)


def test_a_stray_quote_refuses_its_row_only(store: Store, tmp_path: Path) -> None:
    """A quote in the middle of a quoted cell refuses that row, and the rows after it are read as rows."""
    content = b'id,first_name,notes\nC1,Ana,\nC2,"Ben "Benny" Lee",\nC3,Chloe,\n'
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.messages() == [
        "customers.csv:3: row cannot be read as CSV (',' expected after '\"'); a quote inside a quoted cell is "
        'written twice (""), and a quoted cell ends at a separator: fix it in customers.csv, where it starts '
        '\'C2,"Ben "Benny" Lee",\', and import that file again (its row in the rejects file holds only this '
        "message)"
    ]
    assert stored_ids(store) == ["C1", "C3"]


def test_a_quote_never_closed_in_a_large_file_still_refuses_the_file(store: Store, tmp_path: Path) -> None:
    """A quote never closed, with more than a cell's worth of text after it, refuses the file at its last line."""
    rows = b"".join(b"C%d,Name %d,\n" % (n, n) for n in range(20_000))
    path = write(tmp_path, "customers.csv", b'id,first_name,notes\nQ1,"Ann,\n' + rows)
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value) == (
        f"{path}:20002: cannot be read as CSV (unexpected end of data); "
        'look for a quote (") opened on or before this line and never closed'
    )
    assert stored_ids(store) == []


# Rejects files are safe to open in a spreadsheet


def test_rejects_cells_starting_like_formulas_get_an_apostrophe(store: Store, tmp_path: Path) -> None:
    """Cells starting with =, +, -, @, tab or CR get an apostrophe before them in the rejects file; others do not."""
    content = (
        b"id,first_name,last_name,notes,phone,birthday\r\n"
        b'C1,"=HYPERLINK(""http://evil.example"",""Ann"")",@Lee,-5 off,+1 416 555 0100,31/02/1980\r\n'
        b"'00123,\tTab,\"\rCR\",'+1 416 555 0199,''=x,1981-02-29\r\n"
    )
    result = customers_of(store, write(tmp_path, "customers.csv", content))
    assert result.rejected_count == 2
    assert rejects_text(tmp_path) == (
        "id,first_name,last_name,notes,phone,birthday,error\r\n"
        'C1,"\'=HYPERLINK(""http://evil.example"",""Ann"")",\'@Lee,\'-5 off,\'+1 416 555 0100,31/02/1980,'
        f"\"birthday '31/02/1980' {NOT_A_DATE}\"\r\n"
        f"'00123,'\tTab,\"'\rCR\",'+1 416 555 0199,''=x,1981-02-29,\"birthday '1981-02-29' {NOT_A_DATE}\"\r\n"
    )


def test_a_fixed_rejects_file_imports_exactly_the_original_cells(store: Store, tmp_path: Path) -> None:
    """Importing the fixed rejects file stores exactly what the original cells said: the apostrophes come off."""
    content = (
        "id,first_name,last_name,notes,birthday\n"
        "C1,=Zoë,-Lee,+1 416 555 0100 (mobile),31/02/1980\n"
        "C2,@Ben,'-Ng,'+44 20 7946 0000,31/02/1981\n"
    ).encode()
    customers_of(store, write(tmp_path, "customers.csv", content))
    rejects = tmp_path / "customers.rejects.csv"
    written = rejects_text(tmp_path)
    assert written.splitlines()[1:] == [
        f"C1,'=Zoë,'-Lee,'+1 416 555 0100 (mobile),31/02/1980,\"birthday '31/02/1980' {NOT_A_DATE}\"",
        f"C2,'@Ben,'-Ng,'+44 20 7946 0000,31/02/1981,\"birthday '31/02/1981' {NOT_A_DATE}\"",
    ]
    fixed = written.replace("31/02/1980,", "1980-02-28,").replace("31/02/1981,", "1981-02-28,")
    rejects.write_text(fixed, encoding="utf-8-sig")
    assert customers_of(store, rejects).rejected == ()
    ann, ben = stored(store, "C1"), stored(store, "C2")
    assert (ann.first_name, ann.last_name, ann.notes) == ("=Zoë", "-Lee", "+1 416 555 0100 (mobile)")
    assert (ben.first_name, ben.last_name, ben.notes) == ("@Ben", "-Ng", "+44 20 7946 0000")


def test_history_rejects_are_safe_and_an_apostrophe_id_still_matches(store: Store, tmp_path: Path) -> None:
    """An id written '00123 is stored and matched as written; history rejects mark formula-like summaries too."""
    customers_of(store, write(tmp_path, "customers.csv", b"id,first_name\n'00123,Ana\n"))
    assert stored_ids(store) == ["'00123"]
    history = write(
        tmp_path,
        "history.csv",
        b"customer_id,date,kind,summary\n'00123,2026-01-05,call,=1+2\n'00123,2026-01-06,fax,=cmd|' /C calc'!A0\n",
    )
    result = import_history(store, history, today=TODAY, now=NOW)
    assert (result.added, result.rejected_count) == (1, 1)
    with store.begin() as conn:
        assert [(e.occurred_at, e.summary) for e in events_of(conn, "'00123")] == [(dt.datetime(2026, 1, 5), "=1+2")]
    assert rejects_text(tmp_path, "history.rejects.csv") == (
        "customer_id,date,kind,summary,error\r\n"
        "'00123,2026-01-06,fax,'=cmd|' /C calc'!A0,"
        "\"kind 'fax' is not one of: purchase, call, visit, email, meeting, card, note\"\r\n"
    )


@given(st.text(st.sampled_from("'=+-@\t\rx0 ,é"), max_size=8) | st.text(max_size=8))
def test_the_spreadsheet_mark_comes_off_exactly(cell: str) -> None:
    """Any cell marked for a spreadsheet reads back as itself, and a marked cell never starts like a formula."""
    assert unmark(mark(cell)) == cell
    assert not mark(cell).startswith(tuple("=+-@\t\r"))


# Temporary files of the import


def test_rejects_files_are_private_whatever_the_umask(store: Store, tmp_path: Path) -> None:
    """With umask 022 the rejects file is still created 0600, and a clean run leaves no temporary file."""
    previous = os.umask(0o022)
    try:
        customers_of(store, write(tmp_path, "customers.csv", b"id,birthday\nC1,1981-02-29\nC2,1980-02-29\n"))
        history = write(tmp_path, "history.csv", b"customer_id,date,kind\nC2,2026-01-05,fax\n")
        import_history(store, history, today=TODAY, now=NOW)
    finally:
        os.umask(previous)
    for name in ("customers.rejects.csv", "history.rejects.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert temporary_files(tmp_path) == []


def test_an_import_removes_what_dead_imports_left_and_keeps_live_ones(store: Store, tmp_path: Path) -> None:
    """Temporary files of processes that no longer run are removed when an import starts; a running one's stay."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".customers.rejects.csv.{int(ended.stdout)}.tmp"
    dead.write_text("id,first_name\nC9,Secret\n", encoding="utf-8")
    live = tmp_path / f".history.rejects.csv.{os.getppid()}.tmp"
    live.write_text("customer_id\n", encoding="utf-8")
    customers_of(store, write(tmp_path, "customers.csv", b"id\nC1\n"))
    assert temporary_files(tmp_path) == [live.name]


@pytest.mark.sqlite_only
def test_an_import_killed_mid_way_leaves_nothing_after_the_next(workspace: Office, tmp_path: Path) -> None:
    """An import killed with SIGKILL leaves its temporary rejects file; the next import in that folder removes it."""
    folder = tmp_path / "exports"
    folder.mkdir()
    refused = "".join(f"R{n},Name{n},not-an-address\n" for n in range(500))  # more than the write buffer holds
    rows = "".join(f"K{n},Name{n},k{n}@example.com\n" for n in range(150_000))
    big = folder / "big.csv"
    big.write_text("id,first_name,email\n" + refused + rows, encoding="utf-8")
    command = [sys.executable, "-m", "cardsender", "--config", str(workspace.config_path), "import", "customers"]
    child = subprocess.Popen([*command, str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    leftover = folder / f".big.rejects.csv.{child.pid}.tmp"
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        if leftover.exists() and leftover.stat().st_size > 0:
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert temporary_files(folder) == [leftover.name]
    assert stat.S_IMODE(leftover.stat().st_mode) == 0o600
    assert leftover.read_bytes().decode("utf-8-sig").startswith("id,first_name,email,error\r\nR0,Name0,not-an-address,")
    small = folder / "small.csv"
    small.write_text("id,first_name\nS1,Sam\n", encoding="utf-8")
    result = run(workspace, "import", "customers", str(small))
    assert (result.exit_code, result.stdout) == (0, f"Imported {small}: 1 added, 0 updated, 0 rejected\n")
    assert temporary_files(folder) == []
    assert not (folder / "big.rejects.csv").exists()

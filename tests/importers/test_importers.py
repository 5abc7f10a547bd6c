"""Importing customers (CSV, vCard) and contact history (CSV) into real SQLite files."""

from __future__ import annotations

import codecs
import datetime as dt
import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cardsender.domain.errors import ImportFileError, StoreError
from cardsender.domain.records import Birthday, ContactEvent, Customer
from cardsender.importers import ImportResult, RowError, import_customers, import_history
from cardsender.store import Store
from cardsender.store.customers import events_of
from cardsender.store.schema import contact_events
from tests.support.customers import stored, stored_ids

DATA = Path(__file__).parent.parent / "data" / "importers"
TODAY = dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 14, 30)
LATER = dt.date(2026, 12, 1)
HEADER = "id,first_name,last_name,email,birthday\n"
NOT_A_DATE = "is not a date (expected YYYY-MM-DD, --MM-DD or DD/MM/YYYY or MM/DD/YYYY)"
NOT_TEXT = (
    "is not a text file in UTF-8 or Windows (cp1252) encoding; export it again as CSV (in Excel: Save As > CSV UTF-8)"
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """Return a fresh, empty database."""
    with Store.open(database_url) as opened:
        yield opened


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    """Write a file to import, as text in ``encoding`` or as raw bytes."""
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def customers_of(store: Store, path: Path, date_format: str | None = None, today: dt.date = TODAY) -> ImportResult:
    """Import customers with the test clock."""
    return import_customers(store, path, today=today, now=NOW, date_format=date_format)


def history_of(store: Store, path: Path, date_format: str | None = None) -> ImportResult:
    """Import contact history with the test clock."""
    return import_history(store, path, today=TODAY, now=NOW, date_format=date_format)


def event_count(store: Store) -> int:
    """Return how many contact events are stored."""
    with store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(contact_events)).scalar_one())


def history(store: Store, external_id: str) -> list[ContactEvent]:
    """Return one customer's stored events, oldest first."""
    with store.begin() as conn:
        return events_of(conn, external_id)


def leftovers(folder: Path) -> list[str]:
    """Return the rejects and temporary files in a folder."""
    return sorted(p.name for p in folder.iterdir() if "rejects" in p.name or p.suffix == ".tmp")


def add_trigger(store: Store, table: str, condition: str) -> None:
    """Make the database refuse inserts matching ``condition``, as a full disk or a constraint would."""
    with store.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(
                text(
                    f"CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF {condition} THEN "
                    "RAISE EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; END $$"
                )
            )
            conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()"))
            return
        conn.execute(
            text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN {condition} "
                "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
            )
        )


# Customers from CSV: encodings, delimiters, names


def test_utf8_with_bom_keeps_every_script(store: Store, tmp_path: Path) -> None:
    """A UTF-8 file with a BOM keeps Latin, Polish, Vietnamese, Japanese and Arabic names exactly."""
    rows = ["C1,Zoë,Ødegård", "C2,Łukasz,Żółć", "C3,An,Nguyễn Văn", "C4,太郎,山田", "C5,محمد,"]
    path = write(tmp_path, "customers.csv", "\ufeffid,first_name,last_name\n" + "\n".join(rows) + "\n")
    result = customers_of(store, path)
    assert (result.added, result.updated, result.rejected) == (5, 0, ())
    names = [(stored(store, f"C{n}").first_name, stored(store, f"C{n}").last_name) for n in range(1, 6)]
    assert names == [("Zoë", "Ødegård"), ("Łukasz", "Żółć"), ("An", "Nguyễn Văn"), ("太郎", "山田"), ("محمد", "")]


def test_cp1252_file_is_decoded(store: Store, tmp_path: Path) -> None:
    """A file saved by Excel in the Windows code page (cp1252) is read with its accents."""
    path = write(tmp_path, "customers.csv", "id;first_name;last_name\nC1;Zoë;Ødegård\nC2;José;Núñez\n", "cp1252")
    assert customers_of(store, path).added == 2
    assert (stored(store, "C1").first_name, stored(store, "C1").last_name) == ("Zoë", "Ødegård")
    assert (stored(store, "C2").first_name, stored(store, "C2").last_name) == ("José", "Núñez")


def test_utf16_unicode_text_export_is_decoded(store: Store, tmp_path: Path) -> None:
    """Excel's "Unicode Text" export (UTF-16 with a BOM, tab-separated) is read."""
    path = write(tmp_path, "customers.csv", "\ufeffid\tfirst_name\nC1\tŁukasz\n", "utf-16-le")
    assert customers_of(store, path).added == 1
    assert stored(store, "C1").first_name == "Łukasz"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_delimiter_is_sniffed(store: Store, tmp_path: Path, delimiter: str) -> None:
    """Comma, semicolon and tab separated files are all read, with quoted cells holding the other delimiters."""
    header = delimiter.join(["id", "first_name", "notes"])
    row = delimiter.join(["C1", "Ana", '"Likes tea, coffee; and\tcake"'])
    path = write(tmp_path, "customers.csv", f"{header}\n{row}\n")
    assert customers_of(store, path).added == 1
    assert (stored(store, "C1").first_name, stored(store, "C1").notes) == ("Ana", "Likes tea, coffee; and\tcake")


def test_markup_in_names_is_stored_literally(store: Store, tmp_path: Path) -> None:
    """A name holding <b> markup is stored as typed, not interpreted or stripped."""
    path = write(tmp_path, "customers.csv", "id,first_name,notes\nC1,<b>Bold</b> Bob,a & b < c\n")
    customers_of(store, path)
    assert (stored(store, "C1").first_name, stored(store, "C1").notes) == ("<b>Bold</b> Bob", "a & b < c")


def test_every_column_is_stored(store: Store, tmp_path: Path) -> None:
    """A row with every canonical column is stored with each value parsed."""
    header = (
        "id,first_name,last_name,email,birthday,country,subdivision,street,city,postal_code,channel,language,"
        "owner,customer_since,no_email,no_post,no_humor,do_not_contact,notes\n"
    )
    row = 'C1,Ana,Silva,Ana@Example.COM,1980-02-29,Canada,on,"1 King St W\nUnit 2",Toronto,M5H 1A1,both,fr-ca,'
    row += "Sam,2019-05-01,no,yes,x,0,Bakes bread\n"
    customers_of(store, write(tmp_path, "customers.csv", header + row))
    assert stored(store, "C1") == Customer(
        id="C1",
        first_name="Ana",
        last_name="Silva",
        email="Ana@example.com",
        birthday=Birthday(2, 29, 1980),
        country="CA",
        subdivision="ON",
        street="1 King St W\nUnit 2",
        city="Toronto",
        postal_code="M5H 1A1",
        channel="both",
        language="fr-CA",
        owner="Sam",
        customer_since=dt.date(2019, 5, 1),
        no_email=False,
        no_post=True,
        no_humor=True,
        do_not_contact=False,
        notes="Bakes bread",
        added_on=TODAY,
    )


# Birthdays and dates


@pytest.mark.parametrize(
    ("cell", "birthday"),
    [
        ("1980-02-29", Birthday(2, 29, 1980)),
        ("--02-29", Birthday(2, 29, None)),
        ("--0229", Birthday(2, 29, None)),
        ("19800229", Birthday(2, 29, 1980)),
        ("--12-25", Birthday(12, 25, None)),
        ("", None),
    ],
)
def test_birthday_forms(store: Store, tmp_path: Path, cell: str, birthday: Birthday | None) -> None:
    """Birthdays with and without a year, Feb 29 included, are stored; a blank cell means none."""
    path = write(tmp_path, "customers.csv", f"id,birthday\nC1,{cell}\n")
    assert customers_of(store, path).rejected == ()
    assert stored(store, "C1").birthday == birthday


def test_feb_29_in_a_common_year_is_refused(store: Store, tmp_path: Path) -> None:
    """1981-02-29 does not exist: the row is refused with the reason, the others are imported."""
    path = write(tmp_path, "customers.csv", "id,birthday\nC1,1980-02-29\nC2,1981-02-29\n")
    assert customers_of(store, path).messages() == [f"customers.csv:3: birthday '1981-02-29' {NOT_A_DATE}"]
    assert stored_ids(store) == ["C1"]


def test_ambiguous_slash_date_needs_a_date_format(store: Store, tmp_path: Path) -> None:
    """03/04/1980 is refused without a date format and read day-first with DD/MM/YYYY."""
    path = write(tmp_path, "customers.csv", "id,birthday\nC1,03/04/1980\nC2,25/12/1975\n")
    assert customers_of(store, path).messages() == [
        "customers.csv:2: birthday '03/04/1980' is ambiguous (day/month or month/day?); set [import] date_format "
        "in the config or pass --date-format DD/MM/YYYY or MM/DD/YYYY, or write it as YYYY-MM-DD"
    ]
    assert stored(store, "C2").birthday == Birthday(12, 25, 1975)
    again = customers_of(store, path, date_format="DD/MM/YYYY")
    assert (again.added, again.updated, again.rejected) == (1, 1, ())
    assert stored(store, "C1").birthday == Birthday(4, 3, 1980)


# Headers


def test_header_aliases_map_to_fields(store: Store, tmp_path: Path) -> None:
    """Headers such as Customer ID, Given Name, Surname, E-mail Address, DOB, Zip and State are recognised."""
    header = "Customer ID,Given Name,Surname,E-mail Address,DOB,Zip,State,Favourite colour\n"
    path = write(tmp_path, "customers.csv", header + "C1,Ana,Silva,ana@example.com,--07-04,62701,il,green\n")
    assert customers_of(store, path).ignored_columns == ("Favourite colour",)
    customer = stored(store, "C1")
    assert (customer.first_name, customer.last_name, customer.email) == ("Ana", "Silva", "ana@example.com")
    assert (customer.birthday, customer.postal_code, customer.subdivision) == (Birthday(7, 4), "62701", "IL")


def test_more_header_aliases_map_to_fields(store: Store, tmp_path: Path) -> None:
    """Date of Birth, Postcode and Province are recognised, whatever their case and spacing."""
    path = write(tmp_path, "customers.csv", "ID,date of birth,POSTCODE,Province\nC1,1990-01-31,SW1A 1AA,qc\n")
    customers_of(store, path)
    customer = stored(store, "C1")
    assert (customer.birthday, customer.postal_code, customer.subdivision) == (Birthday(1, 31, 1990), "SW1A 1AA", "QC")


def test_file_without_id_column_changes_nothing(store: Store, tmp_path: Path) -> None:
    """A file without an id column is refused whole, naming the headers it has; nothing is stored."""
    path = write(tmp_path, "customers.csv", "Name;Email\nAna;ana@example.com\n")
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value) == (
        f"{path}: has no id column; add a column named 'id' holding each customer's own number or code "
        "(found 'Name', 'Email' (read as UTF-8, semicolon-separated))"
    )
    assert stored_ids(store) == []
    assert leftovers(tmp_path) == []


def test_two_columns_for_one_field_are_refused(store: Store, tmp_path: Path) -> None:
    """Two headers meaning the same field make the file unreadable rather than one silently winning."""
    path = write(tmp_path, "customers.csv", "id,Email,E-mail Address\nC1,a@example.com,b@example.com\n")
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value) == f"{path}: columns 'Email' and 'E-mail Address' both mean email; rename or remove one"


# Re-imports


def test_reimport_updates_by_id_without_duplicates(store: Store, tmp_path: Path) -> None:
    """Importing the same file twice adds N customers, then updates the same N; no row is duplicated."""
    path = write(tmp_path, "customers.csv", HEADER + "C1,Ana,Silva,,\nC2,Ben,Okafor,,\nC3,Chloé,Martin,,\n")
    first = customers_of(store, path)
    second = customers_of(store, path, today=LATER)
    assert (first.added, first.updated, first.skipped) == (3, 0, 0)
    assert (second.added, second.updated, second.skipped) == (0, 3, 0)
    assert stored_ids(store) == ["C1", "C2", "C3"]
    assert stored(store, "C1").added_on == TODAY


def test_missing_column_leaves_stored_value_alone(store: Store, tmp_path: Path) -> None:
    """A later file without the email and birthday columns changes names only."""
    customers_of(store, write(tmp_path, "full.csv", HEADER + "C1,Ana,Silva,ana@example.com,1980-02-29\n"))
    customers_of(store, write(tmp_path, "names.csv", "id,first_name\nC1,Anna\n"))
    customer = stored(store, "C1")
    assert (customer.first_name, customer.last_name) == ("Anna", "Silva")
    assert (customer.email, customer.birthday) == ("ana@example.com", Birthday(2, 29, 1980))


def test_blank_cell_clears_stored_value(store: Store, tmp_path: Path) -> None:
    """A column that is present but blank clears the stored value."""
    customers_of(store, write(tmp_path, "a.csv", HEADER + "C1,Ana,Silva,ana@example.com,1980-02-29\n"))
    customers_of(store, write(tmp_path, "b.csv", HEADER + "C1,Ana,Silva,,\n"))
    assert (stored(store, "C1").email, stored(store, "C1").birthday) == (None, None)


def test_channel_defaults_from_email_or_street(store: Store, tmp_path: Path) -> None:
    """Without a channel, a customer with an email gets email, one with only a street gets post."""
    path = write(tmp_path, "customers.csv", "id,email,street,channel\nC1,a@example.com,,\nC2,,1 Main St,\nC3,,,\n")
    customers_of(store, path)
    assert [stored(store, f"C{n}").channel for n in (1, 2, 3)] == ["email", "post", "email"]


def test_channel_of_known_customer_is_kept_without_contact_columns(store: Store, tmp_path: Path) -> None:
    """Re-importing a file without channel, email or street keeps a chosen channel; with them it follows them."""
    customers_of(store, write(tmp_path, "a.csv", "id,channel\nC1,both\n"))
    customers_of(store, write(tmp_path, "b.csv", "id,first_name\nC1,Ana\n"))
    assert stored(store, "C1").channel == "both"
    customers_of(store, write(tmp_path, "c.csv", "id,street\nC1,1 Main St\n"))
    assert stored(store, "C1").channel == "post"


def test_same_id_twice_refuses_the_second_row(store: Store, tmp_path: Path) -> None:
    """A second row with an id already in the file is refused; the first one is imported."""
    result = customers_of(store, write(tmp_path, "customers.csv", "id,first_name\nC1,Ana\nC1,Anne\n"))
    assert result.messages() == [
        "customers.csv:3: id 'C1' is already used on line 2, which was imported; give each customer one row, "
        "and delete this one from the rejects file unless it should replace that one"
    ]
    assert stored(store, "C1").first_name == "Ana"


# Bad rows: messages and the rejects file


BAD_ROWS = (
    "id,first_name,email,birthday\n"
    "C1,Ana,ana@example.com,1980-02-29\n"
    "C2,Ben,ben@example,31/02/1980\n"
    ',Nobody,"no id, really",\n'
    'C3,"Chloé\nMartin",chloe@example.com,--02-30\n'
    "C4,Dan,dan@example.com,1975-07-04\n"
)
BAD_EMAIL = (
    "email 'ben@example' is not a valid address: The part after the @-sign is not valid. It should have a period."
)


def test_bad_rows_are_reported_by_physical_line(store: Store, tmp_path: Path) -> None:
    """Each bad row is reported as FILE:LINE: why, counting the lines of quoted multi-line cells."""
    result = customers_of(store, write(tmp_path, "customers.csv", BAD_ROWS))
    assert result.messages() == [
        f"customers.csv:3: {BAD_EMAIL}",
        "customers.csv:4: id is missing; every customer needs an id",
        f"customers.csv:5: birthday '--02-30' {NOT_A_DATE}",
    ]
    assert [error.line for error in result.rejected] == [3, 4, 5]
    assert (result.added, result.updated) == (2, 0)
    assert stored_ids(store) == ["C1", "C4"]


def test_rejects_file_holds_bad_rows_with_their_error(store: Store, tmp_path: Path) -> None:
    """Bad rows go to NAME.rejects.csv: the original header and cells, an error column, UTF-8 with a BOM."""
    result = customers_of(store, write(tmp_path, "customers.csv", BAD_ROWS))
    assert result.rejects_path == tmp_path / "customers.rejects.csv"
    expected = (
        "id,first_name,email,birthday,error\r\n"
        f"C2,Ben,ben@example,31/02/1980,{BAD_EMAIL}\r\n"
        ',Nobody,"no id, really",,id is missing; every customer needs an id\r\n'
        f'C3,"Chloé\nMartin",chloe@example.com,\'--02-30,"birthday \'--02-30\' {NOT_A_DATE}"\r\n'
    )
    assert result.rejects_path.read_bytes() == codecs.BOM_UTF8 + expected.encode()


def test_rejects_file_keeps_the_delimiter_and_reuses_its_error_column(store: Store, tmp_path: Path) -> None:
    """Fixed rejects import cleanly; rows still wrong are written again with one error column, semicolon-separated."""
    customers_of(store, write(tmp_path, "customers.csv", "id;birthday\nC1;1981-02-29\nC2;31/02/1980\n"))
    rejects = tmp_path / "customers.rejects.csv"
    rejects.write_text(rejects.read_text(encoding="utf-8-sig").replace("1981-02-29", "1980-02-29"), encoding="utf-8")
    again = customers_of(store, rejects)
    assert (again.added, again.ignored_columns, [e.line for e in again.rejected]) == (1, (), [3])
    assert (tmp_path / "customers.rejects.rejects.csv").read_bytes().decode("utf-8-sig") == (
        f"id;birthday;error\r\nC2;31/02/1980;birthday '31/02/1980' {NOT_A_DATE}\r\n"
    )


def test_clean_import_removes_a_stale_rejects_file(store: Store, tmp_path: Path) -> None:
    """When a corrected file imports without errors, the rejects file of the earlier import is removed."""
    path = write(tmp_path, "customers.csv", "id,birthday\nC1,1981-02-29\n")
    assert customers_of(store, path).rejects_path == tmp_path / "customers.rejects.csv"
    write(tmp_path, "customers.csv", "id,birthday\nC1,1980-02-29\n")
    result = customers_of(store, path)
    assert (result.rejected, result.rejects_path) == ((), None)
    assert leftovers(tmp_path) == []


def test_row_with_extra_cells_is_refused(store: Store, tmp_path: Path) -> None:
    """A row with more filled cells than the header (an unquoted comma) is refused; trailing empty cells are fine."""
    result = customers_of(store, write(tmp_path, "customers.csv", "id,notes\nC1,one, two\nC2,fine,,\n"))
    assert result.messages() == [
        "customers.csv:2: row has 3 cells but the header has 2 columns; put quotes around cells that contain a comma"
    ]
    assert stored_ids(store) == ["C2"]


def test_value_longer_than_its_column_is_refused(store: Store, tmp_path: Path) -> None:
    """A first name longer than the database keeps is refused rather than failing the whole import."""
    path = write(tmp_path, "customers.csv", f"id,first_name\nC1,{'A' * 201}\nC2,Ana\n")
    assert customers_of(store, path).messages() == [
        "customers.csv:2: first_name is 201 characters long; shorten it to at most 200"
    ]
    assert stored_ids(store) == ["C2"]


def test_blank_rows_are_skipped_silently(store: Store, tmp_path: Path) -> None:
    """Empty lines and rows of empty cells, as spreadsheets leave at the end, are neither imported nor refused."""
    result = customers_of(store, write(tmp_path, "customers.csv", "id,first_name\r\n\r\nC1,Ana\r\n,\r\n , \r\n"))
    assert (result.added, result.rejected) == (1, ())


def test_progress_reports_bytes_up_to_the_end(store: Store, tmp_path: Path) -> None:
    """Progress is reported every 5,000 rows and once at the end, in growing byte offsets up to the size."""
    path = write(tmp_path, "customers.csv", "id\n" + "".join(f"C{n}\n" for n in range(12_000)))
    calls: list[tuple[int, int]] = []
    import_customers(store, path, today=TODAY, now=NOW, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert [total for _, total in calls] == [size, size, size]
    assert calls[0][0] < calls[1][0] < calls[2][0] == size


# Files that cannot be read change nothing


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (bytes(range(256)) * 4, NOT_TEXT),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), NOT_TEXT),
        (b"", "is empty; export the sheet again with its header row"),
        (b"\r\n,,\r\n", "is empty; export the sheet again with its header row"),
    ],
    ids=["binary", "zip", "empty", "blank-lines"],
)
def test_unreadable_file_changes_nothing(store: Store, tmp_path: Path, content: bytes, why: str) -> None:
    """A binary or empty file is refused whole; stored customers and an earlier rejects file are untouched."""
    customers_of(store, write(tmp_path, "customers.csv", "id,birthday\nC1,1980-02-29\nC2,1981-02-29\n"))
    rejects_before = (tmp_path / "customers.rejects.csv").read_bytes()
    path = write(tmp_path, "customers.csv", content)
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value) == f"{path}: {why}"
    assert stored_ids(store) == ["C1"]
    assert (tmp_path / "customers.rejects.csv").read_bytes() == rejects_before
    assert leftovers(tmp_path) == ["customers.rejects.csv"]


def test_missing_file_and_other_extensions_are_refused(store: Store, tmp_path: Path) -> None:
    """A missing file, and a file that is neither .csv nor .vcf, are refused with what to do."""
    with pytest.raises(ImportFileError) as missing:
        customers_of(store, tmp_path / "nope.csv")
    assert str(missing.value) == f"{tmp_path / 'nope.csv'}: no such file; check the name and folder"
    sheet = write(tmp_path, "customers.xlsx", b"PK")
    with pytest.raises(ImportFileError) as other:
        customers_of(store, sheet)
    assert str(other.value) == (
        f"{sheet}: cannot import '.xlsx' files; customers come from .csv (a spreadsheet saved as CSV) "
        "or .vcf (vCard contacts) files"
    )


def test_a_quote_never_closed_refuses_the_file(store: Store, tmp_path: Path) -> None:
    """A quote opened and never closed is an error naming the line, not the rest of the file in one cell."""
    path = write(tmp_path, "customers.csv", 'id,first_name,email\nQ1,"Ann,ann@example.com\nQ2,Bob,bob@example.com\n')
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value).startswith(f"{path}:3: cannot be read as CSV (")
    assert str(caught.value).endswith('look for a quote (") opened on or before this line and never closed')
    assert stored_ids(store) == []


def test_a_folder_is_refused_with_what_to_name(store: Store, tmp_path: Path) -> None:
    """A folder given as the file to import is refused by both importers, saying to name a file."""
    for importer in (customers_of, history_of):
        with pytest.raises(ImportFileError) as caught:
            importer(store, tmp_path)
        assert (
            str(caught.value)
            == f"{tmp_path}: is a folder; name the file to import, such as {tmp_path / 'customers.csv'}"
        )


def test_upper_case_extension_is_accepted(store: Store, tmp_path: Path) -> None:
    """CUSTOMERS.CSV is a CSV file too, and its rejects file is CUSTOMERS.rejects.csv."""
    result = customers_of(store, write(tmp_path, "CUSTOMERS.CSV", "id,birthday\nC1,1981-02-29\n"))
    assert result.rejects_path == tmp_path / "CUSTOMERS.rejects.csv"


def test_database_error_rolls_back_the_whole_import(store: Store, tmp_path: Path) -> None:
    """When the database refuses a row, no row of the file is kept, even from earlier batches; no rejects file."""
    add_trigger(store, "customers", "NEW.first_name = 'Boom'")
    rows = "".join(f"C{n},Ana,\n" for n in range(6000)) + "X1,Boom,\nX2,Bad,1981-02-29\n"
    path = write(tmp_path, "customers.csv", "id,first_name,birthday\n" + rows)
    with pytest.raises(StoreError) as caught:
        customers_of(store, path)
    assert str(caught.value) == f"{path}: the database refused the import (refused by a trigger); nothing was imported"
    assert stored_ids(store) == []
    assert leftovers(tmp_path) == []


# Contact history


def seed_customers(store: Store, folder: Path, *ids: str) -> None:
    """Import customers with the given ids."""
    customers_of(store, write(folder, "seed.csv", "id\n" + "".join(f"{i}\n" for i in ids)))


def test_history_rows_are_stored_as_office_local_times(store: Store, tmp_path: Path) -> None:
    """Dates, date-times with a space or a T, any-case kinds and blank summaries are stored as given."""
    seed_customers(store, tmp_path, "C1")
    path = write(
        tmp_path,
        "history.csv",
        "customer_id,date,kind,summary\n"
        "C1,2026-03-01,Purchase,New bike\n"
        "C1,2026-03-02 09:15,CALL,\n"
        "C1,2026-03-03T17:45:30,visit,  Came by  \n",
    )
    result = history_of(store, path)
    assert (result.added, result.skipped, result.rejected) == (3, 0, ())
    assert history(store, "C1") == [
        ContactEvent("C1", dt.datetime(2026, 3, 1), "purchase", "New bike", "import"),
        ContactEvent("C1", dt.datetime(2026, 3, 2, 9, 15), "call", "", "import"),
        ContactEvent("C1", dt.datetime(2026, 3, 3, 17, 45, 30), "visit", "Came by", "import"),
    ]


def test_history_reimport_adds_nothing_twice(store: Store, tmp_path: Path) -> None:
    """Rows already recorded, from an earlier import or earlier in the same file, count as skipped."""
    seed_customers(store, tmp_path, "C1", "C2")
    rows = "C1,2026-03-01,call,Hi\nC2,2026-03-01,call,Hi\nC1,2026-03-01 00:00,call,Hi\n"
    path = write(tmp_path, "history.csv", "customer_id,date,kind,summary\n" + rows)
    first = history_of(store, path)
    second = history_of(store, path)
    assert (first.added, first.skipped) == (2, 1)
    assert (second.added, second.skipped) == (0, 3)
    assert event_count(store) == 2


def test_history_aliases_and_slash_dates(store: Store, tmp_path: Path) -> None:
    """Headers Customer, When, Type and Notes are accepted; slash dates follow the date format."""
    seed_customers(store, tmp_path, "C1")
    path = write(tmp_path, "history.csv", "Customer;When;Type;Notes\nC1;03/04/2026 10:00;email;Sent offer\n")
    assert history_of(store, path).messages() == [
        "history.csv:2: date '03/04/2026' is ambiguous (day/month or month/day?); set [import] date_format in the "
        "config or pass --date-format DD/MM/YYYY or MM/DD/YYYY, or write it as YYYY-MM-DD"
    ]
    assert history_of(store, path, date_format="MM/DD/YYYY").added == 1
    assert history(store, "C1") == [ContactEvent("C1", dt.datetime(2026, 3, 4, 10, 0), "email", "Sent offer", "import")]


def test_bad_history_rows_are_refused_with_reasons(store: Store, tmp_path: Path) -> None:
    """Unknown customers and kinds, bad dates and missing ids are refused; the good rows are stored."""
    seed_customers(store, tmp_path, "C1")
    path = write(
        tmp_path,
        "history.csv",
        "customer_id,date,kind,summary\n"
        "C9,2026-03-01,call,\n"
        "C1,2026-03-01,sing,\n"
        "C1,2026-02-30,call,\n"
        "C1,2026-03-01 25:00,call,\n"
        "C1,,call,\n"
        ",2026-03-01,call,\n"
        "C1,2026-03-01,,\n"
        "C1,2026-11-23,call,\n"
        "C1,2026-03-05,purchase,Helmet\n",
    )
    result = history_of(store, path)
    assert result.messages() == [
        "history.csv:2: customer_id 'C9' is not a known customer; import the customers first, or fix the id",
        "history.csv:3: kind 'sing' is not one of: purchase, call, visit, email, meeting, card, note",
        f"history.csv:4: date '2026-02-30' {NOT_A_DATE}",
        "history.csv:5: date '2026-03-01 25:00' has an impossible time (use 00:00 to 23:59, as HH:MM or HH:MM:SS)",
        "history.csv:6: date is missing; every event needs the day it happened",
        "history.csv:7: customer_id is missing; every row needs the customer_id it is about",
        "history.csv:8: kind is missing; use one of: purchase, call, visit, email, meeting, card, note",
        "history.csv:9: date '2026-11-23' is in the future (today is 2026-11-22 at the office); "
        "history records contacts that have happened",
    ]
    assert history(store, "C1") == [ContactEvent("C1", dt.datetime(2026, 3, 5), "purchase", "Helmet", "import")]
    assert (tmp_path / "history.rejects.csv").read_text(encoding="utf-8-sig").splitlines()[:2] == [
        "customer_id,date,kind,summary,error",
        "C9,2026-03-01,call,,\"customer_id 'C9' is not a known customer; import the customers first, or fix the id\"",
    ]


def test_history_without_required_columns_changes_nothing(store: Store, tmp_path: Path) -> None:
    """A history file without a kind column is refused whole, naming what it needs and what it has."""
    seed_customers(store, tmp_path, "C1")
    path = write(tmp_path, "history.csv", "customer_id\tdate\nC1\t2026-03-01\n")
    with pytest.raises(ImportFileError) as caught:
        history_of(store, path)
    assert str(caught.value) == (
        f"{path}: has no kind column; a history file needs the columns customer_id, date, kind and optionally "
        "summary (found 'customer_id', 'date' (read as UTF-8, tab-separated))"
    )
    assert event_count(store) == 0


def test_history_from_a_vcard_is_refused(store: Store, tmp_path: Path) -> None:
    """Contact history comes from CSV only."""
    path = write(tmp_path, "history.vcf", "BEGIN:VCARD\r\nEND:VCARD\r\n")
    with pytest.raises(ImportFileError) as caught:
        history_of(store, path)
    assert str(caught.value) == (
        f"{path}: cannot import '.vcf' files; contact history comes from a .csv file with the columns "
        "customer_id, date, kind and summary"
    )


def test_history_database_error_keeps_no_event(store: Store, tmp_path: Path) -> None:
    """When the database refuses one event, none of the file's events is kept."""
    seed_customers(store, tmp_path, "C1")
    add_trigger(store, "contact_events", "NEW.summary = 'boom'")
    rows = "C1,2026-03-01,call,fine\nC1,2026-03-02,call,boom\n"
    with pytest.raises(StoreError):
        history_of(store, write(tmp_path, "history.csv", "customer_id,date,kind,summary\n" + rows))
    assert event_count(store) == 0


# vCards


def copy_data(folder: Path, name: str) -> Path:
    """Copy a vCard fixture into the test's folder (the rejects file is written beside it)."""
    return Path(shutil.copy(DATA / name, folder / name))


def test_vcard_3_cards_are_imported(store: Store, tmp_path: Path) -> None:
    """vCard 3.0: N, the preferred EMAIL, BDAY forms, ADR, a folded NOTE with an escaped comma, several cards."""
    result = customers_of(store, copy_data(tmp_path, "contacts-3.0.vcf"))
    assert (result.added, result.updated, result.rejected, result.rejects_path) == (4, 0, (), None)
    assert stored(store, "c-100") == Customer(
        id="c-100",
        first_name="Zoë",
        last_name="Ødegård",
        email="zoe@example.com",
        birthday=Birthday(2, 29, 1980),
        country="NO",
        street="12 Karl Johans gate, Apt 4",
        city="Oslo",
        postal_code="0154",
        notes="Prefers handwritten cards and always asks about the winter sale, folded by the exporter.",
        added_on=TODAY,
    )
    taro, mohammed, ann = stored(store, "c-101"), stored(store, "c-102"), stored(store, "c-103")
    assert (taro.first_name, taro.last_name, taro.birthday) == ("太郎", "山田", Birthday(3, 15))
    assert (mohammed.first_name, mohammed.birthday) == ("محمد", Birthday(7, 4, 1975))
    address = (mohammed.street, mohammed.city, mohammed.subdivision, mohammed.postal_code, mohammed.country)
    assert address == ("1 Main St", "Springfield", "IL", "62701", "US")
    assert (ann.birthday, ann.email, ann.channel) == (Birthday(3, 15), None, "email")


def test_vcard_4_cards_are_imported(store: Store, tmp_path: Path) -> None:
    """vCard 4.0: PREF=1 email, --MM-DD and YYYYMMDD birthdays, and markup kept literally."""
    result = customers_of(store, copy_data(tmp_path, "contacts-4.0.vcf"))
    assert (result.added, result.rejected) == (2, ())
    an = stored(store, "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1")
    assert (an.first_name, an.last_name, an.email, an.birthday) == ("An", "Nguyễn", "an@example.vn", Birthday(2, 29))
    assert (an.street, an.city, an.postal_code, an.country) == ("45 Lý Thường Kiệt", "Hà Nội", "100000", "VN")
    [bob_id] = [i for i in stored_ids(store) if i.startswith("vcard-")]
    bob = stored(store, bob_id)
    assert (bob.first_name, bob.last_name, bob.birthday) == ("Bob", "<b>Bold</b>", Birthday(2, 29, 1980))


def test_vcard_without_uid_gets_the_same_id_every_time(store: Store, tmp_path: Path) -> None:
    """A card without UID gets an id derived from FN, EMAIL and BDAY, so a second import updates it."""
    path = copy_data(tmp_path, "contacts-4.0.vcf")
    customers_of(store, path)
    ids = stored_ids(store)
    second = customers_of(store, path)
    assert (second.added, second.updated) == (0, 2)
    assert stored_ids(store) == ids
    assert [len(i) for i in ids if i.startswith("vcard-")] == [18]


def test_phone_vcard_21_with_quoted_printable(store: Store, tmp_path: Path) -> None:
    """vCard 2.1 from a phone: quoted-printable UTF-8 names and a note continued with '=' are decoded whole."""
    assert customers_of(store, copy_data(tmp_path, "phone-2.1.vcf")).added == 2
    [lukasz] = [stored(store, i) for i in stored_ids(store) if stored(store, i).last_name == "Żółć"]
    assert (lukasz.first_name, lukasz.email) == ("Łukasz", "lukasz@example.pl")
    assert lukasz.notes == "Lubi kawę i długie notatki, które telefon dzieli na dwie linie."


def test_bad_cards_are_refused_by_their_begin_line(store: Store, tmp_path: Path) -> None:
    """A card with a broken line, a bad email or Feb 29 in a common year is refused; the rest are imported."""
    result = customers_of(store, copy_data(tmp_path, "phone-2.1.vcf"))
    assert result.messages() == [
        "phone-2.1.vcf:10: line 13 'this line is not a property' is not a vCard property (NAME:value); "
        "fix or remove it",
        "phone-2.1.vcf:15: email 'tom@@example.com' is not a valid address: The part after the @-sign contains "
        "invalid characters: '@'.",
        f"phone-2.1.vcf:20: birthday '19810229' {NOT_A_DATE}",
    ]
    assert sorted(stored(store, i).last_name for i in stored_ids(store)) == ["Last", "Żółć"]


def test_refused_cards_are_written_to_a_rejects_vcard(store: Store, tmp_path: Path) -> None:
    """Refused cards are copied as found to NAME.rejects.vcf, each with an X-CARDSENDER-ERROR line."""
    result = customers_of(store, copy_data(tmp_path, "phone-2.1.vcf"))
    assert result.rejects_path == tmp_path / "phone-2.1.rejects.vcf"
    expected = (
        "BEGIN:VCARD\r\n"
        "X-CARDSENDER-ERROR:line 10: line 13 'this line is not a property' is not a vCard property (NAME:value); "
        "fix or remove it\r\n"
        "VERSION:2.1\r\nN:Broken;Card\r\nthis line is not a property\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\n"
        "X-CARDSENDER-ERROR:line 15: email 'tom@@example.com' is not a valid address: The part after the @-sign "
        "contains invalid characters: '@'.\r\n"
        "VERSION:2.1\r\nN:Typo;Tom\r\nEMAIL;INTERNET:tom@@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\n"
        f"X-CARDSENDER-ERROR:line 20: birthday '19810229' {NOT_A_DATE}\r\n"
        "VERSION:2.1\r\nN:Leap;Lena\r\nBDAY:19810229\r\nEND:VCARD\r\n"
    )
    assert result.rejects_path.read_bytes() == expected.encode()


def test_fixed_rejects_vcard_imports_cleanly(store: Store, tmp_path: Path) -> None:
    """After fixing the cards in the rejects file, importing it adds them and ignores the error lines."""
    customers_of(store, copy_data(tmp_path, "phone-2.1.vcf"))
    rejects = tmp_path / "phone-2.1.rejects.vcf"
    fixed = rejects.read_bytes().replace(b"this line is not a property\r\n", b"")
    rejects.write_bytes(fixed.replace(b"tom@@", b"tom@").replace(b"19810229", b"19800229"))
    result = customers_of(store, rejects)
    assert (result.added, result.rejected, result.rejects_path) == (3, (), None)
    assert leftovers(tmp_path) == ["phone-2.1.rejects.vcf"]


@pytest.mark.parametrize(
    ("bday", "birthday"),
    [
        ("BDAY:--0229", Birthday(2, 29)),
        ("BDAY:--02-29", Birthday(2, 29)),
        ("BDAY:19800229", Birthday(2, 29, 1980)),
        ("BDAY:1980-02-29", Birthday(2, 29, 1980)),
        ("BDAY:1980-02-29T00:00:00Z", Birthday(2, 29, 1980)),
        ("BDAY;VALUE=date-time:19800229T120000", Birthday(2, 29, 1980)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-02-29", Birthday(2, 29)),
    ],
)
def test_vcard_birthday_forms(store: Store, tmp_path: Path, bday: str, birthday: Birthday) -> None:
    """Every BDAY form that exporters write is read, with or without a year."""
    card = f"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u1\r\nFN:Ana\r\n{bday}\r\nEND:VCARD\r\n"
    assert customers_of(store, write(tmp_path, "c.vcf", card)).rejected == ()
    assert stored(store, "u1").birthday == birthday


def test_vcard_text_keeps_unescaped_commas(store: Store, tmp_path: Path) -> None:
    """FN and NOTE keep everything after an unescaped comma (vobject's own decoding would cut them there)."""
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Smith, Ana\r\nNOTE:tea, cake\\, and\\nbread\r\nEND:VCARD\r\n"
    customers_of(store, write(tmp_path, "c.vcf", card))
    assert (stored(store, "u1").first_name, stored(store, "u1").notes) == ("Smith, Ana", "tea, cake, and\nbread")


def test_vcard_card_cut_short_is_refused(store: Store, tmp_path: Path) -> None:
    """A card without END:VCARD is refused at its BEGIN line and closed in the rejects file; the next is imported."""
    cards = "BEGIN:VCARD\nVERSION:3.0\nUID:u1\nFN:Ana\nBEGIN:VCARD\nVERSION:3.0\nUID:u2\nFN:Ben\nEND:VCARD\n"
    result = customers_of(store, write(tmp_path, "c.vcf", cards))
    assert result.messages() == ["c.vcf:1: card has no END:VCARD before the next card on line 5"]
    assert stored_ids(store) == ["u2"]
    assert (tmp_path / "c.rejects.vcf").read_text(encoding="utf-8") == (
        "BEGIN:VCARD\nX-CARDSENDER-ERROR:line 1: card has no END:VCARD before the next card on line 5\n"
        "VERSION:3.0\nUID:u1\nFN:Ana\nEND:VCARD\n"
    )


def test_file_without_cards_changes_nothing(store: Store, tmp_path: Path) -> None:
    """A .vcf file without any BEGIN:VCARD is refused whole."""
    path = write(tmp_path, "contacts.vcf", "id,first_name\nC1,Ana\n")
    with pytest.raises(ImportFileError) as caught:
        customers_of(store, path)
    assert str(caught.value) == f"{path}: has no vCards (no BEGIN:VCARD line); export the contacts as vCard (.vcf)"
    assert stored_ids(store) == []


def test_result_lists_refused_rows_and_counts_the_unlisted() -> None:
    """Results list refused rows as FILE:LINE: why, and say how many more are only in the rejects file."""
    result = ImportResult(
        path=Path("/x/customers.csv"),
        added=1,
        updated=0,
        skipped=0,
        rejected=(RowError(3, "id is missing; every customer needs an id"),),
        rejects_path=Path("/x/customers.rejects.csv"),
        unlisted_rejects=2,
    )
    assert result.rejected_count == 3
    assert result.messages() == [
        "customers.csv:3: id is missing; every customer needs an id",
        "customers.csv: 2 more rows were refused; all are in customers.rejects.csv",
    ]


def test_many_refused_rows_are_counted_and_all_written(store: Store, tmp_path: Path) -> None:
    """Past 1,000 refused rows the result keeps counting; every refused row is in the rejects file."""
    path = write(tmp_path, "history.csv", "customer_id,date,kind\n" + "C9,2026-03-01,call\n" * 1002)
    result = history_of(store, path)
    assert (len(result.rejected), result.unlisted_rejects, result.rejected_count) == (1000, 2, 1002)
    assert result.messages()[-1] == "history.csv: 2 more rows were refused; all are in history.rejects.csv"
    assert len((tmp_path / "history.rejects.csv").read_bytes().splitlines()) == 1 + 1002


def test_vcard_note_with_a_line_separator_is_one_property(store: Store, tmp_path: Path) -> None:
    """A NOTE holding U+2028 stays one line: only CR and LF end a vCard line."""
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u1\r\nFN:Ana\r\nNOTE:first\u2028second\r\nEND:VCARD\r\n"
    assert customers_of(store, write(tmp_path, "c.vcf", card)).rejected == ()
    assert stored(store, "u1").notes == "first\u2028second"


def test_email_domain_memo_lasts_one_import(store: Store, tmp_path: Path) -> None:
    """The memoized domain check is in place only during an import; email_validator is left as it was."""
    module = importlib.import_module("email_validator.validate_email")
    before = module.validate_email_domain_name
    customers_of(store, write(tmp_path, "customers.csv", "id,email\nC1,ana@example.com\nC2,ben@example.com\n"))
    assert module.validate_email_domain_name is before
    assert stored(store, "C2").email == "ben@example.com"


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("ca", "CA"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Poland", "PL"),
        ("U.S.A.", "US"),
        ("Russia", "RU"),
        ("united kingdom", "GB"),
        ("Deutschland", "DE"),
        ("", ""),
    ],
)
def test_countries_by_code_or_name(store: Store, tmp_path: Path, cell: str, code: str) -> None:
    """A country is stored as its two-letter code whether the file gives the code or a name."""
    customers_of(store, write(tmp_path, "customers.csv", f"id,country\nC1,{cell}\n"))
    assert stored(store, "C1").country == code


def test_an_unknown_country_is_refused_with_what_to_write(store: Store, tmp_path: Path) -> None:
    """A country that is neither a code nor a known name is refused, saying to write the code."""
    result = customers_of(store, write(tmp_path, "customers.csv", "id,country\nC1,Atlantis\n"))
    assert result.messages() == [
        "customers.csv:2: country 'Atlantis' is not a country name or two-letter code; write the code (such as US, "
        "CA, FR)"
    ]

"""Read spreadsheet CSV exports and write the rejects file beside them.

Excel, Google Sheets and LibreOffice write UTF-8 (with or without a BOM) or the
Windows code page cp1252, separate cells with a comma, a semicolon (where the
comma is the decimal mark) or a tab, and quote cells that hold line breaks.
Files are streamed: memory does not grow with their size.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, BinaryIO, Self

from cardsender.domain.errors import ImportFileError
from cardsender.importers.cells import (
    could_be_double_encoded,
    encoding_name,
    escaped_byte,
    mark,
    read_otherwise,
    undo_double_encoding,
    unmark,
)
from cardsender.system.private import open_private, temp_name

if TYPE_CHECKING:
    from _csv import Writer

DELIMITERS = ",;\t"
_CHUNK_BYTES = 1 << 20
_SNIFF_CHARS = 16_384
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# The csv module's own limit on a cell (csv.field_size_limit's default): longer cells refuse their row.
MAX_CELL_CHARS = 131_072
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")


def header_key(name: str) -> str:
    """Return a header compared loosely: no BOM, case, spaces, dashes, underscores or dots."""
    return re.sub(r"[\s\-_.]", "", name.strip().lstrip("\ufeff")).lower()


def rejects_path(path: Path) -> Path:
    """Return where the rows refused from ``path`` go: ``customers.csv`` -> ``customers.rejects.csv``."""
    return path.with_name(f"{path.stem}.rejects{path.suffix.lower()}")


def open_binary(path: Path) -> BinaryIO:
    """Open a file to import, turning OS errors into messages that say what to do."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file; check the name and folder") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder, not a file; name the exported file itself") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc


def csv_encoding(path: Path) -> str:
    """Return a CSV file's encoding: UTF-16 or UTF-8 by a BOM, else UTF-8 unless most of its other text is cp1252.

    The whole file is read in chunks (constant memory), weighing the bytes of
    valid UTF-8 characters against the bytes UTF-8 does not allow, so a few rows
    saved in the other encoding do not decide how every other row is read; those
    rows are refused one by one.  A NUL in the first line marks a binary file.
    """
    fix = "export it again as CSV (in Excel: Save As > CSV UTF-8)"
    with open_binary(path) as fh:
        head = fh.read(_SNIFF_CHARS)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"  # Excel's "Unicode Text" export
        if b"\x00" in re.split(rb"[\r\n]", head, maxsplit=1)[0]:
            raise ImportFileError(f"{path}: is not a text file in UTF-8 or Windows (cp1252) encoding; {fix}")
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        shrunk = unreadable = 0
        while chunk := fh.read(_CHUNK_BYTES):
            text = decoder.decode(chunk)
            if not text.isascii():
                shrunk += len(chunk) - len(text)  # a valid character of n bytes is one character
                unreadable += len(_ESCAPED_BYTES.findall(text))
        unreadable += len(_ESCAPED_BYTES.findall(decoder.decode(b"", final=True)))
    return "utf-8-sig" if shrunk >= unreadable else "cp1252"


def detect_encoding(path: Path, fix: str = "export it again as CSV (in Excel: Save As > CSV UTF-8)") -> str:
    """Return the file's text encoding: UTF-16 by its BOM, else UTF-8 if it decodes, else cp1252.

    The whole file is decoded chunk by chunk with an incremental decoder, so a
    bad byte near the end is found before anything is imported, in constant memory.
    """
    with open_binary(path) as fh:
        start = fh.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode Text" export
    elif b"\x00" in start:
        candidates = []
    else:
        candidates = ["utf-8-sig", "cp1252"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError(f"{path}: is not a text file in UTF-8 or Windows (cp1252) encoding; {fix}")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open_binary(path) as fh:
        try:
            while chunk := fh.read(_CHUNK_BYTES):
                if "\x00" in decoder.decode(chunk):
                    return False  # a text export never holds NUL; this is a binary file
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter of a CSV sample: comma, semicolon or tab.

    ``csv.Sniffer`` decides, restricted to those three; when its choice does not
    occur in the header line but exactly one other candidate does, the header
    wins (free text in the first rows can mislead the sniffer).
    """
    header_line = re.split(r"[\r\n]", sample, maxsplit=1)[0]
    if len(sample) >= _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # sniff whole lines only
    in_header = [d for d in DELIMITERS if d in header_line]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in DELIMITERS and (sniffed in header_line or len(in_header) != 1):
        return sniffed
    return in_header[0] if len(in_header) == 1 else ","


@dataclass(slots=True)
class _RowStart:
    """The row csv is reading: the quotes in its lines so far, and its first line."""

    quotes: int = 0
    first_line: str | None = None


class CsvReader:
    """A CSV file opened for streaming: its header, delimiter and rows with physical line numbers.

    Each row is checked on its own, so one bad row is refused and the others are
    read: a byte the file's encoding does not allow, double-encoded text, a NUL,
    a cell longer than ``MAX_CELL_CHARS`` or a quote in the wrong place.  Only a
    quote never closed, which leaves the rest of the file in one cell, stops it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = csv_encoding(path)
        with path.open("r", encoding=self.encoding, errors="surrogateescape", newline="") as fh:
            self.delimiter = sniff_delimiter(fh.read(_SNIFF_CHARS))
        self._binary = open_binary(path)
        self.total_bytes = os.fstat(self._binary.fileno()).st_size
        # newline="" keeps quoted line breaks intact and counts CR, LF and CRLF as line ends; surrogateescape
        # lets a bad byte through to its own row, which is refused, instead of failing the whole file.
        self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, errors="surrogateescape", newline="")
        # The quotes in the lines of the row being read, and its first line: enough to find the row's end
        # and show its start when csv gives up on it.
        self._row = _RowStart()
        self._lines = self._watched_lines()
        # strict: a quote opened and never closed is an error, not the rest of the file swallowed into one cell.
        self._reader = csv.reader(self._lines, delimiter=self.delimiter, strict=True)
        self._skipped = 0  # lines read past csv to the end of a row it gave up on
        self._records = self._read()
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def _watched_lines(self) -> Iterator[str]:
        row = self._row
        for line in self._text:
            if row.first_line is None:
                row.first_line = line
            if '"' in line:
                row.quotes += line.count('"')
            yield line

    def _read_header(self) -> list[str]:
        for _line, cells, problem in self._records:
            if problem is not None:
                raise ImportFileError(f"{self.path}:1: the header row cannot be read ({problem})")
            if "".join(cells).strip():
                return [
                    unmark(read_otherwise(cell, self.encoding)[0] if escaped_byte(cell) else cell) for cell in cells
                ]
        raise ImportFileError(f"{self.path}: is empty; export the sheet again with its header row")

    def _read(self) -> Iterator[tuple[int, list[str], str | None]]:
        """Yield (first line, cells, None) for each record, or (first line, [], why) for one csv cannot read."""
        reader, row = self._reader, self._row
        end = 0
        while True:
            try:
                for cells in reader:
                    line, end = end + 1, reader.line_num + self._skipped
                    row.quotes, row.first_line = 0, None
                    yield line, cells, None
                return
            except csv.Error as exc:
                line = end + 1
                problem = self._unreadable(str(exc), line)
                end = reader.line_num + self._skipped
                row.quotes, row.first_line = 0, None
                yield line, [], problem

    def _unreadable(self, error: str, line: int) -> str:
        """Skip to the end of a row csv gave up on and say why; a quote never closed refuses the file."""
        first = self._row.first_line or ""
        if error != "unexpected end of data":
            # An even number of quotes so far means the row ended with the line csv stopped in.
            while self._row.quotes % 2:
                if next(self._lines, None) is None:
                    error = "unexpected end of data"
                    break
                self._skipped += 1
        last = self._reader.line_num + self._skipped
        if error == "unexpected end of data":
            raise ImportFileError(
                f"{self.path}:{last}: cannot be read as CSV ({error}); "
                'look for a quote (") opened on or before this line and never closed'
            )
        lines = f"row (lines {line}-{last})" if last > line else "row"
        start = first[:40].rstrip("\r\n") + ("..." if len(first) > 40 else "")
        if error.startswith("field larger than field limit"):
            shown = next(csv.reader([first[:_SNIFF_CHARS]], delimiter=self.delimiter), [])
            column = self._column(max(len(shown) - 1, 0))
            why = (
                f"has a cell longer than {MAX_CELL_CHARS:,} characters, the most a cell may hold ({column}); "
                "shorten it, or split a pasted document into notes of their own"
            )
        else:
            why = (
                f'cannot be read as CSV ({error}); a quote inside a quoted cell is written twice (""), and a '
                "quoted cell ends at a separator"
            )
        return (
            f"{lines} {why}: fix it in {self.path.name}, where it starts {start!r}, and import that file again "
            "(its row in the rejects file holds only this message)"
        )

    def _column(self, index: int) -> str:
        header = getattr(self, "header", [])  # not read yet when the header row itself is the one
        name = header[index].strip() if index < len(header) else ""
        return f"column '{name}'" if name else f"cell {index + 1}"

    def rows(self) -> Iterator[tuple[int, list[str], str | None]]:
        """Yield (line, cells, problem) for each non-blank row after the header; line is where the row starts.

        ``problem`` says why the row is refused, or is None; ``cells`` are then what
        the rejects file should hold.  Rows shorter than the header are padded.
        """
        width = len(self.header)
        for line, cells, problem in self._records:
            if problem is not None:
                yield line, cells, problem
                continue
            joined = "".join(cells)
            if not joined.strip():
                continue
            if len(cells) != width:
                cells, problem = self._fit(cells, width)
            if problem is None and not (
                joined.isascii() and "'" not in joined and "\x00" not in joined and len(joined) <= MAX_CELL_CHARS
            ):
                cells, problem = self._check(cells, joined)
            yield line, cells, problem

    def _fit(self, cells: list[str], width: int) -> tuple[list[str], str | None]:
        """Pad a short row; refuse one with more filled cells than columns, or one cell where there are several.

        Excel leaves out the separators of empty cells at the end of some rows, so a
        short row is padded; but no program writes a lone cell in a file of several
        columns: that is a row written with another separator, or a line of a cell
        broken outside quotes, and its one cell would become the id.
        """
        if len(cells) > width:
            if "".join(cells[width:]).strip():
                return cells, (
                    f"row has {len(cells)} cells but the header has {width} columns; "
                    f"put quotes around cells that contain a {DELIMITER_NAMES[self.delimiter]}"
                )
            return cells, None
        if len(cells) == 1 and width > 1:
            others = [DELIMITER_NAMES[d] + "s" for d in DELIMITERS if d != self.delimiter and d in cells[0]]
            own = DELIMITER_NAMES[self.delimiter]
            if others:
                fix = f"it is separated by {' or '.join(others)}: separate its cells with {own}s like the other rows"
            else:
                fix = "give it its other cells, empty ones too, or join it to the cell it was broken from"
            return cells, f"row has 1 cell but the header has {width} columns; {fix}"
        return cells + [""] * (width - len(cells)), None

    def _check(self, cells: list[str], joined: str) -> tuple[list[str], str | None]:
        """Take the spreadsheet mark off; refuse a NUL, a long cell, an unreadable byte or double encoding.

        Each test runs on the whole row's text first, so a row with accents but nothing
        wrong costs a few scans in C rather than a loop over its cells.
        """
        if "'" in joined:
            cells = [unmark(cell) for cell in cells]
        if "\x00" in joined or len(joined) > MAX_CELL_CHARS:
            for index, cell in enumerate(cells):
                if "\x00" in cell:
                    return [c.replace("\x00", "") for c in cells], (
                        f"{self._column(index)} holds a NUL character (byte 0x00), which no spreadsheet writes, so "
                        "the file may be damaged here; check the row in the rejects file, written there without it, "
                        "and import that file"
                    )
                if len(cell) > MAX_CELL_CHARS:
                    return [c[:MAX_CELL_CHARS] for c in cells], (
                        f"{self._column(index)} is longer than {MAX_CELL_CHARS:,} characters, the most a cell may "
                        "hold; shorten it, or split a pasted document into notes of their own"
                    )
        if joined.isascii():
            return cells, None
        if _ESCAPED_BYTES.search(joined):
            for index, cell in enumerate(cells):
                if (byte := escaped_byte(cell)) is not None:
                    return self._misencoded(cells, index, byte)
        if could_be_double_encoded(joined):
            for index, cell in enumerate(cells):
                if not cell.isascii() and (meant := undo_double_encoding(cell)) is not None:
                    return cells, (
                        f"{self._column(index)} {_shorten(cell)!r} looks like UTF-8 text read as Windows cp1252 "
                        f"(it would read {_shorten(meant)!r}); correct the cell, or export the sheet again as CSV UTF-8"
                    )
        return cells, None

    def _readable(self, cell: str) -> str:
        return read_otherwise(cell, self.encoding)[0] if escaped_byte(cell) is not None else cell

    def _misencoded(self, cells: list[str], index: int, byte: int) -> tuple[list[str], str | None]:
        """Refuse a row with a byte the file's encoding does not allow; give the rejects file its likely reading."""
        readings = [
            read_otherwise(cell, self.encoding) if escaped_byte(cell) is not None else (cell, True) for cell in cells
        ]
        shown, guessed = readings[index]
        own = encoding_name(self.encoding)
        if guessed:
            other = "UTF-8" if self.encoding == "cp1252" else "Windows cp1252"
            why = (
                f"row is not {own} like the rest of the file: {self._column(index)} holds byte 0x{byte:02X}; "
                f"read as {other} it says {_shorten(shown)!r}, as the rejects file has it: check the row there "
                "and import that file"
            )
        else:
            why = (
                f"{self._column(index)} holds byte 0x{byte:02X}, which {own} does not allow there (shown as \ufffd "
                "in the rejects file): retype the cell there and import that file"
            )
        return [cell for cell, _ in readings], why

    def map_header(self, field_of: Callable[[str], str | None]) -> tuple[dict[str, int], tuple[str, ...]]:
        """Return the column index of each field named in the header, and the headers that are ignored.

        Two columns meaning the same field make the file unreadable rather than
        one of them silently winning.  The ``error`` column of a rejects file is
        ignored without a mention.
        """
        columns: dict[str, int] = {}
        ignored: list[str] = []
        for index, cell in enumerate(self.header):
            name = cell.strip()
            field = field_of(name)
            if field is None:
                if name and header_key(name) != "error":
                    ignored.append(name)
            elif field in columns:
                first = self.header[columns[field]].strip()
                raise ImportFileError(
                    f"{self.path}: columns '{first}' and '{name}' both mean {field}; rename or remove one"
                )
            else:
                columns[field] = index
        return columns, tuple(ignored)

    @property
    def bytes_done(self) -> int:
        """Return how far into the file the reader is, in bytes."""
        return self._binary.tell()

    def describe_header(self) -> str:
        """Return the header as the user wrote it, for messages."""
        found = ", ".join(repr(cell.strip()) for cell in self.header if cell.strip())
        return f"{found} (read as {encoding_name(self.encoding)}, {DELIMITER_NAMES[self.delimiter]}-separated)"

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RejectsFile:
    """Rows refused by an import, written to a temporary file that replaces ``path`` once the import commits."""

    def __init__(self, path: Path, encoding: str = "utf-8-sig") -> None:
        self.path = path
        self.encoding = encoding
        self.count = 0
        self._temp: Path | None = None
        self._fh: IO[str] | None = None

    def _file(self) -> IO[str]:
        if self._fh is None:
            # Refused rows are customer data: 0600 whatever the umask, under a name that says which process
            # writes it, so an import killed mid-way leaves a file the next import knows to remove.
            temp = temp_name(self.path)
            try:
                self._fh = open_private(temp, "w", encoding=self.encoding, newline="")
            except OSError as exc:
                raise ImportFileError(
                    f"{self.path}: cannot write the rejects file ({exc.strerror}); "
                    "copy the import file to a folder you can write to"
                ) from exc
            self._temp = temp
        return self._fh

    def commit(self) -> Path | None:
        """Move the rejects into place and return their path; with none, remove a stale file and return None."""
        if self._fh is None or self._temp is None:
            self.path.unlink(missing_ok=True)
            return None
        self._fh.close()
        os.replace(self._temp, self.path)
        return self.path

    def discard(self) -> None:
        """Delete the temporary file: the import failed and changed nothing."""
        if self._fh is not None and self._temp is not None:
            self._fh.close()
            self._temp.unlink(missing_ok=True)
        self._fh = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.discard()


class CsvRejects(RejectsFile):
    """Refused rows in the input's own columns and delimiter, plus an ``error`` column.

    UTF-8 with a BOM, so Excel shows accented names correctly; the user fixes the
    rows and imports the file again (the ``error`` column is ignored then).  A cell
    starting like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets an apostrophe
    before it, so that opening the file runs nothing; the import takes it off again.
    """

    def __init__(self, path: Path, header: list[str], delimiter: str) -> None:
        super().__init__(path)
        self.delimiter = delimiter
        keys = [header_key(cell) for cell in header]
        # A rejects file imported again already has an error column: reuse it.
        self._reuse_error_column = "error" in keys
        self._error_at = keys.index("error") if self._reuse_error_column else len(header)
        self.header = header if self._reuse_error_column else [*header, "error"]
        self._writer: Writer | None = None

    def write(self, cells: list[str], error: str) -> None:
        """Add one refused row with the reason."""
        writer = self._writer
        if writer is None:
            writer = self._writer = csv.writer(self._file(), delimiter=self.delimiter, lineterminator="\r\n")
            writer.writerow([mark(cell) for cell in self.header])
        row = [mark(cell) for cell in cells]
        error = mark(error)
        if self._reuse_error_column:
            row += [""] * (self._error_at + 1 - len(row))
            row[self._error_at] = error
        else:
            row += [""] * (self._error_at - len(row))
            row.insert(self._error_at, error)  # cells beyond the header stay after it
        writer.writerow(row)
        self.count += 1

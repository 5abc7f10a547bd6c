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
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self, TextIO

from cardsender.errors import ImportFileError, InputError

DELIMITERS = ",;\t"
_CHUNK_BYTES = 1 << 20
_SNIFF_CHARS = 16_384
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows cp1252", "utf-16": "UTF-16"}


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


class CsvReader:
    """A CSV file opened for streaming: its header, delimiter and rows with physical line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = detect_encoding(path)
        with path.open("r", encoding=self.encoding, newline="") as fh:
            self.delimiter = sniff_delimiter(fh.read(_SNIFF_CHARS))
        self._binary = open_binary(path)
        self.total_bytes = os.fstat(self._binary.fileno()).st_size
        # newline="" keeps quoted line breaks intact and counts CR, LF and CRLF as line ends.
        self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")
        # strict: a quote opened and never closed is an error, not the rest of the file swallowed into one cell.
        self._reader = csv.reader(self._text, delimiter=self.delimiter, strict=True)
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> list[str]:
        for _line, cells in self._rows():
            return cells
        raise ImportFileError(f"{self.path}: is empty; export the sheet again with its header row")

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        last_line = self._reader.line_num
        try:
            for cells in self._reader:
                line = last_line + 1
                last_line = self._reader.line_num
                if "".join(cells).strip():
                    yield line, cells
        except csv.Error as exc:
            raise ImportFileError(
                f"{self.path}:{self._reader.line_num}: cannot be read as CSV ({exc}); "
                'look for a quote (") opened on or before this line and never closed'
            ) from exc

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line, cells) for each non-blank row after the header; line is where the row starts."""
        return self._rows()

    def fit(self, cells: list[str]) -> list[str]:
        """Return a row padded to the header's width; refuse one with more filled cells than columns."""
        width = len(self.header)
        if len(cells) < width:
            return cells + [""] * (width - len(cells))
        if len(cells) > width and "".join(cells[width:]).strip():
            raise InputError(
                f"row has {len(cells)} cells but the header has {width} columns; "
                f"put quotes around cells that contain a {DELIMITER_NAMES[self.delimiter]}"
            )
        return cells

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
        encoding = _ENCODING_NAMES[self.encoding]
        return f"{found} (read as {encoding}, {DELIMITER_NAMES[self.delimiter]}-separated)"

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RejectsFile:
    """Rows refused by an import, written to a temporary file that replaces ``path`` once the import commits."""

    def __init__(self, path: Path, encoding: str = "utf-8-sig") -> None:
        self.path = path
        self.encoding = encoding
        self.count = 0
        self._temp: Path | None = None
        self._fh: TextIO | None = None

    def _file(self) -> TextIO:
        if self._fh is None:
            # A plain open (not mkstemp) so the file gets the usual permissions from the umask.
            temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                self._fh = temp.open("w", encoding=self.encoding, newline="")
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
    rows and imports the file again (the ``error`` column is ignored then).
    """

    def __init__(self, path: Path, header: list[str], delimiter: str) -> None:
        super().__init__(path)
        self.delimiter = delimiter
        keys = [header_key(cell) for cell in header]
        # A rejects file imported again already has an error column: reuse it.
        self._reuse_error_column = "error" in keys
        self._error_at = keys.index("error") if self._reuse_error_column else len(header)
        self.header = header if self._reuse_error_column else [*header, "error"]
        self._writer: Any = None

    def write(self, cells: list[str], error: str) -> None:
        """Add one refused row with the reason."""
        if self._writer is None:
            self._writer = csv.writer(self._file(), delimiter=self.delimiter, lineterminator="\r\n")
            self._writer.writerow(self.header)
        row = list(cells)
        if self._reuse_error_column:
            row += [""] * (self._error_at + 1 - len(row))
            row[self._error_at] = error
        else:
            row += [""] * (self._error_at - len(row))
            row.insert(self._error_at, error)  # cells beyond the header stay after it
        self._writer.writerow(row)
        self.count += 1

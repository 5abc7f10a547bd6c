"""Import customers from vCard files (.vcf) exported by phones, Outlook and Google Contacts.

vCard 2.1, 3.0 and 4.0 are read with ``vobject``'s line reader, which unfolds
folded lines and decodes the quoted-printable values phones still write
(``allowQP=True`` joins their ``=``-continued lines).  Each card is one customer:

- id: UID; without one, ``vcard-`` and 12 hex digits of a SHA-256 of FN (else N),
  EMAIL and BDAY, so the same card gets the same id on every import;
- first_name, last_name: N (given, family), else the whole FN as first name;
- email: the preferred EMAIL (PREF=1 or TYPE=PREF), else the first;
- birthday: BDAY as ``YYYY-MM-DD``, ``YYYYMMDD``, ``--MM-DD``, ``--MMDD`` or a date-time;
  Apple's ``X-APPLE-OMIT-YEAR`` marks a birthday without a year;
- street (with the extended address and PO box), city, subdivision (region),
  postal_code, country: the preferred ADR, else the first;
- notes: every NOTE, one per line.

A card only sets the fields it has properties for: a re-import never clears a
birthday or address that the card leaves out.  A card that cannot be read is
refused with the line of its ``BEGIN:VCARD``; it is copied to
``NAME.rejects.vcf`` with an ``X-CARDSENDER-ERROR`` line saying why, so the user
can fix the cards there and import that file (the line is ignored then).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import vobject.base
from sqlalchemy import Connection

from cardsender.domain.errors import ImportFileError, InputError
from cardsender.importers.csvfile import RejectsFile, detect_encoding, open_binary
from cardsender.importers.customer_rows import CustomerWriter
from cardsender.importers.fields import parse_customer_fields
from cardsender.importers.results import ImportResult, Progress, Tally

MAX_CARD_CHARS = 5_000_000  # a card with a large photo is a few hundred KB
PROGRESS_CARDS = 1000
ERROR_PROPERTY = "X-CARDSENDER-ERROR"
_ESCAPE = re.compile(r"\\(.)")
_TIME_OF_DAY = re.compile(r"(?<=\d)T[\d:.+\-Z]*$")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def physical_lines(text: str) -> list[str]:
    """Split text after each CR, LF or CRLF, keeping the endings.

    ``str.splitlines`` would also split at U+2028 and other separators that a
    NOTE may hold, and a line reader sees only CR and LF.
    """
    return _LINE.findall(text)


@dataclass(frozen=True, slots=True)
class RawCard:
    """The text of one card as found in the file, from BEGIN:VCARD to END:VCARD."""

    line: int
    text: str
    problem: str | None = None


class VcardReader:
    """A vCard file opened for streaming, card by card."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = detect_encoding(path, "export the contacts again as vCard (.vcf)")
        self._binary = open_binary(path)
        self.total_bytes = os.fstat(self._binary.fileno()).st_size
        self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")

    @property
    def bytes_done(self) -> int:
        """Return how far into the file the reader is, in bytes."""
        return self._binary.tell()

    def cards(self) -> Iterator[RawCard]:
        """Yield each card with the line of its BEGIN:VCARD; text between cards is ignored."""
        lines: list[str] | None = None
        start = size = 0
        found = False
        for number, line in enumerate(self._text, start=1):
            tag = line.strip().upper()
            if tag == "BEGIN:VCARD":
                found = True
                if lines is not None:
                    yield RawCard(start, "".join(lines), f"card has no END:VCARD before the next card on line {number}")
                lines, start, size = [line], number, len(line)
            elif lines is not None:
                lines.append(line)
                size += len(line)
                if tag == "END:VCARD":
                    yield RawCard(start, "".join(lines))
                    lines = None
                elif size > MAX_CARD_CHARS:
                    yield RawCard(start, "".join(lines), "card is larger than 5 MB; remove its photo or split it")
                    lines = None
        if lines is not None:
            yield RawCard(start, "".join(lines), "card has no END:VCARD; the file may be cut short")
        if not found:
            raise ImportFileError(
                f"{self.path}: has no vCards (no BEGIN:VCARD line); export the contacts as vCard (.vcf)"
            )

    def close(self) -> None:
        """Close the file."""
        self._text.close()

    def __enter__(self) -> VcardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VcardRejects(RejectsFile):
    """Refused cards, as found, each with an ``X-CARDSENDER-ERROR`` line after BEGIN:VCARD."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")

    def write(self, card: RawCard, error: str) -> None:
        """Add one refused card with the reason."""
        lines = physical_lines(card.text)
        begin = lines[0]
        ending = begin[len(begin.rstrip("\r\n")) :] or "\r\n"
        reason = " ".join(error.split())
        kept = [line for line in lines[1:] if not line.upper().startswith(ERROR_PROPERTY)]
        if kept and not kept[-1].endswith(("\r", "\n")):
            kept[-1] += ending
        if not kept or kept[-1].strip().upper() != "END:VCARD":
            kept.append(f"END:VCARD{ending}")  # the card was cut short: close it so the file stays readable
        self._file().write("".join([begin, f"{ERROR_PROPERTY}:line {card.line}: {reason}{ending}", *kept]))
        self.count += 1


@dataclass(frozen=True, slots=True)
class Property:
    """One property of a card: its name, parameters and value, still backslash-escaped."""

    name: str
    params: dict[str, list[str]]
    types: frozenset[str]
    value: str

    @property
    def text(self) -> str:
        """Return the value unescaped."""
        return _unescape(self.value).strip()

    def components(self) -> list[str]:
        """Return the parts of a structured value (N, ADR), split at unescaped semicolons."""
        parts: list[str] = []
        current: list[str] = []
        chars = iter(self.value)
        for char in chars:
            if char == "\\":
                current.append(char + next(chars, ""))
            elif char == ";":
                parts.append(_unescape("".join(current)).strip())
                current = []
            else:
                current.append(char)
        parts.append(_unescape("".join(current)).strip())
        return parts

    @property
    def rank(self) -> int:
        """Return how preferred the property is: PREF=1 (4.0) or TYPE=PREF (2.1, 3.0) first."""
        pref = self.params.get("PREF")
        if pref:
            return int(pref[0]) if pref[0].isdigit() else 1
        return 1 if "PREF" in self.types else 101


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value)


def read_properties(card: RawCard) -> dict[str, list[Property]]:
    """Return a card's properties by name, or raise InputError naming the line that cannot be read.

    vobject unfolds the lines, joins quoted-printable soft line breaks and decodes
    quoted-printable values in their CHARSET.  Values are unescaped here rather
    than by vobject's vCard behaviours, which cut a text value such as NOTE or FN
    at its first unescaped comma (vCard 2.1 does not escape commas).
    """
    text = "".join(line.rstrip("\r\n") + "\n" for line in physical_lines(card.text))
    properties: dict[str, list[Property]] = {}
    for logical, number in vobject.base.getLogicalLines(io.StringIO(text), allowQP=True):
        line = card.line + max(number, 1) - 1
        try:
            content = vobject.base.textLineToContentLine(logical, number)
        except vobject.base.ParseError:
            shown = logical if len(logical) <= 60 else logical[:57] + "..."
            raise InputError(f"line {line} '{shown}' is not a vCard property (NAME:value); fix or remove it") from None
        except (UnicodeError, LookupError, ValueError) as exc:
            raise InputError(f"line {line} cannot be decoded ({exc}); check its ENCODING and CHARSET") from None
        params = {name: [str(v) for v in values] for name, values in content.params.items()}
        listed = [*params.get("TYPE", []), *content.singletonparams]
        types = frozenset(kind.strip().upper() for entry in listed for kind in str(entry).split(","))
        properties.setdefault(content.name, []).append(Property(content.name, params, types, str(content.value)))
    return properties


def _preferred(properties: dict[str, list[Property]], name: str) -> Property | None:
    found = properties.get(name, [])
    return min(found, key=lambda p: p.rank) if found else None  # min keeps the first of equal rank


def _birthday(bday: Property) -> str:
    text = _TIME_OF_DAY.sub("", bday.text)  # a date-time such as 1980-02-29T00:00:00Z
    # Apple Contacts writes a birthday without a year as 1604-MM-DD with X-APPLE-OMIT-YEAR=1604.
    omitted = bday.params.get("X-APPLE-OMIT-YEAR")
    if omitted and text.startswith(omitted[0]):
        text = "--" + text[len(omitted[0]) :].lstrip("-")
    return text


def _derived_id(properties: dict[str, list[Property]]) -> str:
    parts = [p.text if (p := _preferred(properties, key)) else "" for key in ("FN", "EMAIL", "BDAY")]
    if not parts[0] and (n := _preferred(properties, "N")):
        parts[0] = n.text  # vCard 2.1 and 4.0 cards may have N without FN
    if not any(parts):
        raise InputError("card has no UID, and no name, email or birthday to recognise it by; add a UID line")
    return "vcard-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def card_fields(card: RawCard) -> dict[str, str]:
    """Return the customer fields of one card, as text, or raise InputError."""
    properties = read_properties(card)
    raw: dict[str, str] = {}
    uid = _preferred(properties, "UID")
    raw["id"] = uid.text if uid else _derived_id(properties)
    n = _preferred(properties, "N")
    family, given = ([*n.components(), "", ""][:2]) if n else ("", "")
    fn = _preferred(properties, "FN")
    if given or family:
        raw["first_name"], raw["last_name"] = given, family
    elif fn and fn.text:
        raw["first_name"], raw["last_name"] = fn.text, ""
    if email := _preferred(properties, "EMAIL"):
        raw["email"] = email.text
    if bday := _preferred(properties, "BDAY"):
        raw["birthday"] = _birthday(bday)
    if adr := _preferred(properties, "ADR"):
        box, extended, street, city, region, code, country = [*adr.components(), *[""] * 7][:7]
        raw["street"] = ", ".join(part for part in (street, extended, box) if part)
        raw["city"], raw["subdivision"], raw["postal_code"], raw["country"] = city, region, code, country
    if notes := properties.get("NOTE"):
        raw["notes"] = "\n".join(note.text for note in notes if note.text)
    return raw


def import_cards(
    conn: Connection,
    reader: VcardReader,
    rejects: VcardRejects,
    *,
    today: dt.date,
    now: dt.datetime,
    date_format: str | None,
    progress: Progress | None,
    offices: Collection[str],
    default_office: str,
    office_days: Mapping[str, dt.date] | None,
) -> ImportResult:
    """Upsert every readable card; copy refused cards to ``rejects``."""
    writer = CustomerWriter(
        conn, today=today, now=now, offices=offices, default_office=default_office, office_days=office_days
    )
    tally = Tally()
    for count, card in enumerate(reader.cards(), start=1):
        try:
            if card.problem is not None:
                raise InputError(card.problem)
            writer.add(card.line, parse_customer_fields(card_fields(card), date_format))
        except InputError as exc:
            tally.reject(card.line, str(exc))
            rejects.write(card, str(exc))
        if progress is not None and count % PROGRESS_CARDS == 0:
            progress(reader.bytes_done, reader.total_bytes)
    writer.flush()
    tally.added, tally.updated = writer.added, writer.updated
    return tally.result(reader.path)

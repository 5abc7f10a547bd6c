"""Check the text of one CSV row: bytes the file's encoding cannot read, double encoding, the spreadsheet mark.

Rows are decoded with ``surrogateescape``, so a byte the file's encoding does not
allow arrives as a lone surrogate (U+DC80 to U+DCFF) instead of failing the whole
file; the row holding it is refused and shown in the other encoding.  Pure
functions on strings: nothing here reads files.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

# Cells starting with these are formulas to Excel, LibreOffice and Google Sheets ("CSV injection").
FORMULA_STARTS = "=+-@\t\r"
# A cell cardsender wrote for a spreadsheet, as a value that itself starts like a formula (or like such a mark).
_MARKED = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_MARK = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")

ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows cp1252", "utf-16": "UTF-16"}
# Where a row is not valid in the file's encoding, the encoding it was most likely written in.
_OTHER_ENCODING = {"utf-8-sig": "cp1252", "cp1252": "utf-8"}


def _byte_of_char() -> dict[str, int]:
    """Map each character that a byte 0x80-0xFF becomes in cp1252 or Latin-1 back to that byte."""
    table = {chr(byte): byte for byte in range(0x80, 0x100)}  # Latin-1: the byte is the code point
    for byte in range(0x80, 0xA0):
        # cp1252 puts quotes, dashes and the euro here, and leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D unused.
        with contextlib.suppress(UnicodeDecodeError):
            table[bytes([byte]).decode("cp1252")] = byte
    return table


_BYTE_OF = _byte_of_char()
_TAIL = "[" + "".join(re.escape(char) for char, byte in _BYTE_OF.items() if byte <= 0xBF) + "]"
# A UTF-8 character read one byte at a time as cp1252: a lead byte and its continuation bytes.
_MOJIBAKE = re.compile(f"[\u00c2-\u00df]{_TAIL}|[\u00e0-\u00ef]{_TAIL}{{2}}|[\u00f0-\u00f4]{_TAIL}{{3}}")
# Scripts a two-byte sequence led by Æ to ß may stand for; French or German capitals before » or …
# ("«CAFÉ»", "ALLÔ…") read as IPA or rare letters instead, and are left alone.
_WEAK_SCRIPTS = ((0x0180, 0x024F), (0x0370, 0x04FF), (0x0590, 0x06FF))


def unmark(cell: str) -> str:
    """Take off the apostrophe that ``mark`` puts before a cell starting like a formula."""
    return cell[1:] if cell[:1] == "'" and _MARKED.match(cell) else cell


def mark(cell: str) -> str:
    """Return a cell safe to open in a spreadsheet: an apostrophe before one that starts like a formula.

    A cell already starting with apostrophes before such a character gets one more,
    so that ``unmark`` gives back exactly the cell.
    """
    return "'" + cell if _NEEDS_MARK.match(cell) else cell


def escaped_byte(cell: str) -> int | None:
    """Return the first byte of a cell that its file's encoding could not read, or None."""
    found = _ESCAPED_BYTE.search(cell)
    return ord(found[0]) - 0xDC00 if found else None


def read_otherwise(cell: str, encoding: str) -> tuple[str, bool]:
    """Return a cell holding unreadable bytes as the other usual encoding reads it, and whether it could.

    A cell that reads in neither keeps U+FFFD in place of each byte that does not.
    """
    other = _OTHER_ENCODING.get(encoding)
    if other is None:
        return _ESCAPED_BYTE.sub("\ufffd", cell), False
    own = "utf-8" if encoding == "utf-8-sig" else encoding
    raw = cell.encode(own, "surrogateescape")
    try:
        return raw.decode(other), True
    except UnicodeDecodeError:
        return raw.decode(own, "replace"), False


def encoding_name(encoding: str) -> str:
    """Return an encoding as a user knows it: UTF-8, Windows cp1252, UTF-16."""
    return ENCODING_NAMES.get(encoding, encoding)


def could_be_double_encoded(text: str) -> bool:
    """Return whether text may hold double encoding: the cheap test to run before ``undo_double_encoding``."""
    return _MOJIBAKE.search(text) is not None


def undo_double_encoding(cell: str) -> str | None:
    """Return what a cell says if it is UTF-8 text that was read as cp1252 (or Latin-1), else None.

    A sequence is taken for double encoding only when its bytes are one valid UTF-8
    character that is not a control: Ã« is ë, Ã… is Å, â€™ is a closing quote.  One sequence is
    enough when it starts with Â to Å (Latin-1 and Latin Extended-A letters and
    signs) or is three or four characters long; one starting with Æ to ß must stand
    for a Latin Extended-B, Greek, Cyrillic, Hebrew or Arabic letter and follow
    another such sequence directly, as the letters of a Greek or Cyrillic word do.
    So "Ãngel", "São", "«CAFÉ»" and "«PASÓ» «LLEGÓ»" are read as written.
    """
    strong = 0
    chained = False
    pieces: list[str] = []
    last, weak_end = 0, -1
    for found in _MOJIBAKE.finditer(cell):
        try:
            char = bytes(_BYTE_OF[c] for c in found[0]).decode("utf-8")
        except UnicodeDecodeError:
            continue  # an overlong or surrogate form: not something UTF-8 text ever holds
        if unicodedata.category(char).startswith("C"):
            continue
        if len(found[0]) > 2 or found[0][0] <= "\u00c5":
            strong += 1
        elif any(low <= ord(char) <= high for low, high in _WEAK_SCRIPTS):
            chained = chained or found.start() == weak_end
            weak_end = found.end()
        else:
            continue
        pieces += [cell[last : found.start()], char]
        last = found.end()
    if strong == 0 and not chained:
        return None
    return "".join([*pieces, cell[last:]])

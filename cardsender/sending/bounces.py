"""Read bounces that come back later by email: delivery-status reports (RFC 3464).

The office mailbox is exported as an .mbox file (Thunderbird's folder files have
no extension; Apple Mail exports a folder ``NAME.mbox`` holding a file ``mbox``)
or as a folder of .eml files.  A report is a message holding a
``message/delivery-status`` part (``message/global-delivery-status`` for
SMTPUTF8, RFC 6533): a block of per-message fields, then one block per
recipient, separated by blank lines.  Each recipient block names the address
(``Final-Recipient: rfc822; user@example.com``), what happened
(``Action: failed`` or ``delayed``), the code (``Status: 5.1.1``) and usually
the server's reply (``Diagnostic-Code: smtp; 550 5.1.1 User unknown``).  A
later ``message/rfc822`` or ``text/rfc822-headers`` part carries the original
message or its headers, hence its Message-ID.

Only permanent failures (a 5.x.x status) are bounces: a 4.x.x status means a
full mailbox or a server that is down, even when the reporting server has given
up (Postfix reports ``Action: failed`` with the last 4.x.x status on expiry).
Each message counts once: it gives bounces, else it is a delay notice if it
reports a transient failure, else it is other mail (success notices, reports
in a private format, ordinary mail, messages too broken to read).
"""

from __future__ import annotations

import base64
import binascii
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, message_from_string
from email.errors import MessageError
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path

from cardsender.domain.errors import ImportFileError

_SNIFF_BYTES = 8192
_REPORT_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ORIGINAL_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"})
# RFC 3464 allows each of these once per recipient; a repeat means the next recipient's fields have begun.
_ONCE_PER_RECIPIENT = frozenset({"original-recipient", "final-recipient", "action", "status"})
_STATUS_CODE = re.compile(r"(?:^|[\s-])([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
_REPLY_CODE = re.compile(r"^([245])\d\d(?:[\s-]|$)")
_TYPE_PREFIX = re.compile(r"^[A-Za-z][\w.-]*\s*;\s*")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True, slots=True)
class Bounce:
    """One recipient that a delivery-status report says cannot receive mail."""

    address: str  # the Final-Recipient address, lower-cased, without the "rfc822;" type
    status: str  # e.g. "5.1.1"
    diagnostic: str  # the Diagnostic-Code text without its type prefix, or ""
    original_message_id: str | None  # the bounced message's Message-ID with its angle brackets, when the report has it
    source: str  # where it was found: "FILE" for an .eml, or "FILE:N" for the Nth message (1-based) of an mbox


@dataclass(frozen=True, slots=True)
class BounceScan:
    """What reading a file or folder of reports found."""

    bounces: tuple[Bounce, ...]  # permanent failures only (a 5.x.x Status), each (address, message id) once
    delayed: int  # reports of delays or 4.x.x (transient) failures only: counted, not returned as bounces
    other: int  # messages reporting no failure: ordinary mail, success notices, private formats, broken messages


@dataclass(frozen=True, slots=True)
class _Findings:
    """What one message reports: its permanent failures and whether it reports a transient one."""

    bounces: tuple[Bounce, ...] = ()
    transient: bool = False


def read_bounces(path: Path) -> BounceScan:
    """Read delivery-status reports from an .mbox file, a single .eml file, or a folder of .eml files."""
    if not path.exists():
        raise ImportFileError(
            f"{path}: no such file or folder; check the name, or export the bounces from the mailbox "
            "as an .mbox file or as .eml files into a folder"
        )
    bounces: dict[tuple[str, str | None], Bounce] = {}
    delayed = other = 0
    messages = _folder_messages(path) if path.is_dir() else _file_messages(path)
    for source, raw in messages:
        findings = _read_report(raw, source)
        for bounce in findings.bounces:
            bounces.setdefault((bounce.address, bounce.original_message_id), bounce)
        if findings.bounces:
            continue
        if findings.transient:
            delayed += 1
        else:
            other += 1
    return BounceScan(tuple(bounces.values()), delayed, other)


def _folder_messages(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Yield each .eml file of a folder, by name; an Apple Mail export is read as the mbox it holds."""
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
    except OSError as exc:
        raise ImportFileError(f"{folder}: cannot be read ({exc.strerror}); check its permissions") from exc
    if not files and (folder / "mbox").is_file():
        yield from _file_messages(folder / "mbox")
        return
    if not files:
        raise ImportFileError(
            f"{folder}: has no .eml files; save the bounce messages into it as .eml files, or export the "
            "mailbox folder as an .mbox file and name that file"
        )
    for file in files:
        yield str(file), _read_bytes(file)


def _file_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield the messages of an mbox file (one starting with a "From " line), else the file as one message."""
    suffix = path.suffix.lower()
    if suffix != ".eml" and _read_bytes(path, _SNIFF_BYTES).startswith(b"From "):
        yield from _mbox_messages(path)
    elif suffix == ".mbox":
        raise ImportFileError(
            f"{path}: is not an mbox file (it does not start with a 'From ' line); export the mailbox folder "
            "again as .mbox, or save the messages as .eml files"
        )
    else:
        yield str(path), _read_bytes(path)


def _mbox_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield each message of an mbox file, numbered from 1, without its "From " line."""
    try:
        box = mailbox.mbox(path, create=False)
        keys = sorted(box.iterkeys())
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    try:
        for number, key in enumerate(keys, start=1):
            yield f"{path}:{number}", box.get_bytes(key)
    finally:
        box.close()


def _read_bytes(path: Path, size: int = -1) -> bytes:
    """Return a file's bytes (or its first ``size``), refusing unreadable, empty and binary files."""
    try:
        with path.open("rb") as fh:
            data = fh.read(size)
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from exc
    if not data:
        raise ImportFileError(f"{path}: is empty; export the bounce messages again as .eml files or an .mbox file")
    if b"\x00" in data[:_SNIFF_BYTES]:
        # Mail is text (binary attachments are base64); NUL bytes mean an Outlook .msg or .pst, a zip, a PDF...
        raise ImportFileError(
            f"{path}: is not an email file (it holds binary data); save the messages as .eml files or export "
            "the mailbox folder as .mbox (Outlook's .msg and .pst files cannot be read)"
        )
    return data


def _read_report(raw: bytes, source: str) -> _Findings:
    """Return what a message reports about its recipients; nothing if it is not a delivery-status report."""
    try:
        # compat32 keeps raw header strings and records defects instead of raising; policy.default raises
        # IndexError on Message-IDs that Exchange writes, such as <[abc==@microsoft.com]> (python/cpython#105802).
        message = message_from_bytes(raw, policy=compat32)
        parts = list(_parts(message))
    except (RecursionError, MessageError):
        # The parser recurses once per MIME level: a message nested a thousand deep exceeds the recursion limit.
        return _Findings()
    blocks = [block for part in parts if part.get_content_type() in _REPORT_TYPES for block in _field_blocks(part)]
    if not blocks:
        return _Findings()
    original_id = _original_message_id(parts, blocks)
    bounces: list[Bounce] = []
    transient = False
    for fields in _recipients(blocks):
        address = _address(fields.get("final-recipient", "")) or _address(fields.get("original-recipient", ""))
        action = fields.get("action", "").lower().partition(" ")[0]
        diagnostic = _TYPE_PREFIX.sub("", fields.get("diagnostic-code", ""), count=1)
        status = _status(fields.get("status", ""), diagnostic, action)
        if not address:
            continue
        if action == "delayed" or status.startswith("4"):
            transient = True
        elif status.startswith("5"):
            bounces.append(Bounce(address, status, diagnostic, original_id, source))
    return _Findings(tuple(bounces), transient)


def _parts(part: Message) -> Iterator[Message]:
    """Yield a message and its parts depth first, without entering attached messages."""
    yield part
    if part.get_content_maintype() == "multipart":
        for child in _attached(part):
            yield from _parts(child)


def _attached(part: Message) -> list[Message]:
    """Return the messages a part holds: its parts, its attached message, or its blocks of fields."""
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _field_blocks(part: Message) -> list[list[tuple[str, str]]]:
    """Return the blocks of fields of a delivery-status part as (lower-case name, unfolded value) pairs."""
    encoding = part.get("Content-Transfer-Encoding", "").strip().lower()
    if part.get_content_type() == "message/delivery-status" and encoding != "base64":
        # The parser splits message/delivery-status into one header-only Message per blank-line separated block.
        blocks = _attached(part)
    else:
        text = _report_text(part, encoding)
        blocks = [message_from_string(block, policy=compat32) for block in _BLANK_LINE.split(text)]
    return [[(name.lower(), _field_text(value)) for name, value in block.items()] for block in blocks]


def _report_text(part: Message, encoding: str) -> str:
    """Return the text of a delivery-status part that the parser did not split into blocks of fields."""
    if encoding == "base64":
        # Some servers base64-encode the part; the parser, taking the encoded lines for fields, left them as bodies.
        try:
            data = base64.b64decode("".join(str(block.get_payload()) for block in _attached(part)))
        except binascii.Error:
            return ""
    else:
        # The parser reads message/global-delivery-status like an attached message: the first block as its
        # headers, the other blocks as its body.
        data = b"".join(block.as_bytes() for block in _attached(part))
    return data.decode("utf-8", "replace")


def _recipients(blocks: list[list[tuple[str, str]]]) -> list[dict[str, str]]:
    """Return the fields of each recipient; a block that repeats a recipient's field holds several recipients."""
    records: list[dict[str, str]] = []
    for block in blocks:
        record: dict[str, str] = {}
        for name, value in block:
            if name in _ONCE_PER_RECIPIENT and name in record:
                records.append(record)
                record = {}
            record.setdefault(name, value)
        records.append(record)
    return [record for record in records if "final-recipient" in record or "original-recipient" in record]


def _field_text(value: object) -> str:
    """Return a field's value unfolded onto one line, with 8-bit bytes read as UTF-8."""
    if isinstance(value, Header):
        # compat32 hands back a Header, not a str, when the raw value holds non-ASCII bytes.
        value = "".join(
            chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
            for chunk, _charset in decode_header(value)
        )
    return " ".join(str(value).split())


def _address(value: str) -> str:
    """Return the address of a recipient field, lower-cased, without its type ("rfc822;"); "" if it has none."""
    address = parseaddr(_TYPE_PREFIX.sub("", value, count=1))[1]
    return address.lower() if "@" in address else ""


def _status(status: str, diagnostic: str, action: str) -> str:
    """Return the recipient's status code: the Status field's, else the one the server replied, else a class."""
    if match := _STATUS_CODE.match(status.strip()):
        return match[1]
    if match := _STATUS_CODE.search(diagnostic):
        return match[1]
    if match := _REPLY_CODE.match(diagnostic):
        return f"{match[1]}.0.0"
    # RFC 3464: "failed" means the server has given up; X.0.0 is RFC 3463's "other undefined status".
    return "5.0.0" if action == "failed" else ""


def _original_message_id(parts: list[Message], blocks: list[list[tuple[str, str]]]) -> str | None:
    """Return the bounced message's Message-ID from the original attached to a report, else from the report."""
    for part in parts:
        if part.get_content_type() in _ORIGINAL_TYPES and (found := _attached_message_id(part)):
            return found
    # Gmail also names it in the per-message fields.
    in_report = (_message_id(value) for block in blocks for name, value in block if name == "x-original-message-id")
    return next(in_report, None)


def _attached_message_id(part: Message) -> str | None:
    """Return the Message-ID of an attached original message, or of its attached headers."""
    if isinstance(part.get_payload(), list):
        attached = _attached(part)
        return _message_id(attached[0].get("Message-ID")) if attached else None
    data = part.get_payload(decode=True)  # text/rfc822-headers may be sent base64 or quoted-printable
    if isinstance(data, bytes):
        return _message_id(BytesHeaderParser(policy=compat32).parsebytes(data).get("Message-ID"))
    return None


def _message_id(value: object) -> str | None:
    """Return the <id> of a Message-ID header, else its text if it has no brackets; None if it is empty."""
    if value is None:
        return None
    text = _field_text(value)
    match = _MESSAGE_ID.search(text)
    return match[0] if match else text or None

"""Build the email of a card (and the digest) as the exact bytes that go out.

Customer and staff text in a header is data, never markup.  The ``email`` package's
header registry decodes RFC 2047 encoded words it is given, so a first name such as
``=?utf-8?q?Bob=0D=0ABcc:_x@evil.example?=`` would come out as a real ``Bcc:`` line:
headers are therefore written here, not through it.  A display name or subject that
is not plain ASCII words is sent as RFC 2047 encoded words (whose decoding is the
text exactly as given, encoded words, quotes, brackets and all), and control
characters become spaces.  Only the MIME body comes from ``EmailMessage``.

Addresses are checked with email-validator: an internationalised domain goes in the
envelope in its IDNA (ASCII) form, and an address with letters beyond ASCII before
the ``@`` needs a server that offers SMTPUTF8.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email

from cardsender.cards.render import RenderedCard
from cardsender.config.model import OfficeConfig
from cardsender.domain.errors import InputError
from cardsender.domain.records import Customer

# Words a header may carry as they are: ASCII letters, digits, spaces and the atom characters that mean
# nothing in a phrase.  Anything else (quotes, commas, brackets, '@', '=' and '?' of an encoded word,
# letters beyond ASCII) is encoded, so no reader can take it for structure.
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/^_`{|}~ -]*")
_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LINE = 78
_ENCODED_WORD = 75
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


@dataclass(frozen=True, slots=True)
class MailAddress:
    """An address as checked: the envelope form (IDNA domain), the header form, and whether it needs SMTPUTF8."""

    envelope: str
    header: str
    smtputf8: bool


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message ready to hand over: the envelope, its Message-ID, and the bytes of the message (CRLF)."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    smtputf8: bool = False

    def __bytes__(self) -> bytes:
        return self.data


def mail_address(text: str, what: str = "address") -> MailAddress:
    """Check an address and return its forms; raise InputError saying what is wrong with it."""
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"the {what} '{text}' is not a valid email address: {exc}") from None
    if checked.ascii_email:
        return MailAddress(checked.ascii_email, checked.ascii_email, smtputf8=False)
    # Letters beyond ASCII before the @: only a server with SMTPUTF8 can take it; the domain still goes as IDNA.
    return MailAddress(f"{checked.local_part}@{checked.ascii_domain}", str(checked.normalized), smtputf8=True)


def clean_text(text: str) -> str:
    """Return header text on one line: control characters and line breaks become spaces, runs of spaces one."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _encoded(text: str) -> str:
    """Return text as RFC 2047 encoded words (UTF-8, base64), one per line of the folded header.

    Words are split only after a space, which stays inside the word before the fold: readers drop the
    folding white space between two encoded words (RFC 2047), so the text comes back exactly.  One word
    too long for an encoded word of 75 characters stays whole rather than be cut in two.
    """
    chunks: list[str] = []
    current = ""
    for piece in re.split(r"(?<= )", text):
        if current and len(_encoded_word(current + piece)) > _ENCODED_WORD:
            chunks.append(current)
            current = piece
        else:
            current += piece
    chunks.append(current)
    return "\r\n ".join(_encoded_word(chunk) for chunk in chunks if chunk)


def _encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode('ascii')}?="


def _fold(text: str, name: str) -> str:
    """Fold plain ASCII text at spaces so lines stay within 78 characters where a word allows."""
    lines: list[str] = []
    line = ""
    room = _LINE - len(name) - 2
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line, room = word, _LINE - 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


def phrase(text: str, name: str) -> str:
    """Return a display name for the header ``name``: as it is when plain words, else encoded words."""
    words = clean_text(text)
    if _PLAIN_PHRASE.fullmatch(words):
        return words
    return _encoded(words)


def unstructured(text: str, name: str) -> str:
    """Return a header value such as a subject: folded ASCII, or encoded words when it holds anything else."""
    words = clean_text(text)
    if _PLAIN_TEXT.fullmatch(words) and "=?" not in words:
        return _fold(words, name)
    return _encoded(words)


def mailbox(display_name: str, address: MailAddress, name: str) -> str:
    """Return ``Display Name <address>`` for a header (the address alone without a name)."""
    shown = phrase(display_name, name)
    return f"{shown} <{address.header}>" if shown else address.header


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def compose(
    *,
    sender_name: str,
    sender: MailAddress,
    recipient_name: str,
    recipient: MailAddress,
    subject: str,
    text: str,
    html: str | None,
    now: dt.datetime,
    extra_headers: tuple[tuple[str, str], ...] = (),
) -> OutgoingMessage:
    """Return a message whose headers are exactly these, written here, over a MIME body of text and HTML."""
    body = EmailMessage(policy=email.policy.SMTP)
    body.set_content(text, charset="utf-8")
    if html is not None:
        body.add_alternative(html, subtype="html", charset="utf-8")
    message_id = make_msgid(domain=_domain(sender.envelope))
    headers = [
        ("From", mailbox(sender_name, sender, "From")),
        ("To", mailbox(recipient_name, recipient, "To")),
        *extra_headers,
        ("Subject", unstructured(subject, "Subject")),
        ("Date", format_datetime(now.replace(tzinfo=dt.UTC))),
        ("Message-ID", message_id),
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    smtputf8 = sender.smtputf8 or recipient.smtputf8
    # Only an address may carry raw UTF-8 in a header, and then the server must take SMTPUTF8.
    data = head.encode("utf-8" if smtputf8 else "ascii") + body.as_bytes()
    return OutgoingMessage(sender.envelope, (recipient.envelope,), message_id, data, smtputf8)


def build_email(card: RenderedCard, customer: Customer, office: OfficeConfig, now: dt.datetime) -> OutgoingMessage:
    """Return the message for a card: a text part, an HTML alternative, a fresh Message-ID and the opt-out header."""
    if not customer.email:
        raise InputError(f"customer {customer.id} has no email address")
    sender = mail_address(office.from_address, "office's from_address")
    recipient = mail_address(customer.email, f"email of customer {customer.id}")
    reply_to = mail_address(office.reply_to, "office's reply_to") if office.reply_to else sender
    extra: list[tuple[str, str]] = []
    if office.reply_to:
        extra.append(("Reply-To", reply_to.header))
    mailto = f"<mailto:{reply_to.envelope}?subject=unsubscribe>"
    if office.unsubscribe_url:
        # Anything a URL may not hold as it is (spaces, brackets, line breaks) is percent-encoded.
        link = quote(office.unsubscribe_url, safe=_URL_SAFE)
        extra.append(("List-Unsubscribe", f"<{link}>, {mailto}"))
        # One-click unsubscribe (RFC 8058) is valid only beside an https link, never with a mailto link alone.
        extra.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    else:
        extra.append(("List-Unsubscribe", mailto))
    return compose(
        sender_name=office.sender_name or office.name,
        sender=sender,
        recipient_name=customer.display_name,
        recipient=recipient,
        subject=card.subject,
        text=card.text,
        html=card.html,
        now=now,
        extra_headers=tuple(extra),
    )

"""Build the email of a card with the standard ``email`` package (never yagmail's content pipeline).

Headers are set through the email API, which refuses CR and LF in them, so a newline
in a customer's name cannot add a header (REFERENCE.md, yagmail).
"""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from cardsender.config import OfficeConfig
from cardsender.records import Customer
from cardsender.render import RenderedCard


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def _address(name: str, email: str) -> Address:
    user, _, domain = email.rpartition("@")
    return Address(display_name=" ".join(name.split()), username=user, domain=domain)


def build_email(card: RenderedCard, customer: Customer, office: OfficeConfig, now: dt.datetime) -> EmailMessage:
    """Return the message for a card: a text part, an HTML alternative, a fresh Message-ID and the opt-out header."""
    if not customer.email:
        raise ValueError(f"customer {customer.id} has no email address")
    message = EmailMessage()
    message["From"] = _address(office.sender_name or office.name, office.from_address)
    message["To"] = _address(customer.display_name, customer.email)
    if office.reply_to:
        message["Reply-To"] = office.reply_to
    message["Subject"] = card.subject
    message["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    message["Message-ID"] = make_msgid(domain=_domain(office.from_address))
    mailto = f"<mailto:{office.reply_to or office.from_address}?subject=unsubscribe>"
    if office.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{office.unsubscribe_url}>, {mailto}"
        # One-click unsubscribe is valid only beside an https link (RFC 8058; REFERENCE.md).
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        message["List-Unsubscribe"] = mailto
    message.set_content(card.text, charset="utf-8")
    message.add_alternative(card.html, subtype="html", charset="utf-8")
    return message

"""Reading bounces from delivery-status reports (RFC 3464) exported as .eml files or an .mbox file."""

from __future__ import annotations

import base64
import mailbox
import os
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from cardsender.domain.errors import ImportFileError
from cardsender.sending.bounces import Bounce, BounceScan, read_bounces

OFFICE = "hello@harbourbikes.example"
PER_MESSAGE = {"Reporting-MTA": "dns; mail.harbourbikes.example", "Arrival-Date": "Mon, 23 Nov 2026 09:14:05 -0500"}
ZOE_FAILED = {
    "Final-Recipient": "rfc822; Zoe.Odegard@example.net",
    "Action": "failed",
    "Status": "5.1.1",
    "Diagnostic-Code": "smtp; 550 5.1.1 User unknown",
}
LUKASZ_DELAYED = {
    "Final-Recipient": "rfc822; lukasz@zolc.example",
    "Action": "delayed",
    "Status": "4.4.7",
    "Diagnostic-Code": "smtp; 451 4.4.7 Try again later",
}

# A Postfix bounce: the notice, the status fields with Postfix's X- fields and a folded Diagnostic-Code, and the
# original message's headers only (text/rfc822-headers, as when the sender asked for RET=HDRS).
POSTFIX_REPORT = """\
Return-Path: <>
Received: by mail.harbourbikes.example (Postfix)
\tid 4F2A81C0042; Mon, 23 Nov 2026 09:14:07 -0500 (EST)
Date: Mon, 23 Nov 2026 09:14:07 -0500 (EST)
From: MAILER-DAEMON@mail.harbourbikes.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: hello@harbourbikes.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4F2A81C0042.1795443247/mail.harbourbikes.example"
Content-Transfer-Encoding: 7bit
Message-Id: <20261123141407.4F2A81C0042@mail.harbourbikes.example>

This is a MIME-encapsulated message.

--4F2A81C0042.1795443247/mail.harbourbikes.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.harbourbikes.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<zoe.odegard@example.net>: host mx.example.net[203.0.113.25] said: 550 5.1.1
    <zoe.odegard@example.net>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--4F2A81C0042.1795443247/mail.harbourbikes.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.harbourbikes.example
X-Postfix-Queue-ID: 4F2A81C0042
X-Postfix-Sender: rfc822; hello@harbourbikes.example
Arrival-Date: Mon, 23 Nov 2026 09:14:05 -0500 (EST)

Final-Recipient: rfc822; Zoe.Odegard@example.net
Original-Recipient: rfc822;Zoe.Odegard@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <zoe.odegard@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

--4F2A81C0042.1795443247/mail.harbourbikes.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 7bit

Return-Path: <hello@harbourbikes.example>
Received: from office (office.harbourbikes.example [192.0.2.10])
\tby mail.harbourbikes.example (Postfix) with ESMTPSA id 4F2A81C0042
\tfor <Zoe.Odegard@example.net>; Mon, 23 Nov 2026 09:14:05 -0500 (EST)
From: Harbour Street Bikes <hello@harbourbikes.example>
To: Zoe.Odegard@example.net
Subject: Happy birthday, Zoe!
Date: Mon, 23 Nov 2026 09:14:00 -0500
Message-ID:
 <176390724.birthday.C1@harbourbikes.example>

--4F2A81C0042.1795443247/mail.harbourbikes.example--
"""

# A Gmail bounce: the notice in multipart/related, the status fields with Gmail's multi-line SMTP reply folded
# over four lines (each line keeps its 550-5.1.1 prefix), and the original message attached whole.
GMAIL_REPORT = """\
Delivered-To: hello@harbourbikes.example
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: hello@harbourbikes.example
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
In-Reply-To: <176390725.birthday.C2@harbourbikes.example>
References: <176390725.birthday.C2@harbourbikes.example>
X-Failed-Recipients: an.nguyen.van@gmail.com
Message-ID: <6741c8b2.050a0220.3c3d2.5b8f.GMR@mx.google.com>
Date: Mon, 23 Nov 2026 06:14:10 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f60718"; report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: multipart/related; boundary="000000000000a1b2c3d4e5f60720"

--000000000000a1b2c3d4e5f60720
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to an.nguyen.van@gmail.com because the address couldn't be found, or is \
unable to receive mail.

--000000000000a1b2c3d4e5f60720--
--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; hello@harbourbikes.example
Arrival-Date: Mon, 23 Nov 2026 06:14:09 -0800 (PST)
X-Original-Message-ID: <176390725.birthday.C2@harbourbikes.example>

Final-Recipient: rfc822; an.nguyen.van@gmail.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.27.26, the server for the domain gmail.com.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try
 550-5.1.1 double-checking the recipient's email address for typos or
 550-5.1.1 unnecessary spaces. For more information, go to
 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-aa5.12 - gsmtp
Last-Attempt-Date: Mon, 23 Nov 2026 06:14:10 -0800 (PST)

--000000000000a1b2c3d4e5f60718
Content-Type: message/rfc822

From: Harbour Street Bikes <hello@harbourbikes.example>
To: an.nguyen.van@gmail.com
Subject: Happy birthday, An!
Date: Mon, 23 Nov 2026 09:14:00 -0500
Message-ID: <176390725.birthday.C2@harbourbikes.example>
Content-Type: text/plain; charset="utf-8"

Happy birthday from all of us at Harbour Street Bikes!

--000000000000a1b2c3d4e5f60718--
"""

# An Exchange Online bounce saved by Outlook on Windows (CRLF line ends): "rfc822;" without a space, a status with a
# two-digit detail, an X-Display-Name field, and an original Message-ID in the bracketed form Exchange writes.
EXCHANGE_REPORT = """\
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>
To: <hello@harbourbikes.example>
Subject: Undeliverable: Thank you for your visit
Date: Mon, 23 Nov 2026 14:14:06 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3a1c6f0e-4b2d-4f51-9c7e-2d8e5f6a7b8c"
Message-ID: <0a1b2c3d-1111-2222-3333-444455556666@DM6PR11MB4001.namprd11.prod.outlook.com>
MIME-Version: 1.0
X-MS-Exchange-Message-Is-Ndr:

--3a1c6f0e-4b2d-4f51-9c7e-2d8e5f6a7b8c
Content-Type: text/plain; charset="us-ascii"

Your message to maria@contoso.example couldn't be delivered.

--3a1c6f0e-4b2d-4f51-9c7e-2d8e5f6a7b8c
Content-Type: message/delivery-status

Reporting-MTA: dns;DM6PR11MB4001.namprd11.prod.outlook.com
Received-From-MTA: dns;mail.harbourbikes.example
Arrival-Date: Mon, 23 Nov 2026 14:14:05 +0000

Final-Recipient: rfc822;Maria@Contoso.example
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient maria@contoso.example not found
 by SMTP address lookup
X-Display-Name: maria@contoso.example

--3a1c6f0e-4b2d-4f51-9c7e-2d8e5f6a7b8c
Content-Type: text/rfc822-headers

From: Harbour Street Bikes <hello@harbourbikes.example>
To: <maria@contoso.example>
Subject: Thank you for your visit
Message-ID: <[A1B2C3D4E5F6==@microsoft.com]>

--3a1c6f0e-4b2d-4f51-9c7e-2d8e5f6a7b8c--
""".replace("\n", "\r\n")


def card(to: str, message_id: str) -> EmailMessage:
    """Return a birthday email as the office sends it."""
    message = EmailMessage()
    message["From"] = f"Harbour Street Bikes <{OFFICE}>"
    message["To"] = to
    message["Subject"] = "Happy birthday!"
    message["Date"] = "Mon, 23 Nov 2026 09:14:00 -0500"
    message["Message-ID"] = message_id
    message.set_content("Happy birthday from all of us at Harbour Street Bikes!\n")
    return message


def status_fields(*blocks: dict[str, str]) -> MIMEBase:
    """Return a message/delivery-status part: one block of fields per argument, blocks separated by blank lines."""
    part = MIMEBase("message", "delivery-status")
    for block in blocks:
        fields = Message()
        for name, value in block.items():
            fields[name] = value
        part.attach(fields)
    return part


def rfc822_headers(message: Message) -> MIMEText:
    """Return the headers of a message as a text/rfc822-headers part."""
    return MIMEText("".join(f"{name}: {value}\n" for name, value in message.items()), "rfc822-headers")


def report(status: MIMEBase, original: Message | None = None) -> MIMEMultipart:
    """Return a delivery-status report: a notice for people, the status fields and, if given, the original."""
    message = MIMEMultipart("report")
    message.set_param("report-type", "delivery-status")
    message["From"] = "Mail Delivery System <MAILER-DAEMON@mail.harbourbikes.example>"
    message["To"] = OFFICE
    message["Subject"] = "Undelivered Mail Returned to Sender"
    message.attach(MIMEText("Your message could not be delivered to one or more recipients.\n"))
    message.attach(status)
    if original is not None:
        message.attach(original)
    return message


def ordinary_mail() -> EmailMessage:
    """Return a customer's reply, which is not a report."""
    message = EmailMessage()
    message["From"] = "Zoë Ødegård <zoe.odegard@example.net>"
    message["To"] = OFFICE
    message["Subject"] = "Re: Happy birthday!"
    message.set_content("Thank you! See you at the shop in spring.\n")
    return message


def write(path: Path, message: Message | str | bytes) -> Path:
    """Write one message as a file; a hand-written one keeps its line ends."""
    if isinstance(message, Message):
        path.write_bytes(message.as_bytes())
    else:
        path.write_bytes(message if isinstance(message, bytes) else message.encode())
    return path


def write_mbox(path: Path, *messages: Message | str | bytes) -> Path:
    """Write messages into an mbox file, each after its "From " line, as mail programs export them."""
    box = mailbox.mbox(path)
    for message in messages:
        box.add(message.encode() if isinstance(message, str) else message)
    box.close()
    return path


def raw_report(fields: str, content_type: str = "message/delivery-status", encoding: str = "7bit") -> bytes:
    """Return a report written by hand around the given text of its status part."""
    return (
        "From: MAILER-DAEMON@mx.example.org\n"
        f"To: {OFFICE}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n'
        "\n"
        "--b1\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "This message was created automatically by mail delivery software.\n"
        "--b1\n"
        f"Content-Type: {content_type}\n"
        f"Content-Transfer-Encoding: {encoding}\n"
        "\n"
        f"{fields}\n"
        "--b1--\n"
    ).encode()


def zoe_bounce(source: Path | str, message_id: str | None = None) -> Bounce:
    """Return the bounce that ZOE_FAILED gives."""
    return Bounce("zoe.odegard@example.net", "5.1.1", "550 5.1.1 User unknown", message_id, str(source))


def postfix_bounce(source: Path) -> Bounce:
    """Return the bounce that POSTFIX_REPORT gives."""
    return Bounce(
        address="zoe.odegard@example.net",
        status="5.1.1",
        diagnostic="550 5.1.1 <zoe.odegard@example.net>: Recipient address rejected: User unknown in virtual "
        "mailbox table",
        original_message_id="<176390724.birthday.C1@harbourbikes.example>",
        source=str(source),
    )


def exchange_bounce(source: Path) -> Bounce:
    """Return the bounce that EXCHANGE_REPORT gives."""
    return Bounce(
        address="maria@contoso.example",
        status="5.1.10",
        diagnostic="550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient maria@contoso.example not found by SMTP "
        "address lookup",
        original_message_id="<[A1B2C3D4E5F6==@microsoft.com]>",
        source=str(source),
    )


def test_postfix_report_gives_its_bounce(tmp_path: Path) -> None:
    """A Postfix report gives the lower-cased address, the unfolded diagnostic and the Message-ID of the headers."""
    path = write(tmp_path / "Undelivered Mail Returned to Sender.eml", POSTFIX_REPORT)
    assert read_bounces(path) == BounceScan(bounces=(postfix_bounce(path),), delayed=0, other=0)


def test_gmail_report_gives_its_bounce(tmp_path: Path) -> None:
    """A Gmail report's multi-line reply, folded over four lines, becomes one line of diagnostic."""
    path = write(tmp_path / "Delivery Status Notification (Failure).eml", GMAIL_REPORT)
    diagnostic = (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 "
        "double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more "
        "information, go to 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-aa5.12 - gsmtp"
    )
    bounce = Bounce(
        "an.nguyen.van@gmail.com", "5.1.1", diagnostic, "<176390725.birthday.C2@harbourbikes.example>", str(path)
    )
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


def test_exchange_report_gives_its_bounce(tmp_path: Path) -> None:
    """An Exchange report saved with CRLF line ends gives its two-digit status and its bracketed Message-ID."""
    path = write(tmp_path / "Undeliverable Thank you for your visit.eml", EXCHANGE_REPORT)
    assert read_bounces(path) == BounceScan((exchange_bounce(path),), 0, 0)


def test_folder_reads_eml_files_in_name_order(tmp_path: Path) -> None:
    """A folder's .eml files, whatever the case of the extension, are read by name; other files are ignored."""
    folder = tmp_path / "bounces"
    folder.mkdir()
    second = write(folder / "2026-11-24 Undeliverable.EML", EXCHANGE_REPORT)
    first = write(folder / "2026-11-23 Undelivered.eml", POSTFIX_REPORT)
    write(folder / "2026-11-25 Re Happy birthday.eml", ordinary_mail())
    (folder / "notes.txt").write_text("bounces from November\n", encoding="utf-8")
    (folder / "old.eml").mkdir()
    assert read_bounces(folder) == BounceScan((postfix_bounce(first), exchange_bounce(second)), delayed=0, other=1)


def test_mbox_counts_reports_delays_and_ordinary_mail(tmp_path: Path) -> None:
    """An mbox's report gives a bounce sourced by its place from 1; its delay notice and ordinary mail are counted."""
    delay = report(status_fields(PER_MESSAGE, LUKASZ_DELAYED))
    mbox = write_mbox(tmp_path / "Bounces.mbox", ordinary_mail(), report(status_fields(PER_MESSAGE, ZOE_FAILED)), delay)
    assert read_bounces(mbox) == BounceScan((zoe_bounce(f"{mbox}:2"),), delayed=1, other=1)


def test_mbox_without_extension_is_read(tmp_path: Path) -> None:
    """A Thunderbird folder file, which has no extension, is read as an mbox because it starts with "From "."""
    mbox = write_mbox(tmp_path / "Bounces", report(status_fields(PER_MESSAGE, ZOE_FAILED)))
    assert read_bounces(mbox) == BounceScan((zoe_bounce(f"{mbox}:1"),), 0, 0)


def test_apple_mail_export_folder_is_read(tmp_path: Path) -> None:
    """An Apple Mail export, a folder NAME.mbox holding a file named mbox, is read as that mbox."""
    bundle = tmp_path / "Bounces.mbox"
    bundle.mkdir()
    (bundle / "Info.plist").write_text("<plist version='1.0'><dict/></plist>\n", encoding="utf-8")
    mbox = write_mbox(bundle / "mbox", report(status_fields(PER_MESSAGE, ZOE_FAILED)))
    assert read_bounces(bundle) == BounceScan((zoe_bounce(f"{mbox}:1"),), 0, 0)


def test_eml_file_starting_with_a_from_line_is_one_message(tmp_path: Path) -> None:
    """An .eml file saved with an mbox "From " line before its headers is still one message."""
    path = write(tmp_path / "bounce.eml", b"From MAILER-DAEMON Mon Nov 23 09:14:07 2026\n" + POSTFIX_REPORT.encode())
    assert read_bounces(path) == BounceScan((postfix_bounce(path),), 0, 0)


def test_file_with_another_extension_is_read_as_one_message(tmp_path: Path) -> None:
    """A file that is neither .eml nor an mbox is read as one message."""
    path = write(tmp_path / "bounce.txt", report(status_fields(PER_MESSAGE, ZOE_FAILED)))
    assert read_bounces(path) == BounceScan((zoe_bounce(path),), 0, 0)


def test_each_failed_recipient_of_a_report_is_a_bounce(tmp_path: Path) -> None:
    """A report on three recipients gives a bounce for each failed one; its delayed one is not counted."""
    ana = {"Final-Recipient": "rfc822; ana@example.org", "Action": "failed", "Status": "5.2.1"}
    fields = status_fields(PER_MESSAGE, ZOE_FAILED, LUKASZ_DELAYED, ana)
    path = write(tmp_path / "report.eml", report(fields))
    expected = (
        zoe_bounce(path),
        Bounce("ana@example.org", "5.2.1", "", None, str(path)),
    )
    assert read_bounces(path) == BounceScan(expected, delayed=0, other=0)


def test_report_on_a_failed_and_a_delayed_recipient_is_not_a_delay_notice(tmp_path: Path) -> None:
    """A report on one failed and one delayed recipient gives one bounce and is not a delay notice."""
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, LUKASZ_DELAYED, ZOE_FAILED)))
    assert read_bounces(path) == BounceScan((zoe_bounce(path),), delayed=0, other=0)


def test_recipient_fields_run_together_are_split(tmp_path: Path) -> None:
    """Recipients whose fields are not separated by blank lines (Exim's order: Action first) are told apart."""
    fields = (
        "Reporting-MTA: dns; mx.example.org\n"
        "Action: failed\nFinal-Recipient: rfc822;ana@example.org\nStatus: 5.0.0\n"
        "Action: delayed\nFinal-Recipient: rfc822;bo@example.org\nStatus: 4.0.0\n"
        "Action: failed\nFinal-Recipient: rfc822;cy@example.org\nStatus: 5.1.1\n"
    )
    path = write(tmp_path / "exim.eml", raw_report(fields))
    expected = (
        Bounce("ana@example.org", "5.0.0", "", None, str(path)),
        Bounce("cy@example.org", "5.1.1", "", None, str(path)),
    )
    assert read_bounces(path) == BounceScan(expected, 0, 0)


ANA = "rfc822; ana@example.org"


@pytest.mark.parametrize(
    ("recipient", "bounce", "counts"),
    [
        pytest.param({"Final-Recipient": ANA, "Status": "5.1.1"}, ("5.1.1", ""), (0, 0), id="5.x.x without Action"),
        pytest.param(
            {"Final-Recipient": ANA, "Action": "failed", "Status": "4.4.7"}, None, (1, 0), id="failed with 4.x.x"
        ),
        pytest.param(
            {"Final-Recipient": ANA, "Action": "delayed", "Status": "5.7.1"}, None, (1, 0), id="delayed with 5.x.x"
        ),
        pytest.param(
            {"Final-Recipient": ANA, "Action": "failed", "Diagnostic-Code": "smtp; 550 5.2.1 Mailbox disabled"},
            ("5.2.1", "550 5.2.1 Mailbox disabled"),
            (0, 0),
            id="no Status: the reply's enhanced code",
        ),
        pytest.param(
            {"Final-Recipient": ANA, "Diagnostic-Code": "smtp; 554 No such user"},
            ("5.0.0", "554 No such user"),
            (0, 0),
            id="no Action or Status: the class of the reply",
        ),
        pytest.param(
            {"Final-Recipient": ANA, "Diagnostic-Code": "smtp; 452 Mailbox full"},
            None,
            (1, 0),
            id="no Action or Status: a transient reply",
        ),
        pytest.param({"Final-Recipient": ANA, "Action": "failed"}, ("5.0.0", ""), (0, 0), id="failed without a code"),
        pytest.param(
            {"Final-Recipient": ANA, "Action": "failed", "Status": "5.1.1 (bad destination mailbox address)"},
            ("5.1.1", ""),
            (0, 0),
            id="Status with a comment",
        ),
        pytest.param(
            {
                "Final-Recipient": ANA,
                "Action": "failed",
                "Status": "5.1.1",
                "Diagnostic-Code": "X-Postfix; unknown user",
            },
            ("5.1.1", "unknown user"),
            (0, 0),
            id="Diagnostic-Code of another type",
        ),
        pytest.param(
            {"Final-Recipient": ANA, "Action": "delivered", "Status": "2.0.0"}, None, (0, 1), id="success notice"
        ),
        pytest.param(
            {"Final-Recipient": ANA, "X-Action": "failed", "X-Status": "5.1.1"}, None, (0, 1), id="no Action or Status"
        ),
    ],
)
def test_recipient_fields_decide_the_outcome(
    tmp_path: Path, recipient: dict[str, str], bounce: tuple[str, str] | None, counts: tuple[int, int]
) -> None:
    """Action and Status, else the server's reply, decide between a bounce, a delay notice and other mail."""
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, recipient)))
    bounces = () if bounce is None else (Bounce("ana@example.org", *bounce, None, str(path)),)
    assert read_bounces(path) == BounceScan(bounces, *counts)


@pytest.mark.parametrize(
    ("recipient", "address"),
    [
        pytest.param({"Final-Recipient": "RFC822;<Ana@Example.ORG>"}, "ana@example.org", id="brackets"),
        pytest.param({"Final-Recipient": "ana@example.org"}, "ana@example.org", id="no type"),
        pytest.param(
            {"Original-Recipient": "rfc822;info@harbour-fans.example", "Final-Recipient": "rfc822;owner@example.net"},
            "owner@example.net",
            id="Final-Recipient wins",
        ),
        pytest.param(
            {"Original-Recipient": "rfc822;info@harbour-fans.example"}, "info@harbour-fans.example", id="only Original"
        ),
        pytest.param(
            {"Final-Recipient": "x400; c=ca;p=harbour;s=ana", "Original-Recipient": "rfc822; ana@example.org"},
            "ana@example.org",
            id="Final-Recipient not an email address",
        ),
    ],
)
def test_address_is_read_from_the_recipient_fields(tmp_path: Path, recipient: dict[str, str], address: str) -> None:
    """The address comes from Final-Recipient without its type, else from Original-Recipient, lower-cased."""
    path = write(
        tmp_path / "report.eml", report(status_fields(PER_MESSAGE, recipient | {"Action": "failed", "Status": "5.1.1"}))
    )
    assert read_bounces(path) == BounceScan((Bounce(address, "5.1.1", "", None, str(path)),), 0, 0)


def test_recipient_without_an_email_address_is_skipped(tmp_path: Path) -> None:
    """A recipient named only by a non-email address (X.400) gives no bounce; the report is other mail."""
    recipient = {"Final-Recipient": "x400; c=ca;p=harbour;s=ana", "Action": "failed", "Status": "5.1.1"}
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, recipient)))
    assert read_bounces(path) == BounceScan((), 0, 1)


def test_original_message_id_from_attached_message(tmp_path: Path) -> None:
    """The Message-ID comes from the original message attached as message/rfc822."""
    original = MIMEMessage(card("zoe.odegard@example.net", "<176390724.birthday.C1@harbourbikes.example>"))
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, ZOE_FAILED), original))
    bounce = zoe_bounce(path, "<176390724.birthday.C1@harbourbikes.example>")
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


def test_original_message_id_from_attached_headers(tmp_path: Path) -> None:
    """The Message-ID comes from the original message's headers attached as text/rfc822-headers."""
    original = rfc822_headers(card("zoe.odegard@example.net", "<176390724.birthday.C1@harbourbikes.example>"))
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, ZOE_FAILED), original))
    bounce = zoe_bounce(path, "<176390724.birthday.C1@harbourbikes.example>")
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


@pytest.mark.parametrize(
    ("header", "message_id"),
    [
        pytest.param(
            "Message-ID: <1.birthday.C1@harbourbikes.example>", "<1.birthday.C1@harbourbikes.example>", id="plain"
        ),
        pytest.param(
            "Message-Id:\n <1.birthday.C1@harbourbikes.example>", "<1.birthday.C1@harbourbikes.example>", id="folded"
        ),
        pytest.param(
            "MESSAGE-ID: <1@harbourbikes.example> (sent by cardsender)", "<1@harbourbikes.example>", id="comment"
        ),
        pytest.param(
            "Message-ID: 1.birthday.C1@harbourbikes.example", "1.birthday.C1@harbourbikes.example", id="no brackets"
        ),
        pytest.param("Message-ID:", None, id="empty"),
    ],
)
def test_original_message_id_is_read_as_written(tmp_path: Path, header: str, message_id: str | None) -> None:
    """The original's Message-ID keeps its angle brackets and loses folding and comments; an empty one is None."""
    original = MIMEText(f"From: {OFFICE}\nTo: zoe.odegard@example.net\n{header}\n", "rfc822-headers")
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, ZOE_FAILED), original))
    assert read_bounces(path) == BounceScan((zoe_bounce(path, message_id),), 0, 0)


def test_original_message_id_from_report_fields(tmp_path: Path) -> None:
    """Without the original attached, the Message-ID comes from the report's X-Original-Message-ID field."""
    per_message = PER_MESSAGE | {"X-Original-Message-ID": "<176390724.birthday.C1@harbourbikes.example>"}
    path = write(tmp_path / "report.eml", report(status_fields(per_message, ZOE_FAILED)))
    bounce = zoe_bounce(path, "<176390724.birthday.C1@harbourbikes.example>")
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


def test_original_message_id_is_none_without_the_original(tmp_path: Path) -> None:
    """A report that neither attaches nor names the original gives no Message-ID."""
    path = write(tmp_path / "report.eml", report(status_fields(PER_MESSAGE, ZOE_FAILED)))
    assert read_bounces(path) == BounceScan((zoe_bounce(path, None),), 0, 0)


def test_same_address_and_message_is_one_bounce(tmp_path: Path) -> None:
    """A bounce reported twice for the same message counts once (the first); one for another message counts too."""
    first_card = MIMEMessage(card("zoe.odegard@example.net", "<1.birthday.C1@harbourbikes.example>"))
    second_card = MIMEMessage(card("zoe.odegard@example.net", "<2.thanks.C1@harbourbikes.example>"))
    first = report(status_fields(PER_MESSAGE, ZOE_FAILED), first_card)
    again = report(status_fields(PER_MESSAGE, ZOE_FAILED), first_card)
    second = report(status_fields(PER_MESSAGE, ZOE_FAILED), second_card)
    mbox = write_mbox(tmp_path / "Bounces.mbox", first, again, second)
    expected = (
        zoe_bounce(f"{mbox}:1", "<1.birthday.C1@harbourbikes.example>"),
        zoe_bounce(f"{mbox}:3", "<2.thanks.C1@harbourbikes.example>"),
    )
    assert read_bounces(mbox) == BounceScan(expected, 0, 0)


def test_same_address_in_eml_files_of_a_folder_is_one_bounce(tmp_path: Path) -> None:
    """The same report saved twice into a folder gives one bounce, from the first file by name."""
    first = write(tmp_path / "a.eml", POSTFIX_REPORT)
    write(tmp_path / "b.eml", POSTFIX_REPORT)
    assert read_bounces(tmp_path) == BounceScan((postfix_bounce(first),), 0, 0)


def test_base64_encoded_status_part_is_decoded(tmp_path: Path) -> None:
    """A status part sent base64-encoded is decoded before its fields are read."""
    fields = "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; ana@example.org\nStatus: 5.1.1\n"
    path = write(tmp_path / "report.eml", raw_report(base64.encodebytes(fields.encode()).decode(), encoding="base64"))
    assert read_bounces(path) == BounceScan((Bounce("ana@example.org", "5.1.1", "", None, str(path)),), 0, 0)


def test_global_delivery_status_with_utf8_address(tmp_path: Path) -> None:
    """An SMTPUTF8 report (message/global-delivery-status) gives its UTF-8 address and diagnostic."""
    fields = (
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: utf-8; Łukasz@żółć.example\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Adresat nieznany\n"
    )
    path = write(tmp_path / "report.eml", raw_report(fields, "message/global-delivery-status", "8bit"))
    bounce = Bounce("łukasz@żółć.example", "5.1.1", "550 5.1.1 Adresat nieznany", None, str(path))
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


def test_utf8_bytes_in_diagnostic_are_decoded(tmp_path: Path) -> None:
    """A diagnostic holding raw UTF-8 (a server replying in German) keeps its accents."""
    fields = (
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; ana@example.org\nAction: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 Empfänger unbekannt\n"
    )
    path = write(tmp_path / "report.eml", raw_report(fields, encoding="8bit"))
    bounce = Bounce("ana@example.org", "5.1.1", "550 5.1.1 Empfänger unbekannt", None, str(path))
    assert read_bounces(path) == BounceScan((bounce,), 0, 0)


def test_forwarded_report_is_other_mail(tmp_path: Path) -> None:
    """A report forwarded as an attachment is not read as a report: it is other mail."""
    forward = MIMEMultipart()
    forward["Subject"] = "Fwd: Undelivered Mail Returned to Sender"
    forward.attach(MIMEText("Is this address still right?\n"))
    forward.attach(MIMEMessage(report(status_fields(PER_MESSAGE, ZOE_FAILED))))
    path = write(tmp_path / "forward.eml", forward)
    assert read_bounces(path) == BounceScan((), 0, 1)


def test_malformed_messages_in_mbox_do_not_stop_the_scan(tmp_path: Path) -> None:
    """Messages nested too deep, cut short, badly encoded or not mail at all count as other mail; the scan goes on."""
    nesting = "".join(f'Content-Type: multipart/mixed; boundary="b{n}"\n\n--b{n}\n' for n in range(2000))
    too_deep = f"From: someone@example.org\nSubject: nested\n{nesting}Content-Type: text/plain\n\nhello\n"
    cut_short = raw_report("Reporting-MTA: dns; mx.example.org\n\nFinal-Rec").replace(b"--b1--\n", b"")
    bad_base64 = raw_report("RmluYWwtUmVjaXBpZW50O", encoding="base64")
    not_mail = "this line is not a header\nnor is this one\n"
    zoe = report(status_fields(PER_MESSAGE, ZOE_FAILED))
    mbox = write_mbox(tmp_path / "Bounces.mbox", too_deep, cut_short, bad_base64, not_mail, zoe)
    assert read_bounces(mbox) == BounceScan((zoe_bounce(f"{mbox}:5"),), delayed=0, other=4)


def test_missing_path_is_refused(tmp_path: Path) -> None:
    """A path that does not exist is refused, saying how to export the bounces."""
    path = tmp_path / "Bounces.mbox"
    with pytest.raises(ImportFileError) as caught:
        read_bounces(path)
    assert str(caught.value) == (
        f"{path}: no such file or folder; check the name, or export the bounces from the mailbox as an .mbox file "
        "or as .eml files into a folder"
    )


def test_folder_without_eml_files_is_refused(tmp_path: Path) -> None:
    """A folder holding no .eml file (here Outlook .msg files and notes) is refused."""
    (tmp_path / "Undeliverable.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00")
    (tmp_path / "notes.txt").write_text("bounces\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        read_bounces(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}: has no .eml files; save the bounce messages into it as .eml files, or export the mailbox "
        "folder as an .mbox file and name that file"
    )


@pytest.mark.parametrize("name", ["Undeliverable.msg", "Undeliverable.eml", "Bounces.mbox"])
def test_binary_file_is_refused(tmp_path: Path, name: str) -> None:
    """A binary file (an Outlook .msg, even renamed) is refused, whatever its extension."""
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Undeliverable")
    with pytest.raises(ImportFileError) as caught:
        read_bounces(path)
    assert str(caught.value) == (
        f"{path}: is not an email file (it holds binary data); save the messages as .eml files or export the "
        "mailbox folder as .mbox (Outlook's .msg and .pst files cannot be read)"
    )


def test_binary_eml_in_folder_is_refused(tmp_path: Path) -> None:
    """A binary .eml file in a folder stops the scan, naming the file."""
    write(tmp_path / "a.eml", POSTFIX_REPORT)
    path = tmp_path / "b.eml"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    with pytest.raises(ImportFileError) as caught:
        read_bounces(tmp_path)
    assert str(caught.value) == (
        f"{path}: is not an email file (it holds binary data); save the messages as .eml files or export the "
        "mailbox folder as .mbox (Outlook's .msg and .pst files cannot be read)"
    )


@pytest.mark.parametrize("name", ["Bounces.mbox", "Undelivered.eml"])
def test_empty_file_is_refused(tmp_path: Path, name: str) -> None:
    """An empty file is refused as a failed export."""
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(ImportFileError) as caught:
        read_bounces(path)
    assert str(caught.value) == f"{path}: is empty; export the bounce messages again as .eml files or an .mbox file"


def test_mbox_file_without_from_line_is_refused(tmp_path: Path) -> None:
    """A file named .mbox that does not start with a "From " line is refused."""
    path = write(tmp_path / "Bounces.mbox", POSTFIX_REPORT)
    with pytest.raises(ImportFileError) as caught:
        read_bounces(path)
    assert str(caught.value) == (
        f"{path}: is not an mbox file (it does not start with a 'From ' line); export the mailbox folder again "
        "as .mbox, or save the messages as .eml files"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    """A file without read permission is refused, saying so."""
    path = write(tmp_path / "Undelivered.eml", POSTFIX_REPORT)
    path.chmod(0)
    with pytest.raises(ImportFileError) as caught:
        read_bounces(path)
    assert str(caught.value) == f"{path}: cannot be read (Permission denied); check its permissions"

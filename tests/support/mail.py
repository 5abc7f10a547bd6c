"""Mail a test hands to cardsender: the delivery-status reports mail servers send back."""

from __future__ import annotations

from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText


def bounce_report(recipient: str, message_id: str, status: str, diagnostic: str) -> bytes:
    """Return a delivery-status report (RFC 3464) saying a message to a recipient failed, as a mail server
    sends it back."""
    part = MIMEBase("message", "delivery-status")
    for fields in (
        {"Reporting-MTA": "dns; mail.example.com"},
        {
            "Final-Recipient": f"rfc822; {recipient}",
            "Action": "failed",
            "Status": status,
            "Diagnostic-Code": diagnostic,
        },
    ):
        block = Message()
        for name, value in fields.items():
            block[name] = value
        part.attach(block)
    report = MIMEMultipart("report")
    report.set_param("report-type", "delivery-status")
    report["From"] = "MAILER-DAEMON@mail.example.com"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("Your message could not be delivered.\n"))
    report.attach(part)
    report.attach(MIMEText(f"Message-ID: {message_id}\nTo: {recipient}\n", "rfc822-headers"))
    return report.as_bytes()

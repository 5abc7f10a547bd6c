"""Email transports, and what each SMTP outcome means for the card.

The SMTP connection is made by yagmail (login once, with the password passed
explicitly and a verifying TLS context), and each message we built ourselves goes
over that one connection step by step: MAIL, RCPT, DATA.  Knowing the step a
failure happened at is what tells a retry from a duplicate: once the message data
has been handed over, a lost connection means the card most likely arrived, so it
is ``unknown`` and never resent automatically (REFERENCE.md, yagmail and SMTP).
"""

from __future__ import annotations

import contextlib
import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from cardsender.config import EmailConfig
from cardsender.errors import CardsenderError

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
TIMEOUT_SECONDS = 60


class ServerError(CardsenderError):
    """The mail server cannot be used at all (down, login refused, sender refused); nothing is the customer's fault."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: sent, retry later, failed for good, or unknown (it may have arrived)."""

    state: str  # sent, retry, failed, unknown
    reply: str
    bouncing: bool = False


class Transport(Protocol):
    """A way to hand over messages: opened once, then one message at a time."""

    def open(self) -> None:
        """Connect (and log in) before the first message."""

    def send(self, message: EmailMessage) -> Outcome:
        """Hand over one message and say what became of it; raise ServerError when no message can go."""

    def close(self) -> None:
        """Disconnect."""


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


class FileTransport:
    """Write each message as an .eml file into a folder: the default, and the dry run's record."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        """Create the folder."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ServerError(f"cannot create the outbox folder {self.folder} ({exc.strerror})") from exc

    def send(self, message: EmailMessage) -> Outcome:
        """Write the message to a file named after its Message-ID."""
        name = str(message["Message-ID"]).strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        try:
            path.write_bytes(bytes(message))
        except OSError as exc:
            raise ServerError(f"cannot write {path} ({exc.strerror})") from exc
        return Outcome("sent", f"written to {path}")

    def close(self) -> None:
        """Nothing to close."""


class SmtpTransport:
    """Send over one SMTP connection opened by yagmail."""

    def __init__(self, settings: EmailConfig, sender: str, password: str | None) -> None:
        self.settings = settings
        self.sender = sender
        self.password = password
        self._smtp: smtplib.SMTP | None = None
        self._client: object | None = None

    def _context(self) -> ssl.SSLContext:
        # Certificates are verified; ca_file trusts a private CA (REFERENCE.md: yagmail verifies nothing by default).
        ca = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=ca)

    def open(self) -> None:
        """Connect, secure the connection, and log in once."""
        import yagmail

        s = self.settings
        options: dict[str, object] = {
            "user": self.sender,
            "host": s.host,
            "port": s.port,
            "smtp_skip_login": not s.username,
            "soft_email_validation": False,
            "timeout": TIMEOUT_SECONDS,
        }
        if s.security == "tls":
            options |= {"smtp_ssl": True, "context": self._context()}
        elif s.security == "starttls":
            options |= {"smtp_ssl": False, "smtp_starttls": {"context": self._context()}}
        else:
            options |= {"smtp_ssl": False, "smtp_starttls": False}
        if s.username:
            # Always pass the password: without it yagmail asks the keyring, then prompts, which hangs a service.
            options["password"] = self.password or ""
        try:
            client = yagmail.SMTP(**options)
            if s.username:
                client.user = s.username  # log in as the account, send from the office address
            client.login()
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerError(
                f"the mail server refused the login for {s.username}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPException as exc:
            raise ServerError(f"the mail server {s.host}:{s.port} refused the connection: {exc}") from exc
        except ssl.SSLError as exc:
            raise ServerError(
                f"the mail server {s.host}:{s.port} has a certificate that cannot be verified ({exc.reason}); "
                "check [email] host, or set ca_file for a private certificate authority"
            ) from exc
        except OSError as exc:
            raise ServerError(f"cannot reach the mail server {s.host}:{s.port} ({exc.strerror or exc})") from exc
        self._client = client
        self._smtp = client.smtp

    def send(self, message: EmailMessage) -> Outcome:
        """Send one message step by step, and classify any failure by the step it happened at."""
        smtp = self._smtp
        if smtp is None:
            raise ServerError("the connection to the mail server is closed")
        recipients = [str(address.addr_spec) for address in message["To"].addresses]
        # The envelope sender is the message's own From: each office's bounces come back to that office.
        senders = message["From"].addresses if message["From"] else ()
        sender = str(senders[0].addr_spec) if senders else self.sender
        try:
            smtp.ehlo_or_helo_if_needed()
            code, text = smtp.mail(sender)
            if code >= 500:
                raise ServerError(f"the mail server refused the sender {sender}: {_reply(code, text)}")
            if code >= 400:
                self._reset()
                return Outcome("retry", _reply(code, text))
            for recipient in recipients:
                code, text = smtp.rcpt(recipient)
                if code >= 400:
                    self._reset()
                    if code >= 500:
                        return Outcome("failed", _reply(code, text), bouncing=True)
                    return Outcome("retry", _reply(code, text))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Nothing was handed over yet: safe to try again later.
            self._smtp = None
            return Outcome("retry", f"connection lost before the message was sent ({exc})")
        try:
            # SMTP wants CRLF line ends; smtplib converts them only for str data, not for bytes.
            code, text = smtp.data(message.as_bytes(policy=email.policy.SMTP))
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                return Outcome("failed", _reply(exc.smtp_code, exc.smtp_error))
            return Outcome("retry", _reply(exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            self._smtp = None
            return Outcome("unknown", f"connection lost after the message was sent; it may have arrived ({exc})")
        # smtplib returns the reply to the message data without checking it.
        if code >= 500:
            return Outcome("failed", _reply(code, text))
        if code >= 400:
            return Outcome("retry", _reply(code, text))
        return Outcome("sent", _reply(code, text))

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._smtp = None

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
        self._smtp = None

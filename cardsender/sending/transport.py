"""Email transports, and what each SMTP outcome means for the card.

The SMTP connection is made by yagmail (login once, with the password passed
explicitly and a verifying TLS context), and each message we built ourselves goes
over that one connection step by step: MAIL, RCPT, DATA.  Knowing the step a
failure happened at is what tells a retry from a duplicate: once the message data
has been handed over, a lost connection means the card most likely arrived, so it
is ``unknown`` and never resent automatically: SMTP cannot promise exactly once, and for a
greeting, at most once with a person deciding beats a duplicate.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cardsender.config.model import EmailConfig
from cardsender.domain.errors import CardsenderError
from cardsender.domain.vocabulary import DELIVERY_BY_WORD, Delivery
from cardsender.sending.message import OutgoingMessage

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
TIMEOUT_SECONDS = 60


class ServerError(CardsenderError):
    """The mail server cannot be used at all (down, login refused, sender refused); nothing is the customer's fault."""


@dataclass(frozen=True, slots=True, init=False)
class Outcome:
    """What became of one message: sent, retry later, failed for good, or unknown (it may have arrived)."""

    state: Delivery  # held when this server cannot take the message at all
    reply: str
    bouncing: bool

    def __init__(self, state: Delivery | str, reply: str, bouncing: bool = False) -> None:
        """Make an outcome; its state may be given as its word."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "state", DELIVERY_BY_WORD.get(state) or Delivery(state))
        set_field(self, "reply", reply)
        set_field(self, "bouncing", bouncing)


class Transport(Protocol):
    """A way to hand over messages: opened once, then one message at a time."""

    def open(self) -> None:
        """Connect (and log in) before the first message."""

    def send(self, message: OutgoingMessage) -> Outcome:
        """Hand over one message and say what became of it; raise ServerError when no message can go."""

    def close(self) -> None:
        """Disconnect."""


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"


# An address with letters beyond ASCII before the @ can only go to a server that offers SMTPUTF8 (RFC 6531).
NO_SMTPUTF8 = (
    "the address {address} has letters beyond ASCII before the @, and the mail server does not accept such "
    "addresses (it offers no SMTPUTF8); ask the customer for another address, or send through a server that does"
)

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")


def enhanced_status(text: bytes | str) -> tuple[int, int, int] | None:
    """Return the enhanced status code (RFC 3463) at the start of a reply's text, such as (5, 1, 1), or None."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    found = _ENHANCED.match(words)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def blames_address(code: int | None, status: tuple[int, int, int] | None) -> bool:
    """Return whether a permanent refusal says the mailbox or domain is wrong (550, 551, 553, enhanced 5.1.x),
    never when its enhanced code is about policy or security (5.7.x)."""
    if status is not None and status[:2] == (5, 7):
        return False
    return (status is not None and status[:2] == (5, 1)) or code in (550, 551, 553)


def rcpt_outcome(code: int, text: bytes | str) -> Outcome:
    """Say what a refusal of RCPT TO means for the card; raise ServerError when it refuses the sender.

    - 4xx, and 552 (RFC 5321 4.5.3.1.10: treat it as 452, a temporary lack of room): try again later.
    - enhanced status 5.7.x (policy, relaying, authentication), 554 without a 5.1.x mailbox code ("Relay
      access denied"), 530 (log in first): the server will not take this sender's mail at all, so the run
      stops, the cards stay pending with the server's words, and no address is blamed.
    - enhanced 5.1.x, or 550, 551, 553: the mailbox or domain is wrong; the card fails, the address bounces.
    - any other 5xx: this card fails, and the address is not marked.
    """
    reply = _reply(code, text)
    status = enhanced_status(text)
    if code < 500 or code == 552:
        return Outcome(Delivery.RETRY, reply)
    if (status is not None and status[:2] == (5, 7)) or code == 530:
        raise ServerError(f"the mail server refused to take mail from this sender: {reply}")
    if blames_address(code, status):
        return Outcome(Delivery.FAILED, reply, bouncing=True)
    if code == 554:
        raise ServerError(f"the mail server refused to take mail from this sender: {reply}")
    return Outcome(Delivery.FAILED, reply)


def data_outcome(code: int, text: bytes | str) -> Outcome:
    """Say what a refusal of the message data means: try later (4xx, 552), stop (5.7.x policy), or fail the card."""
    reply = _reply(code, text)
    status = enhanced_status(text)
    if code < 500 or code == 552:
        return Outcome(Delivery.RETRY, reply)
    if status is not None and status[:2] == (5, 7):
        raise ServerError(f"the mail server refused the message from this sender: {reply}")
    return Outcome(Delivery.FAILED, reply)


class FileTransport:
    """Write each message as an .eml file into a folder: the default, and the dry run's record.

    The files hold names, addresses and personal notes: the folder is 0700 and every file
    0600.  Each is written under a temporary name and renamed, so a killed run leaves no
    half-written message, and the next run removes its temporary file.
    """

    @dataclass(frozen=True, slots=True)
    class Written:
        """A message file: its Message-ID and the addresses in To and Cc (lower case), or why it is unreadable."""

        path: Path
        message_id: str = ""
        recipients: frozenset[str] = frozenset()
        unreadable: str = ""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def open(self) -> None:
        """Create the folder, and remove the temporary files of runs that were killed."""
        from cardsender.system.private import private_folder, remove_stale_temp_files

        try:
            private_folder(self.folder)
        except OSError as exc:
            raise ServerError(f"cannot create the outbox folder {self.folder} ({exc.strerror})") from exc
        remove_stale_temp_files(self.folder)

    def send(self, message: OutgoingMessage) -> Outcome:
        """Write the message to a file named after its Message-ID."""
        import os

        from cardsender.system.private import temp_name, write_private_bytes

        name = message.message_id.strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        temporary = temp_name(path)
        try:
            write_private_bytes(temporary, bytes(message))
            os.replace(temporary, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise ServerError(f"cannot write {path} ({exc.strerror})") from exc
        return Outcome(Delivery.SENT, f"written to {path}")

    def close(self) -> None:
        """Nothing to close."""

    def written(self) -> list[FileTransport.Written]:
        """Return every message file in the folder and in the folders under it (the dry runs), by path."""
        import email.policy
        from email.errors import HeaderParseError
        from email.parser import Parser

        parser = Parser(policy=email.policy.default)
        found: list[FileTransport.Written] = []
        for path in sorted(self.folder.rglob("*.eml")):
            if path.name.startswith(".") or not path.is_file():
                continue  # a temporary file: a message being written, or a killed run's
            try:
                data = path.read_bytes()
            except OSError as exc:
                found.append(FileTransport.Written(path, unreadable=f"cannot be read ({exc.strerror})"))
                continue
            # Decoded as UTF-8, not ASCII: an address may have letters beyond ASCII before the @ (SMTPUTF8).
            headers = parser.parsestr(data.decode("utf-8", "replace"), headersonly=True)
            recipients: set[str] = set()
            for field in ("To", "Cc"):
                with contextlib.suppress(HeaderParseError):
                    value = headers.get(field)
                    recipients.update(str(a.addr_spec).lower() for a in getattr(value, "addresses", ()))
            message_id = str(headers.get("Message-ID", "")).strip()
            found.append(FileTransport.Written(path, message_id, frozenset(recipients)))
        return found


class SmtpTransport:
    """Send over one SMTP connection opened by yagmail."""

    def __init__(self, settings: EmailConfig, sender: str, password: str | None) -> None:
        self.settings = settings
        self.sender = sender
        self.password = password
        self._smtp: smtplib.SMTP | None = None
        self._client: object | None = None

    def _context(self) -> ssl.SSLContext:
        # Certificates are verified (yagmail verifies nothing unless given a context); ca_file trusts a private CA.
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

    def send(self, message: OutgoingMessage) -> Outcome:
        """Send one message step by step, and classify any failure by the step it happened at."""
        smtp = self._smtp
        if smtp is None:
            raise ServerError("the connection to the mail server is closed")
        try:
            smtp.ehlo_or_helo_if_needed()
            options: list[str] = []
            if message.smtputf8:
                if not smtp.has_extn("smtputf8"):
                    return Outcome(Delivery.HELD, NO_SMTPUTF8.format(address=", ".join(message.recipients)))
                options.append("SMTPUTF8")  # smtplib then writes the envelope commands in UTF-8
            code, text = smtp.mail(message.sender, options)
            if code >= 500:
                raise ServerError(f"the mail server refused the sender {message.sender}: {_reply(code, text)}")
            if code >= 400:
                self._reset()
                return Outcome(Delivery.RETRY, _reply(code, text))
            for recipient in message.recipients:
                code, text = smtp.rcpt(recipient)
                if code >= 400:
                    self._reset()
                    return rcpt_outcome(code, text)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # Nothing was handed over yet: safe to try again later.
            self._smtp = None
            return Outcome(Delivery.RETRY, f"connection lost before the message was sent ({exc})")
        except ServerError:
            self._reset()
            raise
        except Exception as exc:  # nothing was handed over: this card fails, the others go on
            self._reset()
            return Outcome(Delivery.FAILED, f"could not be handed to the mail server ({type(exc).__name__}: {exc})")
        try:
            code, text = smtp.data(message.data)
        except smtplib.SMTPDataError as exc:
            return data_outcome(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPException, OSError) as exc:
            self._smtp = None
            return Outcome(Delivery.UNKNOWN, f"connection lost after the message was sent; it may have arrived ({exc})")
        except Exception as exc:  # the data may have been partly written: never guess that it did not arrive
            self._smtp = None
            return Outcome(Delivery.UNKNOWN, f"failed while the message was sent; it may have arrived ({exc})")
        # smtplib returns the reply to the message data without checking it.
        if code >= 400:
            return data_outcome(code, text)
        return Outcome(Delivery.SENT, _reply(code, text))

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

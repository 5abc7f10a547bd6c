"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, with optional STARTTLS, AUTH and scripted failures.

Use ``SmtpServer`` as a context manager, or the ``smtp_server`` fixture (a factory that stops every server it
started at teardown). Everything runs over real sockets on 127.0.0.1; the server runs in a thread of its own.
"""

from __future__ import annotations

import asyncio
import email.policy
import errno
import logging
import re
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, Protocol, Self

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
"""The only address the test server ever listens on."""

USER_UNKNOWN = "550 5.1.1 User unknown"
TRY_AGAIN_LATER = "451 4.3.0 Try again later"
AUTH_DISABLED = "535 5.7.8 Authentication disabled"

_REPLY = re.compile(r"[45]\d\d[ -]")
_BIND_ATTEMPTS = 3
_CLOSE_TIMEOUT = 5.0
_PARSER = BytesParser(policy=email.policy.default)
_AIOSMTPD_LOG = logging.getLogger("mail.log")

P = ParamSpec("P")


@dataclass(frozen=True)
class Received:
    """A message the server accepted: envelope, parsed message (LF line ends), DATA bytes as received (CRLF)."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    login: str | None = None
    tls: bool = False
    at: float = 0.0  # time.monotonic() when the message was accepted
    options: tuple[str, ...] = ()  # the MAIL FROM parameters, such as SMTPUTF8


def free_port(host: str = HOST) -> int:
    """Return a TCP port that was free on ``host`` a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def parse_message(raw: bytes) -> EmailMessage:
    """Parse the bytes of a DATA command (CRLF line ends turned to LF) into an ``EmailMessage``, default policy."""
    message = _PARSER.parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(message, EmailMessage)
    return message


class _Handler:
    """The aiosmtpd handler: records what arrives and plays the scripted refusals and failures.

    aiosmtpd finds the hooks by name (``handle_EHLO`` and so on) and awaits each with the session's ``SMTP``
    protocol, ``Session`` and ``Envelope``; a hook that accepts a MAIL or RCPT must fill the envelope itself.
    """

    def __init__(self, server: SmtpServer) -> None:
        """Keep the options of ``server`` and its records."""
        self.owner = server
        self.greeted: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self.data_commands = 0
        self.stored = 0

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Count the connection once and hide AUTH when the server offers no login."""
        self._greet(server, session, hostname)
        if self.owner.auth is None and not self.owner.refuse_auth:
            responses = [line for line in responses if not line[4:].upper().startswith("AUTH")]
        return responses

    async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str) -> str:
        """Count the connection once and greet the client."""
        self._greet(server, session, hostname)
        return f"250 {server.hostname}"

    def _greet(self, server: SMTP, session: Session, hostname: str) -> None:
        """Record a greeting; a second one on the same connection (after STARTTLS) is not a new connection."""
        session.host_name = hostname
        if server not in self.greeted:
            self.greeted.add(server)
            self.owner._count_connection()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """Refuse the sender with the scripted reply, or accept it."""
        if self.owner.refuse_mail_from is not None:
            return self.owner.refuse_mail_from
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Refuse the recipients listed in ``refuse_rcpt`` with 550 or in ``rcpt_replies`` as scripted."""
        if address.lower() in self.owner.refuse_rcpt:
            return USER_UNKNOWN
        if (reply := self.owner.rcpt_replies.get(address.lower())) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Answer 451 for the first scripted DATA commands; store the others, dropping the scripted connections."""
        self.data_commands += 1
        if self.data_commands <= self.owner.fail_data_times:
            return TRY_AGAIN_LATER
        raw = envelope.original_content or b""
        assert envelope.mail_from is not None
        login = session.auth_data if session.authenticated and isinstance(session.auth_data, str) else None
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=parse_message(raw),
            raw=raw,
            login=login,
            tls=session.ssl is not None,
            at=time.monotonic(),
            options=tuple(envelope.mail_options),
        )
        self.owner._store(received)
        self.stored += 1
        if self.stored <= self.owner.drop_after_data:
            await _drop_connection(server)
        return "250 OK"


class _HideLoginDataWarning(logging.Filter):
    """Drops the deprecation warning that aiosmtpd 1.4 logs, from its own code, on every successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for aiosmtpd's ``Session.login_data`` deprecation warning."""
        return not record.getMessage().startswith("Session.login_data is deprecated")


async def _drop_connection(server: SMTP) -> None:
    """Abort the connection, final reply unsent, and wait for aiosmtpd to cancel the session."""
    transport = server.transport
    assert isinstance(transport, asyncio.Transport)
    # abort() discards anything still buffered and makes later writes no-ops, so the client never sees the
    # reply to its final dot. connection_lost() then cancels the session's task, which ends this wait.
    transport.abort()
    await asyncio.Event().wait()


class _Session(SMTP):
    """aiosmtpd's SMTP protocol for one connection, which notes when the connection is gone."""

    closed = False

    def connection_lost(self, error: Exception | None) -> None:
        """Let aiosmtpd clean up, then note that the socket is closed."""
        try:
            super().connection_lost(error)
        finally:
            self.closed = True


class _Controller(Controller):
    """aiosmtpd's threaded controller, which keeps its connections so it can close them before it stops."""

    def __init__(self, handler: _Handler, **kwargs: Any) -> None:
        """Set up the controller as aiosmtpd's, with an empty set of connections."""
        super().__init__(handler, **kwargs)
        self.sessions: weakref.WeakSet[_Session] = weakref.WeakSet()

    def factory(self) -> _Session:
        """Make the protocol for a new connection (aiosmtpd's documented hook) and keep it."""
        session = _Session(self.handler, **self.SMTP_kwargs)
        self.sessions.add(session)
        return session

    def stop(self, no_assert: bool = False) -> None:
        """Close the open connections, then stop the event loop and its thread."""
        try:
            if self.loop.is_running():
                asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop).result(timeout=_CLOSE_TIMEOUT)
        finally:
            super().stop(no_assert=no_assert)
            if not self.loop.is_closed():  # the thread ended early, as when the port was taken
                self.loop.close()

    async def _close_sessions(self) -> None:
        """Abort every connection still open and wait until their sockets are closed."""
        # Server.close() in Python 3.11 leaves accepted connections open, and aiosmtpd's stop() ends the loop
        # without closing them, so a client that hung up just before the stop would leave an unclosed socket.
        deadline = self.loop.time() + _CLOSE_TIMEOUT / 2
        while open_sessions := [session for session in self.sessions if not session.closed]:
            if self.loop.time() > deadline:
                raise TimeoutError(f"{len(open_sessions)} SMTP connections did not close")
            for session in open_sessions:
                if isinstance(session.transport, asyncio.Transport):
                    session.transport.abort()
            await asyncio.sleep(0.001)


class SmtpServer:
    """A real SMTP server on 127.0.0.1 for one test: start it with ``with``, read what it received.

    ``tls`` offers STARTTLS with a certificate for localhost and 127.0.0.1 signed by a test CA (``ca_file``);
    ``require_tls`` refuses mail commands before STARTTLS. ``auth`` (user to password) offers AUTH LOGIN and PLAIN,
    over plain text when ``tls`` is off and only after STARTTLS when it is on; ``refuse_auth`` answers every AUTH
    with a permanent 535. ``refuse_mail_from`` is the reply to every MAIL FROM (4xx or 5xx); ``refuse_rcpt`` holds
    recipients answered 550 (case-insensitive). The first ``fail_data_times`` DATA commands get 451 and are not
    stored; of the stored messages, the first ``drop_after_data`` are followed by a dropped connection instead of
    the final reply, so the client cannot know they were delivered.  ``rcpt_replies`` maps recipients to the
    reply their RCPT TO gets; ``smtputf8`` offers SMTPUTF8 (addresses with letters beyond ASCII).
    """

    host = HOST

    def __init__(
        self,
        *,
        tls: bool = False,
        require_tls: bool = False,
        auth: Mapping[str, str] | None = None,
        refuse_auth: bool = False,
        refuse_mail_from: str | None = None,
        refuse_rcpt: Collection[str] = (),
        fail_data_times: int = 0,
        drop_after_data: int = 0,
        rcpt_replies: Mapping[str, str] | None = None,
        smtputf8: bool = False,
    ) -> None:
        """Set the options; nothing listens until the server is entered or started."""
        if isinstance(refuse_rcpt, str):
            raise TypeError("refuse_rcpt takes a collection of addresses, not one string")
        if require_tls and not tls:
            raise ValueError("require_tls needs tls=True")
        if refuse_mail_from is not None and not _REPLY.match(refuse_mail_from):
            raise ValueError(f"refuse_mail_from must be an SMTP reply with a 4xx or 5xx code: {refuse_mail_from!r}")
        if fail_data_times < 0 or drop_after_data < 0:
            raise ValueError("fail_data_times and drop_after_data cannot be negative")
        self.tls = tls
        self.require_tls = require_tls
        self.auth = dict(auth) if auth is not None else None
        self.refuse_auth = refuse_auth
        self.refuse_mail_from = refuse_mail_from
        self.refuse_rcpt = frozenset(address.lower() for address in refuse_rcpt)
        self.fail_data_times = fail_data_times
        self.drop_after_data = drop_after_data
        self.rcpt_replies = {address.lower(): reply for address, reply in (rcpt_replies or {}).items()}
        self.smtputf8 = smtputf8
        self.messages: list[Received] = []
        self.auth_logins: list[str] = []
        self._connections = 0
        self._lock = threading.Lock()
        self._controller: _Controller | None = None
        self._port: int | None = None
        self._ca_file: Path | None = None
        self._cleanup = ExitStack()

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        if self._port is None:
            raise RuntimeError("the SMTP server is not running")
        return self._port

    @property
    def connections(self) -> int:
        """Return how many connections greeted the server (EHLO or HELO; STARTTLS's second EHLO is not counted)."""
        with self._lock:
            return self._connections

    @property
    def ca_file(self) -> Path:
        """Return the PEM file of the CA that signed the server's certificate (only with ``tls=True``)."""
        if self._ca_file is None:
            raise RuntimeError("the SMTP server has no certificate: start it with tls=True")
        return self._ca_file

    def client_context(self) -> ssl.SSLContext:
        """Return a client SSL context that trusts the server's CA and checks its name."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def start(self) -> None:
        """Make the certificate if needed and start listening on a free port of 127.0.0.1."""
        if self._controller is not None:
            raise RuntimeError("the SMTP server is already running")
        try:
            hide = _HideLoginDataWarning()
            _AIOSMTPD_LOG.addFilter(hide)
            self._cleanup.callback(_AIOSMTPD_LOG.removeFilter, hide)
            tls_context = self._make_tls_context() if self.tls else None
            self._controller, self._port = self._start_controller(tls_context)
        except BaseException:
            self._cleanup.close()
            raise

    def stop(self) -> None:
        """Stop listening, end open sessions and delete the certificate files."""
        controller, self._controller = self._controller, None
        try:
            if controller is not None:
                controller.stop()
        finally:
            self._port = None
            self._cleanup.close()

    def __enter__(self) -> Self:
        """Start the server and return it."""
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Stop the server."""
        self.stop()

    def _make_tls_context(self) -> ssl.SSLContext:
        """Make a CA, a server certificate for localhost and 127.0.0.1, and write the CA's PEM to a temp file."""
        ca = trustme.CA()
        certificate = ca.issue_cert("localhost", HOST)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        folder = Path(self._cleanup.enter_context(tempfile.TemporaryDirectory(prefix="smtpd-")))
        self._ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(self._ca_file)
        return context

    def _start_controller(self, tls_context: ssl.SSLContext | None) -> tuple[_Controller, int]:
        """Start aiosmtpd's controller on a free port, trying another if one is taken in between."""
        offer_auth = self.auth is not None or self.refuse_auth
        for attempt in range(_BIND_ATTEMPTS):
            port = free_port()
            controller = _Controller(
                _Handler(self),
                hostname=HOST,
                port=port,
                server_hostname="localhost",
                tls_context=tls_context,
                require_starttls=self.require_tls,
                authenticator=self._authenticate if offer_auth else None,
                auth_require_tls=tls_context is not None,
                enable_SMTPUTF8=self.smtputf8,
            )
            try:
                controller.start()
            except BaseException as error:
                controller.stop(no_assert=True)
                taken = isinstance(error, OSError) and error.errno == errno.EADDRINUSE
                if taken and attempt < _BIND_ATTEMPTS - 1:
                    continue
                raise
            return controller, port
        raise AssertionError("unreachable")

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Check a login against ``auth``; record the user on success, answer 535 otherwise."""
        if self.refuse_auth:
            return AuthResult(success=False, handled=False, message=AUTH_DISABLED)
        if not isinstance(auth_data, LoginPassword) or self.auth is None:
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", errors="replace")
        password = auth_data.password.decode("utf-8", errors="replace")
        if user not in self.auth or self.auth[user] != password:
            return AuthResult(success=False, handled=False)
        self.auth_logins.append(user)
        return AuthResult(success=True, auth_data=user)

    def _count_connection(self) -> None:
        """Count one more connection that greeted the server."""
        with self._lock:
            self._connections += 1

    def _store(self, received: Received) -> None:
        """Record an accepted message."""
        self.messages.append(received)


class SmtpServerFactory(Protocol):
    """The ``smtp_server`` fixture: starts a server with ``SmtpServer``'s options; all stop at teardown."""

    def __call__(
        self,
        *,
        tls: bool = False,
        require_tls: bool = False,
        auth: Mapping[str, str] | None = None,
        refuse_auth: bool = False,
        refuse_mail_from: str | None = None,
        refuse_rcpt: Collection[str] = (),
        fail_data_times: int = 0,
        drop_after_data: int = 0,
        rcpt_replies: Mapping[str, str] | None = None,
        smtputf8: bool = False,
    ) -> SmtpServer:
        """Start a server and return it."""
        ...


def _entering(stack: ExitStack, make: Callable[P, SmtpServer]) -> Callable[P, SmtpServer]:
    """Return ``make`` changed to enter each server it makes into ``stack``."""

    def start(*args: P.args, **kwargs: P.kwargs) -> SmtpServer:
        """Make a server, start it and return it."""
        return stack.enter_context(make(*args, **kwargs))

    return start


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServerFactory]:
    """Return a factory of running SMTP servers on 127.0.0.1; stop them all at teardown."""
    with ExitStack() as stack:
        yield _entering(stack, SmtpServer)

"""The test SMTP server itself, driven by plain smtplib: delivery, STARTTLS, AUTH and each scripted failure."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.smtpd import HOST, SmtpServer, SmtpServerFactory

SENDER = "hello@harbourbikes.example"
CUSTOMER = "ana@example.org"
OTHER_CUSTOMER = "bo@example.org"


def card(to: str = CUSTOMER, subject: str = "Happy birthday, Ana") -> EmailMessage:
    """Return a small greeting email from the shop to ``to``."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="harbourbikes.example")
    message.set_content("Have a lovely day — Harbour Street Bikes\n")
    return message


def connect(server: SmtpServer, host: str | None = None) -> smtplib.SMTP:
    """Open an smtplib connection to ``server`` with a short timeout."""
    return smtplib.SMTP(host or server.host, server.port, timeout=5)


def test_delivers_a_message(smtp_server: SmtpServerFactory) -> None:
    """Stores a message with its envelope, parsed headers and body, and raw bytes."""
    server = smtp_server()
    sent = card()
    with connect(server) as smtp:
        refused = smtp.send_message(sent)
    assert refused == {}
    [received] = server.messages
    assert received.mail_from == SENDER
    assert received.rcpt_tos == [CUSTOMER]
    assert received.message["Subject"] == "Happy birthday, Ana"
    assert received.message["Message-ID"] == sent["Message-ID"]
    assert received.message.get_content() == "Have a lovely day — Harbour Street Bikes\n"
    assert b"Subject: Happy birthday, Ana\r\n" in received.raw
    assert received.login is None
    assert received.tls is False
    assert server.connections == 1


def test_listens_on_127_0_0_1_only(smtp_server: SmtpServerFactory) -> None:
    """Accepts connections on 127.0.0.1 and on no other loopback address."""
    server = smtp_server()
    assert server.host == HOST == "127.0.0.1"
    with socket.create_connection((HOST, server.port), timeout=5):
        pass
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", server.port), timeout=1):
        pass


def test_stops_listening_when_the_block_ends() -> None:
    """Refuses connections once the ``with`` block has ended."""
    with SmtpServer() as server:
        port = server.port
        with connect(server) as smtp:
            smtp.send_message(card())
    with pytest.raises(ConnectionRefusedError), socket.create_connection((HOST, port), timeout=5):
        pass
    with pytest.raises(RuntimeError):
        _ = server.port


def test_counts_one_connection_for_many_messages(smtp_server: SmtpServerFactory) -> None:
    """Counts three messages over one connection as one connection, a second connection as another."""
    server = smtp_server()
    with connect(server) as smtp:
        for number in range(3):
            smtp.send_message(card(subject=f"Card {number}"))
    assert server.connections == 1
    with connect(server) as smtp:
        smtp.send_message(card(subject="Card 3"))
    assert server.connections == 2
    assert [received.message["Subject"] for received in server.messages] == [f"Card {n}" for n in range(4)]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_starttls_with_the_ca_trusted_delivers(smtp_server: SmtpServerFactory, host: str) -> None:
    """Completes STARTTLS with the test CA trusted, for the certificate's name and its address."""
    server = smtp_server(tls=True)
    with connect(server, host) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        smtp.starttls(context=server.client_context())
        smtp.send_message(card())
    [received] = server.messages
    assert received.tls is True
    assert server.connections == 1


def test_starttls_without_the_ca_fails_verification(smtp_server: SmtpServerFactory) -> None:
    """Fails STARTTLS with a certificate error when the client does not trust the test CA."""
    server = smtp_server(tls=True)
    with connect(server) as smtp, pytest.raises(ssl.SSLCertVerificationError):
        smtp.starttls(context=ssl.create_default_context())
    assert server.messages == []


def test_ca_file_holds_the_ca_certificate(smtp_server: SmtpServerFactory) -> None:
    """Writes the CA as a PEM file that ``ssl.create_default_context`` loads."""
    server = smtp_server(tls=True)
    assert server.ca_file.read_text(encoding="ascii").startswith("-----BEGIN CERTIFICATE-----")
    context = ssl.create_default_context(cafile=str(server.ca_file))
    assert len(context.get_ca_certs()) == 1


def test_ca_file_needs_tls(smtp_server: SmtpServerFactory) -> None:
    """Raises when the CA file of a server without TLS is asked for."""
    server = smtp_server()
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = server.ca_file


def test_require_tls_refuses_mail_before_starttls(smtp_server: SmtpServerFactory) -> None:
    """Answers 530 to MAIL FROM before STARTTLS and accepts the message after it."""
    server = smtp_server(tls=True, require_tls=True)
    with connect(server) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.send_message(card())
        assert refused.value.smtp_code == 530
        smtp.starttls(context=server.client_context())
        smtp.send_message(card())
    assert len(server.messages) == 1


def test_require_tls_needs_tls() -> None:
    """Rejects ``require_tls`` without ``tls``."""
    with pytest.raises(ValueError, match="tls=True"):
        SmtpServer(require_tls=True)


AUTH_METHODS: dict[str, Callable[[smtplib.SMTP], Callable[..., str]]] = {
    "LOGIN": lambda smtp: smtp.auth_login,
    "PLAIN": lambda smtp: smtp.auth_plain,
}


@pytest.mark.parametrize("mechanism", sorted(AUTH_METHODS))
def test_auth_records_the_login(smtp_server: SmtpServerFactory, mechanism: str) -> None:
    """Accepts the right password by AUTH LOGIN and PLAIN, records the user and marks the message with it."""
    server = smtp_server(auth={"shop": "s3cret"})
    with connect(server) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("auth")
        smtp.user, smtp.password = "shop", "s3cret"
        code, _ = smtp.auth(mechanism, AUTH_METHODS[mechanism](smtp))
        assert code == 235
        smtp.send_message(card())
    assert server.auth_logins == ["shop"]
    assert server.messages[0].login == "shop"


@pytest.mark.parametrize(("user", "password"), [("shop", "wrong"), ("nobody", "s3cret")])
def test_auth_refuses_wrong_credentials(smtp_server: SmtpServerFactory, user: str, password: str) -> None:
    """Answers 535 to a wrong password or an unknown user and records no login."""
    server = smtp_server(auth={"shop": "s3cret"})
    with connect(server) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp.login(user, password)
    assert refused.value.smtp_code == 535
    assert server.auth_logins == []


def test_auth_with_tls_is_offered_only_after_starttls(smtp_server: SmtpServerFactory) -> None:
    """Hides AUTH until STARTTLS when TLS is on, then accepts the login."""
    server = smtp_server(tls=True, auth={"shop": "s3cret"})
    with connect(server) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            smtp.login("shop", "s3cret")
        smtp.starttls(context=server.client_context())
        smtp.login("shop", "s3cret")
        smtp.send_message(card())
    assert server.auth_logins == ["shop"]
    assert server.messages[0].tls is True
    assert server.connections == 1


def test_no_auth_is_offered_without_users(smtp_server: SmtpServerFactory) -> None:
    """Leaves AUTH out of the EHLO reply when no users are given."""
    server = smtp_server()
    with connect(server) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")


def test_refuse_auth_refuses_the_right_password(smtp_server: SmtpServerFactory) -> None:
    """Answers a permanent 535 even to the right password."""
    server = smtp_server(auth={"shop": "s3cret"}, refuse_auth=True)
    with connect(server) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp.login("shop", "s3cret")
    assert refused.value.smtp_code == 535
    assert refused.value.smtp_error == b"5.7.8 Authentication disabled"
    assert server.auth_logins == []


def test_refuse_rcpt_needs_a_collection() -> None:
    """Rejects a single address string, which would otherwise be read as a set of letters."""
    with pytest.raises(TypeError, match="collection"):
        SmtpServer(refuse_rcpt=CUSTOMER)


def test_refused_recipient_raises(smtp_server: SmtpServerFactory) -> None:
    """Answers 550 to a refused recipient, which smtplib raises when it is the only one."""
    server = smtp_server(refuse_rcpt={CUSTOMER})
    with connect(server) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp.send_message(card())
    assert refused.value.recipients == {CUSTOMER: (550, b"5.1.1 User unknown")}
    assert server.messages == []


def test_refused_recipient_among_others(smtp_server: SmtpServerFactory) -> None:
    """Delivers to the accepted recipients and reports the refused one, whatever its case."""
    server = smtp_server(refuse_rcpt={CUSTOMER.upper()})
    with connect(server) as smtp:
        refused = smtp.sendmail(SENDER, [CUSTOMER, OTHER_CUSTOMER], card().as_bytes())
    assert refused == {CUSTOMER: (550, b"5.1.1 User unknown")}
    [received] = server.messages
    assert received.rcpt_tos == [OTHER_CUSTOMER]


def test_fail_data_answers_451_then_accepts(smtp_server: SmtpServerFactory) -> None:
    """Answers 451 to the first DATA without storing it, then accepts the retry on the same connection."""
    server = smtp_server(fail_data_times=1)
    with connect(server) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            smtp.send_message(card())
        assert failed.value.smtp_code == 451
        assert failed.value.smtp_error == b"4.3.0 Try again later"
        assert server.messages == []
        smtp.send_message(card())
    assert len(server.messages) == 1


@pytest.mark.parametrize("tls", [False, True])
def test_drop_after_data_stores_the_message_but_sends_no_reply(smtp_server: SmtpServerFactory, tls: bool) -> None:
    """Drops the connection after storing the first message, so the client errs; the next connection works."""
    server = smtp_server(tls=tls, drop_after_data=1)
    with connect(server) as smtp:
        if tls:
            smtp.starttls(context=server.client_context())
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.send_message(card(subject="First"))
    assert [received.message["Subject"] for received in server.messages] == ["First"]
    with connect(server) as smtp:
        if tls:
            smtp.starttls(context=server.client_context())
        assert smtp.send_message(card(subject="Second")) == {}
    assert [received.message["Subject"] for received in server.messages] == ["First", "Second"]
    assert server.connections == 2


def test_refuse_mail_from_raises_sender_refused(smtp_server: SmtpServerFactory) -> None:
    """Answers MAIL FROM with the scripted reply, which smtplib raises as a refused sender."""
    server = smtp_server(refuse_mail_from="550 5.7.1 Sending quota exceeded")
    with connect(server) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp.send_message(card())
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error == b"5.7.1 Sending quota exceeded"
    assert refused.value.sender == SENDER
    assert server.messages == []


def test_refuse_mail_from_needs_an_smtp_reply() -> None:
    """Rejects a ``refuse_mail_from`` that is not a 4xx or 5xx reply."""
    with pytest.raises(ValueError, match="4xx or 5xx"):
        SmtpServer(refuse_mail_from="quota exceeded")


def test_factory_starts_independent_servers(smtp_server: SmtpServerFactory) -> None:
    """Starts servers on different ports, each with its own records."""
    first, second = smtp_server(), smtp_server(fail_data_times=1)
    assert first.port != second.port
    with connect(first) as smtp:
        smtp.send_message(card())
    assert len(first.messages) == 1
    assert second.messages == []
    assert second.connections == 0

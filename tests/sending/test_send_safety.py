"""Sending what customers typed, through a real SMTP server on 127.0.0.1: headers carry their text as data,
addresses in any script reach the server or are held with a reason, refusals are read as the standard says,
and the mail account's limits hold across any number of processes."""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cardsender.config.loading import load_config
from cardsender.sending.transport import Outcome, ServerError, rcpt_outcome
from cardsender.store import Store
from cardsender.store.customers import get_customer
from cardsender.system import clock
from tests.smtpd import Received, SmtpServerFactory
from tests.support.cli import outbox_rows, run
from tests.support.mail import bounce_report
from tests.support.office import TZ, write_smtp_config

CARD_HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "MIME-Version", "Content-Type"}


def import_people(config: Path, people: list[tuple[str, str, str, str]]) -> None:
    """Import customers (id, first name, last name, email) from a CSV file, each with a purchase yesterday."""
    folder = config.parent
    lines = ["id,first_name,last_name,email,channel"]
    lines += [",".join(_csv_cell(cell) for cell in (*person, "email")) for person in people]
    (folder / "customers.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    yesterday = clock.office_today(TZ) - dt.timedelta(days=1)
    history = ["customer_id,date,kind,summary"] + [f"{p[0]},{yesterday},purchase,Road bike" for p in people]
    (folder / "history.csv").write_text("\r\n".join(history) + "\r\n", encoding="utf-8")
    for kind, name in (("customers", "customers.csv"), ("history", "history.csv")):
        result = run(config, "import", kind, str(folder / name))
        assert result.exit_code == 0, result.output


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def received_headers(message: Received) -> email.message.EmailMessage:
    """Parse the bytes the server received back, as a mail client would (headers may be UTF-8 with SMTPUTF8)."""
    parsed = email.message_from_string(message.raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


NAMES = [
    ("=?utf-8?q?Bob=0D=0ABcc:_x@evil.example=0D=0AReply-To:_thief@evil.example?=", "Smith"),
    ("=?utf-8?b?QW5uIDxmYWtlQGV2aWwuZXhhbXBsZT4=?=", "Jones"),  # decodes to 'Ann <fake@evil.example>'
    ("Ann <fake@evil.example>", "Lee"),
    ('"Smith, John"', "O'Neil"),
    ("Zoë", 'Müller @ home, "Ltd"'),
    ("=?iso-8859-1?q?=0D=0ABcc:=20y@evil.example?=", "Weiß"),
]


def test_names_are_shown_literally_and_add_no_header(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """Names holding encoded words (q and b), CR/LF in any encoding, quotes, commas, angle brackets and '@'
    reach the customer as the text they are: the received message has exactly the headers cardsender set,
    one recipient, and the display name and subject show the name as typed."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server)
    people = [(f"N{n}", first, last, f"n{n}@example.com") for n, (first, last) in enumerate(NAMES)]
    import_people(config, people)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    by_recipient = {m.rcpt_tos[0]: m for m in server.messages}
    assert sorted(by_recipient) == sorted(p[3] for p in people)
    for _, first, last, address in people:
        message = received_headers(by_recipient[address])
        assert set(message.keys()) == CARD_HEADERS
        assert len(message.keys()) == len(CARD_HEADERS)  # none twice
        (to,) = message["To"].addresses
        # Python's address parser keeps the folding space between two encoded words, which RFC 2047 readers
        # drop; comparing words makes the test hold for both.
        assert (to.display_name.split(), to.addr_spec) == (f"{first} {last}".split(), address)
        (sender,) = message["From"].addresses
        assert sender.addr_spec == "hello@harbourbikes.example"
        assert first in str(message["Subject"])
        assert "\n" not in str(message["Subject"]) and "\r" not in to.display_name


ADDRESSES = {
    "ann@bücher.example": "ann@xn--bcher-kva.example",  # a domain beyond ASCII goes as IDNA
    "бob@пример.рф": "бob@xn--e1afmkfd.xn--p1ai",  # the local part needs SMTPUTF8
    "josé@example.com": "josé@example.com",
    "plain@example.com": "plain@example.com",
}


@pytest.mark.parametrize("smtputf8", [True, False], ids=["smtputf8", "no-smtputf8"])
def test_addresses_in_any_script_go_out_or_are_held_and_never_stop_the_others(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path, smtputf8: bool
) -> None:
    """Internationalised domains go in their IDNA form; letters beyond ASCII before the @ use SMTPUTF8 when the
    server offers it, and otherwise that card alone is held with the reason; every other card goes out."""
    server = smtp_server(smtputf8=smtputf8)
    config = write_smtp_config(tmp_path, database_url, server)
    import_people(config, [(f"A{n}", "Sam", "Reed", address) for n, address in enumerate(ADDRESSES)])
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    needs_utf8 = {"бob@пример.рф", "josé@example.com"}
    expected = {wire for address, wire in ADDRESSES.items() if smtputf8 or address not in needs_utf8}
    assert {m.rcpt_tos[0] for m in server.messages} == expected
    for message in server.messages:
        assert ("SMTPUTF8" in message.options) == (
            message.rcpt_tos[0] not in ("ann@xn--bcher-kva.example", "plain@example.com")
        )
        (to,) = received_headers(message)["To"].addresses
        assert to.addr_spec.split("@")[0] == message.rcpt_tos[0].split("@")[0]
    states = {str(r["customer_id"]): (r["state"], r["last_error"]) for r in outbox_rows(config)}
    assert "sending" not in {state for state, _ in states.values()}
    for n, address in enumerate(ADDRESSES):
        state, why = states[f"A{n}"]
        if address in needs_utf8 and not smtputf8:
            assert state == "held"
            assert f"the address {ADDRESSES[address]} has letters beyond ASCII before the @" in str(why)
            assert "offers no SMTPUTF8" in str(why)
        else:
            assert state == "sent"
    attention = run(config, "status").stdout
    assert ("2 cards need attention" in attention) == (not smtputf8)


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("452 4.2.2 Mailbox full, try later", Outcome("retry", "452 4.2.2 Mailbox full, try later")),
        ("552 5.2.2 Mailbox full", Outcome("retry", "552 5.2.2 Mailbox full")),
        ("550 5.1.1 User unknown", Outcome("failed", "550 5.1.1 User unknown", bouncing=True)),
        ("550 No such user here", Outcome("failed", "550 No such user here", bouncing=True)),
        ("551 User not local", Outcome("failed", "551 User not local", bouncing=True)),
        ("553 Mailbox name not allowed", Outcome("failed", "553 Mailbox name not allowed", bouncing=True)),
        ("501 5.1.3 Bad address syntax", Outcome("failed", "501 5.1.3 Bad address syntax", bouncing=True)),
        ("554 5.1.1 Address rejected", Outcome("failed", "554 5.1.1 Address rejected", bouncing=True)),
        ("555 Unsupported option", Outcome("failed", "555 Unsupported option")),
        ("550 5.7.1 Relaying denied", None),
        ("554 Relay access denied", None),
        ("554 5.7.1 Client host rejected", None),
        ("530 5.7.0 Authentication required", None),
    ],
)
def test_each_refusal_of_a_recipient_means_what_the_standard_says(reply: str, outcome: Outcome | None) -> None:
    """552 is temporary; 5.7.x and a 554 without a mailbox code refuse the sender (None: the run stops); only a
    mailbox or domain error (550, 551, 553, 5.1.x) blames the address."""
    code, text = int(reply[:3]), reply[4:].encode()
    if outcome is None:
        with pytest.raises(ServerError, match="refused to take mail from this sender"):
            rcpt_outcome(code, text)
    else:
        assert rcpt_outcome(code, text) == outcome


@pytest.mark.parametrize("reply", ["550 5.7.1 Relaying denied", "554 Relay access denied"])
def test_a_server_refusing_the_sender_at_rcpt_stops_the_run_and_blames_no_address(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path, reply: str
) -> None:
    """A refusal of the sender at RCPT stops the run like a refused login: every card stays pending with the
    server's words, and no customer is marked bouncing."""
    server = smtp_server(rcpt_replies={"p0@example.com": reply, "p1@example.com": reply, "p2@example.com": reply})
    config = write_smtp_config(tmp_path, database_url, server)
    import_people(config, [(f"P{n}", "Lee", "Park", f"p{n}@example.com") for n in range(3)])
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 1
    assert f"refused to take mail from this sender: {reply}" in result.stderr
    assert server.messages == []
    stored = outbox_rows(config)
    assert [r["state"] for r in stored] == ["pending"] * 3
    assert all(reply in str(r["last_error"]) for r in stored)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        assert not any(get_customer(conn, f"P{n}").email_bouncing for n in range(3))


def test_a_full_mailbox_is_retried_and_a_mailbox_error_bounces_until_opted_in_again(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """552 at RCPT leaves the card pending to retry; 550 5.1.1 fails it and marks the address bouncing, which
    opt-in --email clears."""
    server = smtp_server(
        rcpt_replies={"full@example.com": "552 5.2.2 Mailbox full", "gone@example.com": "550 5.1.1 User unknown"}
    )
    config = write_smtp_config(tmp_path, database_url, server)
    import_people(config, [("F1", "Ida", "Moss", "full@example.com"), ("G1", "Eli", "Ward", "gone@example.com")])
    assert run(config, "send", "--no-dry-run").exit_code == 0
    assert {str(r["customer_id"]): r["state"] for r in outbox_rows(config)} == {"F1": "pending", "G1": "failed"}
    url = load_config(config).database.url
    with Store.open(url) as store, store.begin() as conn:
        assert [get_customer(conn, c).email_bouncing for c in ("F1", "G1")] == [False, True]
    assert run(config, "opt-in", "G1", "--email").exit_code == 0
    with Store.open(url) as store, store.begin() as conn:
        assert not get_customer(conn, "G1").email_bouncing


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the test starts POSIX processes side by side")
def test_the_mail_account_limits_hold_across_processes_sending_at_once(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """Four send commands at once stay within rate_per_day together, and their cards keep rate_per_minute's
    pace between them, as one sender would."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server, rate_per_minute=600, rate_per_day=12)  # 100 ms apart
    import_people(config, [(f"R{n:02d}", "Max", "Hale", f"r{n:02d}@example.com") for n in range(30)])
    command = [sys.executable, "-m", "cardsender", "--config", str(config), "send", "--no-dry-run"]
    senders = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for sender in senders:
        sender.communicate(timeout=120)
    assert len(server.messages) == 12
    arrivals = sorted(message.at for message in server.messages)
    # One slot every 100 ms for all four: 12 cards take 1.1 s, and no half second holds more than five slots
    # (one more for the spread of a round trip on a busy machine).  Four senders pacing alone would take 0.3 s.
    assert arrivals[-1] - arrivals[0] >= 0.9, arrivals
    assert max(sum(1 for t in arrivals if start <= t < start + 0.5) for start in arrivals) <= 6, arrivals
    states = [r["state"] for r in outbox_rows(config)]
    assert states.count("sent") == 12 and states.count("pending") == 18
    assert json.dumps(states).count("sending") == 0


@pytest.mark.parametrize(
    ("status", "diagnostic", "blamed"),
    [("5.1.1", "smtp; 550 5.1.1 User unknown", True), ("5.7.1", "smtp; 550 5.7.1 Message refused by policy", False)],
)
def test_a_bounce_report_blames_the_address_only_for_a_mailbox_error(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path, status: str, diagnostic: str, blamed: bool
) -> None:
    """A delivery-status report read later fails the card it names either way, and marks the address bouncing
    only when it says the mailbox or domain is wrong, not for a policy refusal."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server)
    import_people(config, [("B1", "Ana", "Silva", "ana@example.com")])
    assert run(config, "send", "--no-dry-run").exit_code == 0
    (sent,) = server.messages
    report = bounce_report("ana@example.com", str(received_headers(sent)["Message-ID"]), status, diagnostic)
    path = tmp_path / "bounce.eml"
    path.write_bytes(report)
    result = run(config, "bounces", str(path))
    assert result.exit_code == 0, result.output
    assert f"{int(blamed)} customer{'' if blamed else 's'} no longer emailed" in result.stdout
    assert [r["state"] for r in outbox_rows(config)] == ["failed"]
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        customer = get_customer(conn, "B1")
        assert customer is not None and customer.email_bouncing is blamed


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the test stops the service with SIGTERM")
def test_the_service_sends_the_others_and_strands_nothing_when_some_addresses_cannot_go(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """The service, against a server without SMTPUTF8: the cards to plain and IDNA addresses go out, the two
    that need SMTPUTF8 are held with the reason, and after SIGTERM no card is left sending."""
    server = smtp_server(smtputf8=False)
    config = write_smtp_config(tmp_path, database_url, server)
    people = [(f"S{n:02d}", "Kim", "Ito", f"s{n:02d}@example.com") for n in range(15)]
    people += [
        ("U1", "Ann", "Berg", "ann@bücher.example"),
        ("U2", "Bob", "Orlov", "бob@пример.рф"),
        ("U3", "José", "Ruiz", "josé@example.com"),
    ]
    import_people(config, people)
    service = subprocess.Popen(
        [sys.executable, "-m", "cardsender", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            settled = [r["state"] for r in outbox_rows(config)]
            if len(settled) == len(people) and set(settled) <= {"sent", "held"}:
                break
            time.sleep(0.1)
    finally:
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    states = {str(r["customer_id"]): r["state"] for r in outbox_rows(config)}
    assert states == {p[0]: "held" if p[0] in ("U2", "U3") else "sent" for p in people}
    cards = [m for m in server.messages if m.rcpt_tos != ["hello@harbourbikes.example"]]  # not the digest
    assert len(cards) == 16

"""Sending email cards through a real SMTP server on 127.0.0.1: delivery, TLS, login, and every kind of failure."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cardsender.config.loading import load_config
from cardsender.domain.records import Card, ContactEvent
from cardsender.domain.vocabulary import OutboxState
from cardsender.importers.fields import parse_customer_fields
from cardsender.planning.facts import add_card
from cardsender.sending.cycle import CycleReport, SendCycle
from cardsender.sending.transport import SmtpTransport
from cardsender.store import Store
from cardsender.store.customers import add_event, events_of, find_internal_id, get_customer, insert_customer
from cardsender.store.schema import customers, outbox
from cardsender.system import clock
from tests.smtpd import SmtpServerFactory
from tests.support.cli import outbox_rows, run
from tests.support.customers import ANA, BUYERS_WRITTEN_AT, TARO, add_buyers, today
from tests.support.mail import bounce_report
from tests.support.office import write_smtp_config


def test_cards_go_out_over_one_connection_and_never_twice(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """Due cards are delivered over one connection, recorded as sent and as contacts; a second run sends none."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA, TARO)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"Sent 2 cards on {today()}: 0 to retry, 0 failed, 0 unknown, 0 held, 0 cancelled."
    )
    assert server.connections == 1
    assert sorted(m.rcpt_tos[0] for m in server.messages) == ["ana@example.com", "taro@example.jp"]
    stored = outbox_rows(config)
    assert [r["state"] for r in stored] == ["sent", "sent"]
    assert sorted(str(r["message_id"]) for r in stored) == sorted(str(m.message["Message-ID"]) for m in server.messages)
    again = run(config, "send", "--no-dry-run")
    assert again.stdout.splitlines()[-1].startswith("Sent 0 cards")
    assert len(server.messages) == 2
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        kinds = [e.kind for e in events_of(conn, "C1")]
    assert kinds == ["purchase", "card"]


def test_each_message_is_well_formed(database_url: str, smtp_server: SmtpServerFactory, folder: Path) -> None:
    """One Message-ID, a real text part, an HTML part, UTF-8 for non-Latin names, and the opt-out header."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, TARO)
    assert run(config, "send", "--no-dry-run").exit_code == 0
    (received,) = server.messages
    message = received.message
    assert len(message.get_all("Message-ID") or []) == 1
    assert str(message["Message-ID"]).endswith("@harbourbikes.example>")
    assert str(message["To"]) == "太郎 山田 <taro@example.jp>"
    assert str(message["List-Unsubscribe"]) == "<mailto:hello@harbourbikes.example?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None  # one-click only beside an https link
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content_charset() == "utf-8"
    assert "太郎" in text.get_content()
    assert "<p" not in text.get_content() and "<br" not in text.get_content()
    assert "太郎" in html.get_content() and "<html" in html.get_content().lower()
    assert b"=?utf-8?" in received.raw.split(b"\r\n\r\n", 1)[0].lower()


def test_a_newline_in_a_name_cannot_add_a_header(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A name holding CR LF and a header stays inside the To display name."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        # Imports refuse control characters; the message must be safe even for a name written another way.
        conn.execute(customers.update().values(first_name="Eve\r\nBcc: evil@example.com"))
    assert run(config, "send", "--no-dry-run").exit_code == 0
    (received,) = server.messages
    assert received.message["Bcc"] is None
    assert received.rcpt_tos == ["ana@example.com"]


def test_starttls_with_a_trusted_certificate_and_a_login(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """STARTTLS verified against ca_file, then AUTH with the password from the environment."""
    server = smtp_server(tls=True, require_tls=True, auth={"maria@harbourbikes.example": "s3cret"})
    config = write_smtp_config(
        folder,
        database_url,
        server,
        security="starttls",
        ca_file=str(server.ca_file),
        username="maria@harbourbikes.example",
    )
    add_buyers(config, ANA)
    result = run(config, "send", "--no-dry-run", env={"CARDSENDER_SMTP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.output
    assert server.auth_logins == ["maria@harbourbikes.example"]
    assert [m.tls for m in server.messages] == [True]
    assert "s3cret" not in result.output


def test_an_untrusted_certificate_stops_the_cycle(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """Without the CA the certificate is refused: nothing is sent, the card stays pending with the reason."""
    server = smtp_server(tls=True, require_tls=True)
    config = write_smtp_config(folder, database_url, server, security="starttls")
    add_buyers(config, ANA)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 1
    assert "has a certificate that cannot be verified" in result.stderr
    assert server.messages == []
    (row,) = outbox_rows(config)
    assert row["state"] == "pending"
    assert "certificate" in str(row["last_error"])


def test_a_wrong_password_stops_the_cycle_without_showing_it(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A refused login is the server's problem: the card stays pending and the password is never printed."""
    server = smtp_server(auth={"maria": "right"})
    config = write_smtp_config(folder, database_url, server, username="maria")
    add_buyers(config, ANA)
    result = run(config, "send", "--no-dry-run", env={"CARDSENDER_SMTP_PASSWORD": "wrong-horse"})
    assert result.exit_code == 1
    assert "refused the login for maria: 535" in result.stderr
    assert "wrong-horse" not in result.output
    assert [r["state"] for r in outbox_rows(config)] == ["pending"]


def test_a_refused_sender_stops_the_cycle_and_status_shows_why(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A 5xx to MAIL FROM (a quota, say) stops the cycle; the cards stay pending; status shows the server's words."""
    server = smtp_server(refuse_mail_from="550 5.7.1 Sending quota exceeded")
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA, TARO)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 1
    assert "550 5.7.1 Sending quota exceeded" in result.stderr
    assert [r["state"] for r in outbox_rows(config)] == ["pending", "pending"]
    status = run(config, "status")
    assert "Sending quota exceeded" in status.stdout
    assert status.stdout.splitlines()[-1] == "2 cards need attention."


def test_a_refused_recipient_fails_and_marks_the_address_bouncing(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A 550 to RCPT fails that card, marks the address bouncing, and the others still go."""
    server = smtp_server(refuse_rcpt={"ana@example.com"})
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA, TARO)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    states = {r["customer_id"]: (r["state"], r["last_error"]) for r in outbox_rows(config)}
    assert states["C1"][0] == "failed" and str(states["C1"][1]).startswith("550")
    assert states["C2"][0] == "sent"
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        assert get_customer(conn, "C1").email_bouncing is True
    plan = json.loads(run(config, "plan", "--json", "--days", "90").stdout)
    assert [t for t in plan if t["customer_id"] == "C1" and t["channel"] == "email"] == []
    run(config, "customers", "edit", "C1", "--set", "email=ana.silva@example.com")
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        assert get_customer(conn, "C1").email_bouncing is False


def test_a_temporary_refusal_is_retried_on_a_later_cycle(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A 451 on DATA leaves the card pending with a later attempt; the next cycle after it delivers it once."""
    server = smtp_server(fail_data_times=1)
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA)
    first = run(config, "send", "--no-dry-run")
    assert first.stdout.splitlines()[-1].startswith("Sent 0 cards") and "1 to retry" in first.stdout
    (row,) = outbox_rows(config)
    assert (row["state"], row["attempts"], str(row["last_error"])[:3]) == ("pending", 1, "451")
    assert run(config, "send", "--no-dry-run").stdout.splitlines()[-1].startswith("Sent 0 cards")  # too soon
    settings = load_config(config)
    later = clock.utc_now() + dt.timedelta(minutes=16)
    with Store.open(settings.database.url) as store:
        cycle = SendCycle(
            store,
            settings,
            clock=clock.Clock(lambda: later.replace(tzinfo=dt.UTC), at=dt.datetime.now(dt.UTC)),
            worker="test",
            sleep=lambda _: None,
        )
        report = cycle.run(SmtpTransport(settings.email, settings.office.from_address, None))
    assert report.count(OutboxState.SENT) == 1
    assert len(server.messages) == 1
    assert [r["state"] for r in outbox_rows(config)] == ["sent"]


def test_a_connection_lost_after_the_data_is_unknown_and_never_resent(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """The server took the message but the reply was lost: unknown, not resent; staff settle it by hand."""
    server = smtp_server(drop_after_data=1)
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA)
    result = run(config, "send", "--no-dry-run")
    assert result.exit_code == 0, result.output
    assert "1 unknown" in result.stdout.splitlines()[-1]
    assert run(config, "send", "--no-dry-run").stdout.splitlines()[-1].startswith("Sent 0 cards")
    assert len(server.messages) == 1
    (row,) = outbox_rows(config)
    assert row["state"] == "unknown"
    status = run(config, "status")
    assert "resolve ROW sent|resend|cancel" in status.stdout
    settled = run(config, "resolve", str(row["row"]), "sent")
    assert settled.stdout == f"Row {row['row']} (C1, Thank-you) is now sent.\n"
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        assert [e.kind for e in events_of(conn, "C1")] == ["purchase", "card"]


@pytest.mark.parametrize("began", [True, False], ids=["transaction-begun", "never-begun"])
def test_a_crash_while_sending_leaves_only_a_card_that_had_begun_unknown(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path, began: bool
) -> None:
    """A row left in sending (its service gone, the lease over) becomes unknown on the next cycle and is not
    resent when its SMTP transaction had begun; one that never began goes out on that cycle."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA)
    settings = load_config(config)
    with Store.open(settings.database.url) as store:
        cycle = SendCycle(store, settings, clock=clock.Clock(), worker="crashed")
        cycle.plan(CycleReport(dry_run=False))
        with store.begin() as conn:
            conn.execute(
                outbox.update().values(
                    state="sending",
                    claimed_by="crashed",
                    lease_until=dt.datetime(2000, 1, 1),
                    smtp_started_at=clock.utc_now() if began else None,
                )
            )
    result = run(config, "send", "--no-dry-run")
    with Store.open(settings.database.url) as store, store.begin() as conn:
        states = conn.execute(select(outbox.c.state)).scalars().all()
    if began:
        assert "1 left sending by a crash are now unknown" in result.stdout
        assert server.messages == []
        assert states == ["unknown"]
    else:
        assert "1 claimed by a run that stopped before sending them are pending again" in result.stdout
        assert [m.rcpt_tos for m in server.messages] == [["ana@example.com"]]
        assert states == ["sent"]


def test_the_dry_run_writes_messages_and_changes_nothing(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """send without --no-dry-run writes .eml files, sends nothing, and leaves the outbox empty."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA, TARO)
    result = run(config, "send")
    assert result.exit_code == 0, result.output
    written = folder / "outbox" / "dry-run" / today().isoformat()
    assert result.stdout.splitlines()[-1] == (
        f"Dry run for {today()}: 2 cards would go out (written to {written}), 0 would be held for review. "
        "Send them with --no-dry-run."
    )
    assert len(list(written.glob("*.eml"))) == 2
    assert server.connections == 0
    assert outbox_rows(config) == []


def test_sending_refuses_a_day_in_the_future(database_url: str, smtp_server: SmtpServerFactory, folder: Path) -> None:
    """Cards go out on their day: --no-dry-run with a future --on is refused."""
    config = write_smtp_config(folder, database_url, smtp_server())
    tomorrow = today() + dt.timedelta(days=1)
    result = run(config, "send", "--no-dry-run", "--on", tomorrow.isoformat())
    assert result.exit_code == 1
    assert result.output == f"Error: --on {tomorrow} is in the future; cards go out on their day, not before\n"


def test_a_bounce_report_fails_the_card_and_stops_email_to_the_address(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A bounce report read later fails the card it names, marks the address, and puts the customer on the call list."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    add_buyers(config, ANA, TARO)
    assert run(config, "send", "--no-dry-run").exit_code == 0
    sent = next(m for m in server.messages if m.rcpt_tos == ["ana@example.com"])
    report = bounce_report("ana@example.com", str(sent.message["Message-ID"]), "5.1.1", "smtp; 550 5.1.1 User unknown")
    path = folder / "bounce.eml"
    path.write_bytes(report)
    result = run(config, "bounces", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "ana@example.com: 5.1.1 550 5.1.1 User unknown",
        f"Read {path}: 1 bounced address, 1 customer no longer emailed (on the call list if a card failed), "
        "1 card marked failed; 0 delays and 0 other messages left alone.",
    ]
    states = {r["customer_id"]: (r["state"], r["last_error"]) for r in outbox_rows(config)}
    assert states == {"C1": ("failed", "bounced: 5.1.1 550 5.1.1 User unknown"), "C2": ("sent", "")}
    calls = json.loads(run(config, "calls", "--json").stdout)
    assert [(c["customer_id"], c["card_failed"]) for c in calls] == [("C1", True)]
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        assert get_customer(conn, "C1").email_bouncing is True


def test_a_held_card_goes_out_with_the_note_that_releases_it_and_the_note_is_used_once(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """A generic card is held; a note releases it, goes out in it, is kept in the history, and is not reused."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        row = insert_customer(conn, parse_customer_fields(ANA), today() - dt.timedelta(days=30), BUYERS_WRITTEN_AT)
        when = dt.datetime.combine(today() - dt.timedelta(days=1), dt.time(11))
        add_event(conn, row, ContactEvent("C1", when, "purchase", "", "import"), BUYERS_WRITTEN_AT)
    held = run(config, "send", "--no-dry-run")
    assert "1 held" in held.stdout.splitlines()[-1]
    assert [r["state"] for r in outbox_rows(config)] == ["held"]
    noted = run(config, "note", "C1", "So glad the fitting went well!")
    assert noted.stdout.splitlines()[-1] == "1 card held for review will go out with it."
    assert run(config, "send", "--no-dry-run").stdout.splitlines()[-1].startswith("Sent 1 card")
    (received,) = server.messages
    text = received.message.get_body(("plain",))
    assert text is not None and "So glad the fitting went well!" in text.get_content()
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        card_event = events_of(conn, "C1")[-1]
    assert card_event.kind == "card"
    assert card_event.summary.endswith("(personal note: So glad the fitting went well!)")
    later = run(config, "preview", "C1", "check_in")
    assert "So glad the fitting went well!" not in later.stdout


def test_status_warns_when_the_daily_limit_would_make_check_ins_late(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """Three check-ins due on day 69 at one email a day: the third would go out after day 70, and status says so."""
    config = write_smtp_config(folder, database_url, smtp_server(), rate_per_day=1)
    add_buyers(config, *({**ANA, "id": f"L{n}", "email": f"l{n}@example.com"} for n in range(3)))
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        for n in range(3):
            day = today() - dt.timedelta(days=6)
            add_card(
                conn,
                find_internal_id(conn, f"L{n}"),
                Card(f"L{n}", "check_in", day, "email", "pending"),
                day,
                BUYERS_WRITTEN_AT,
            )
    result = run(config, "status")
    assert result.stderr == (
        "Warning: at 1 email a day, 1 check-in would go out after the customer's day 70; raise [email] "
        "rate_per_day, or call them.\n"
    )


def test_with_approval_required_cards_wait_until_approved_or_skipped(
    database_url: str, smtp_server: SmtpServerFactory, folder: Path
) -> None:
    """require_approval holds planned cards; approve sends the chosen one with the next run, skip cancels."""
    server = smtp_server()
    config = write_smtp_config(folder, database_url, server)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("require_approval = true\n")
    add_buyers(config, ANA, TARO)
    first = run(config, "send", "--no-dry-run")
    assert first.stdout.splitlines()[-1].startswith("Sent 0 cards")
    waiting = {r["customer_id"]: r for r in outbox_rows(config)}
    assert [(r["state"], r["last_error"]) for r in waiting.values()] == [("held", "waiting for approval")] * 2
    assert "waiting for approval" in run(config, "status").stdout
    assert run(config, "approve").output.startswith("Error: name the rows to approve, or give --all")
    approved = run(config, "approve", str(waiting["C1"]["row"]))
    assert approved.stdout == "Approved 1 card; the next cycle sends them.\n"
    assert run(config, "skip", str(waiting["C2"]["row"])).stdout.endswith("is cancelled.\n")
    assert run(config, "send", "--no-dry-run").stdout.splitlines()[-1].startswith("Sent 1 card")
    assert [m.rcpt_tos for m in server.messages] == [["ana@example.com"]]
    assert {r["customer_id"]: r["state"] for r in outbox_rows(config)} == {"C1": "sent", "C2": "cancelled"}

"""What staff decide stands: a skipped check-in stays skipped, and a card never greets a customer by an id."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cardsender.config.loading import load_config
from cardsender.domain.records import ContactEvent
from cardsender.importers.fields import parse_customer_fields
from cardsender.store import Store
from cardsender.store.customers import add_event, insert_customer
from cardsender.system import clock
from tests.smtpd import SmtpServerFactory
from tests.support.cli import outbox_rows, run
from tests.support.customers import BUYERS_WRITTEN_AT, add_buyers
from tests.support.office import TZ, write_smtp_config


def plan_for(config: Path, day: dt.date) -> list[tuple[str, str]]:
    """Return the (customer, occasion) of the cards planned for a day."""
    result = run(config, "plan", "--on", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    return [(str(card["customer_id"]), str(card["occasion"])) for card in json.loads(result.stdout)]


def test_a_skipped_check_in_is_not_planned_again_for_the_same_last_contact(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """An overdue customer's check-in, skipped by staff, is settled: no other check-in is planned the next days
    while their last contact stays the same, they stay on the call list, and a new contact starts a new gap."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("require_approval = true\n")
    today = clock.office_today(TZ)
    with Store.open(load_config(config).database.url) as store, store.begin() as conn:
        fields = {"id": "C9", "first_name": "Vera", "email": "vera@example.com", "channel": "email"}
        row = insert_customer(conn, parse_customer_fields(fields), today - dt.timedelta(days=400), BUYERS_WRITTEN_AT)
        long_ago = dt.datetime.combine(today - dt.timedelta(days=100), dt.time(10))
        add_event(conn, row, ContactEvent("C9", long_ago, "visit", "Tried a gravel bike", "import"), BUYERS_WRITTEN_AT)
    assert run(config, "send", "--no-dry-run").exit_code == 0
    (held,) = outbox_rows(config)
    assert (held["occasion"], held["state"]) == ("check_in", "held")
    assert run(config, "skip", str(held["row"])).exit_code == 0
    for later in range(4):
        assert ("C9", "check_in") not in plan_for(config, today + dt.timedelta(days=later))
    assert run(config, "send", "--no-dry-run").exit_code == 0
    assert [r["state"] for r in outbox_rows(config)] == ["cancelled"]
    calls = json.loads(run(config, "calls", "--json").stdout)
    assert [c["customer_id"] for c in calls] == ["C9"]
    assert run(config, "log", "C9", "--kind", "call", "--note", "Will come in for a fitting").exit_code == 0
    planned_again = plan_for(config, today + dt.timedelta(days=63))
    assert ("C9", "check_in") in planned_again
    assert server.messages == []


def test_a_customer_known_only_by_an_id_gets_no_card_greeting_them_by_it(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """A card for a customer without a usable name (an export with ids only, or the id copied into the name) is
    held for review with the reason "no name known", and the digest lists it; the named customer's card goes."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server)
    add_buyers(
        config,
        {"id": "7301002001005", "email": "a@example.com", "channel": "email"},
        {"id": "7301002001006", "first_name": "7301002001006", "email": "b@example.com", "channel": "email"},
        {"id": "C1", "first_name": "Ana", "email": "ana@example.com", "channel": "email"},
    )
    assert run(config, "send", "--no-dry-run").exit_code == 0
    states = {str(r["customer_id"]): (r["state"], str(r["last_error"])) for r in outbox_rows(config)}
    assert states["C1"] == ("sent", "")
    for nameless in ("7301002001005", "7301002001006"):
        state, why = states[nameless]
        assert state == "held" and why.startswith("no name known:"), states
    assert [m.rcpt_tos for m in server.messages] == [["ana@example.com"]]
    preview = run(config, "preview", "7301002001005", "thank_you")
    assert "Held for review" in preview.stderr and "no name known" in preview.stderr
    digest = run(config, "digest").stdout
    assert digest.count("no name known") == 2


def test_every_command_that_plans_or_sends_says_what_waits_for_approval(
    database_url: str, smtp_server: SmtpServerFactory, tmp_path: Path
) -> None:
    """With require_approval, send, the dry run, plan and status each say how many cards wait for approval and
    how to release them; status and outbox show each customer's name beside the id."""
    server = smtp_server()
    config = write_smtp_config(tmp_path, database_url, server)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("require_approval = true\n")
    add_buyers(
        config,
        {"id": "C1", "first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"},
        {"id": "C2", "first_name": "Taro", "email": "taro@example.jp"},
    )
    note = (
        "2 cards wait for approval: 'cardsender approve --all' sends them with the next run "
        "('cardsender approve ROW...' some of them, 'cardsender skip ROW' never)."
    )
    sent = run(config, "send", "--no-dry-run")
    assert sent.stdout.splitlines()[-1] == (
        f"Sent 0 cards on {clock.office_today(TZ)}: 0 to retry, 0 failed, 0 unknown, 0 held, 0 cancelled; " + note
    )
    assert run(config, "send").stdout.splitlines()[-1] == note
    assert run(config, "plan").stdout.splitlines()[-1] == note
    status = run(config, "status").stdout.splitlines()
    assert note in status
    assert any("Ana Silva (C1)" in line and "waiting for approval" in line for line in status)
    listed = run(config, "outbox").stdout
    assert "Ana Silva (C1)" in listed and "Taro (C2)" in listed
    assert {r["customer_id"]: r["customer_name"] for r in outbox_rows(config)} == {"C1": "Ana Silva", "C2": "Taro"}
    assert server.messages == []

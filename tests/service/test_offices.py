"""Several offices in one database: the config's [offices.KEY], customers' office, and commands per office."""

from __future__ import annotations

import datetime as dt
import email.policy
import json
from email.parser import BytesParser
from pathlib import Path

import pytest

from cardsender.config.loading import load_config, parse_config
from cardsender.domain.errors import ConfigError
from cardsender.system import clock
from tests.support.cli import run

SHARED = {"name": "Harbour Street Bikes", "country": "CA", "postal_address": "12 Harbour Street\nToronto"}
OFFICES = {
    "east": {"timezone": "America/Toronto", "from_address": "east@harbourbikes.example"},
    "west": {"timezone": "America/Vancouver", "from_address": "west@harbourbikes.example", "name": "Harbour West"},
}


def test_one_office_is_the_default_office_main() -> None:
    """A config with [office] alone serves one office, keyed main."""
    config = parse_config({"office": SHARED}, None)
    assert config.office_keys() == ("main",)
    assert config.office.key == "main" and config.office.name == "Harbour Street Bikes"


def test_offices_take_their_own_settings_and_the_rest_from_office() -> None:
    """Each [offices.KEY] is an office; what it leaves out comes from [office]; the first is the default."""
    config = parse_config({"office": SHARED, "offices": OFFICES}, None)
    assert config.office_keys() == ("east", "west")
    assert config.office.key == "east"
    west = config.for_office("west").office
    assert (west.name, west.timezone, west.from_address, west.country, west.postal_address) == (
        "Harbour West",
        "America/Vancouver",
        "west@harbourbikes.example",
        "CA",
        "12 Harbour Street\nToronto",
    )
    assert config.for_office("east").office.name == "Harbour Street Bikes"


def test_an_office_not_in_the_config_is_named_with_the_ones_that_are(tmp_path: Path) -> None:
    """Asking for an office the config does not serve says which ones it does."""
    path = tmp_path / "cardsender.toml"
    path.write_text('[offices.east]\ntimezone = "America/Toronto"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path).for_office("north")
    assert str(caught.value) == f"{path}: no office 'north'; this config serves: east"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[offices.North]\nname = "x"\n', "offices.North: an office key is lower-case letters, digits, - and _"),
        ('[offices.east]\ncolour = "red"\n', "unknown key"),
        ('[offices.east]\ntimezone = "Mars/Olympus"\n', "[offices.east] timezone: 'Mars/Olympus' is not valid"),
    ],
)
def test_a_bad_office_section_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    """Office keys and settings are checked like any other section."""
    path = tmp_path / "cardsender.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


@pytest.fixture
def offices_config(tmp_path: Path, database_url: str) -> Path:
    """Write a config serving east and west into one database, with the file transport."""
    sections = "".join(
        f"\n[offices.{key}]\n" + "".join(f"{name} = {json.dumps(value)}\n" for name, value in settings.items())
        for key, settings in OFFICES.items()
    )
    shared = "".join(f"{name} = {json.dumps(value)}\n" for name, value in SHARED.items())
    path = tmp_path / "cardsender.toml"
    path.write_text(
        f'[office]\n{shared}{sections}\n[database]\nurl = "{database_url}"\n\n'
        '[email]\ntransport = "file"\noutbox_dir = "outbox"\n',
        encoding="utf-8",
    )
    return path


def office_of(config: Path, customer_id: str) -> str:
    """Return the office a customer belongs to, as ``customers show --json`` says."""
    result = run(config, "customers", "show", customer_id, "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["office"])


def test_import_puts_each_customer_in_their_office_and_refuses_an_unknown_one(offices_config: Path) -> None:
    """The office column (any case) places a customer; a blank one means the office importing; an office the
    config does not serve is refused, with the row kept in the rejects file."""
    folder = offices_config.parent
    path = folder / "customers.csv"
    path.write_text("id,first_name,branch\nC1,Ana,west\nC2,Bo,EAST\nC3,Cy,\nC4,Di,north\n", encoding="utf-8")
    result = run(offices_config, "--office", "west", "import", "customers", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"{path.name}:5: office 'north' is not one this config serves (east, west); correct the row, "
        "or add [offices.north] to the config\n"
    )
    assert [office_of(offices_config, c) for c in ("C1", "C2", "C3")] == ["west", "east", "west"]
    rejected = (folder / "customers.rejects.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rejected) == 1 and rejected[0].startswith("C4,Di,north,")
    # Importing again without the column leaves each customer in their office.
    path.write_text("id,first_name\nC1,Ana\nC2,Bo\n", encoding="utf-8")
    assert run(offices_config, "import", "customers", str(path)).exit_code == 0
    assert [office_of(offices_config, c) for c in ("C1", "C2")] == ["west", "east"]


def seed_purchases(config: Path) -> None:
    """Add a customer to each office with a purchase yesterday at that office, so a thank-you is due today."""
    folder = config.parent
    for key, settings in OFFICES.items():
        path = folder / f"{key}.csv"
        path.write_text(f"id,first_name,email,office\n{key}-1,Sam,{key}1@example.com,{key}\n", encoding="utf-8")
        assert run(config, "--office", key, "import", "customers", str(path)).exit_code == 0
        yesterday = clock.office_today(settings["timezone"]) - dt.timedelta(days=1)
        history = folder / f"{key}-history.csv"
        history.write_text(
            f"customer_id,date,kind,summary\n{key}-1,{yesterday} 11:00,purchase,Road bike\n", encoding="utf-8"
        )
        assert run(config, "--office", key, "import", "history", str(history)).exit_code == 0


def test_commands_act_for_one_office_and_send_from_its_address(offices_config: Path) -> None:
    """plan and send act for the office chosen with --office (the first by default), each card from that
    office's sender, on its own day; the outbox says whose card each row is."""
    seed_purchases(offices_config)
    for key, settings in OFFICES.items():
        result = run(offices_config, "--office", key, "plan", "--json")
        assert result.exit_code == 0, result.output
        planned = json.loads(result.stdout)
        assert [card["customer_id"] for card in planned] == [f"{key}-1"]
        assert planned[0]["due_date"] == clock.office_today(settings["timezone"]).isoformat()
    sent = run(offices_config, "send", "--no-dry-run")
    assert sent.exit_code == 0, sent.output
    assert "east-1" in sent.stdout and "west-1" not in sent.stdout
    assert run(offices_config, "--office", "west", "send", "--no-dry-run").exit_code == 0
    parser = BytesParser(policy=email.policy.default)
    senders = {}
    for path in (offices_config.parent / "outbox").glob("*.eml"):
        message = parser.parsebytes(path.read_bytes())
        senders[message["To"].addresses[0].addr_spec] = message["From"].addresses[0].addr_spec
    assert senders == {
        "east1@example.com": "east@harbourbikes.example",
        "west1@example.com": "west@harbourbikes.example",
    }
    for key in OFFICES:  # each office's report counts its own card only
        report = json.loads(run(offices_config, "--office", key, "report", "--json").stdout)
        assert (report["contactable"], report["cards_this_year"]) == (1, {"thank_you": 1})
    rows = json.loads(run(offices_config, "outbox", "--json").stdout)
    assert sorted((row["customer_id"], row["office"], row["state"]) for row in rows) == [
        ("east-1", "east", "sent"),
        ("west-1", "west", "sent"),
    ]


def test_an_unknown_office_option_is_one_clear_error(offices_config: Path) -> None:
    """--office with a key the config does not serve fails with the keys it does serve."""
    result = run(offices_config, "--office", "north", "plan")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {offices_config}: no office 'north'; this config serves: east, west\n"


def test_edit_moves_a_customer_to_another_office_it_serves_only(offices_config: Path) -> None:
    """customers edit office=KEY moves a customer; a key the config does not serve, or none, is refused."""
    path = offices_config.parent / "customers.csv"
    path.write_text("id,first_name,office\nC1,Ana,east\n", encoding="utf-8")
    assert run(offices_config, "import", "customers", str(path)).exit_code == 0
    assert run(offices_config, "customers", "edit", "C1", "--set", "office=West").exit_code == 0
    assert office_of(offices_config, "C1") == "west"
    for value, message in (("north", "office 'north' is not one"), ("", "office cannot be empty; use one")):
        refused = run(offices_config, "customers", "edit", "C1", "--set", f"office={value}")
        assert refused.exit_code == 1
        assert refused.stderr == f"Error: {message} this config serves (east, west)\n"
    assert office_of(offices_config, "C1") == "west"


def test_a_new_customer_is_added_on_their_own_office_day(offices_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 05:00 UTC it is already the 2nd in Toronto but still the 1st in Vancouver: each new customer is
    added on their own office's day, whichever office imports them."""
    monkeypatch.setenv("CARDSENDER_TEST_NOW", "2026-03-02T05:00:00+00:00")
    path = offices_config.parent / "customers.csv"
    path.write_text("id,first_name,office\nC1,Ana,east\nC2,Bo,west\n", encoding="utf-8")
    assert run(offices_config, "import", "customers", str(path)).exit_code == 0
    added = {
        c: json.loads(run(offices_config, "customers", "show", c, "--json").stdout)["added_on"] for c in ("C1", "C2")
    }
    assert added == {"C1": "2026-03-02", "C2": "2026-03-01"}

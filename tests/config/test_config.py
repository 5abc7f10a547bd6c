"""Finding, reading and validating cardsender.toml."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest

from cardsender.config.loading import find_config_path, load_config
from cardsender.config.model import EmailConfig
from cardsender.config.password import smtp_password
from cardsender.domain.errors import ConfigError
from cardsender.system import paths

CHRISTMAS_POLICY = (
    "cardsender never sends Christmas cards: every business sends them, so they say nothing about the "
    "customer. Remove it; birthdays, Thanksgiving, thank-yous and check-ins keep customers close instead"
)


def write(path: Path, text: str = "") -> Path:
    """Write a config file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Return the four places a config can be found, each holding one, with the current folder set."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(write(tmp_path / "cwd" / "cardsender.toml").parent)
    found = {
        "explicit": write(tmp_path / "explicit" / "mine.toml"),
        "env": write(tmp_path / "env" / "from-env.toml"),
        "cwd": Path("cardsender.toml").resolve(),
        "platform": write(tmp_path / "xdg" / "cardsender" / "cardsender.toml"),
    }
    monkeypatch.setenv("CARDSENDER_CONFIG", str(found["env"]))
    return found


def test_explicit_config_comes_first(places: dict[str, Path]) -> None:
    """--config wins over $CARDSENDER_CONFIG, ./cardsender.toml and the platform folder."""
    assert find_config_path(places["explicit"]) == places["explicit"]


def test_environment_variable_comes_second(places: dict[str, Path]) -> None:
    """$CARDSENDER_CONFIG wins over ./cardsender.toml and the platform folder."""
    assert find_config_path() == places["env"]


def test_current_folder_comes_third(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --config or the variable, ./cardsender.toml wins over the platform folder."""
    monkeypatch.delenv("CARDSENDER_CONFIG")
    found = find_config_path()
    assert found is not None
    assert found.resolve() == places["cwd"]


def test_platform_folder_comes_last(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform config folder ($XDG_CONFIG_HOME/cardsender on Linux) is the last place looked at."""
    monkeypatch.delenv("CARDSENDER_CONFIG")
    places["cwd"].unlink()
    assert find_config_path() == places["platform"]
    assert load_config().path == places["platform"]


def test_no_config_anywhere_gives_defaults(places: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file anywhere, the defaults apply and the database lives in the platform data folder."""
    monkeypatch.delenv("CARDSENDER_CONFIG")
    places["cwd"].unlink()
    places["platform"].unlink()
    config = load_config()
    assert config.path is None
    assert config.office.timezone == "UTC"
    assert config.database.url == f"sqlite:///{paths.data_dir() / 'cardsender.db'}"


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    """A --config file that does not exist is refused, with how to make one."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert str(caught.value) == f"{tmp_path / 'nope.toml'}: no such config file; create one with 'cardsender init'"


def test_missing_environment_config_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A $CARDSENDER_CONFIG naming no file is refused, naming the variable."""
    monkeypatch.setenv("CARDSENDER_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value) == (
        f"{tmp_path / 'gone.toml'}: no such config file (from $CARDSENDER_CONFIG); "
        "fix the variable or run 'cardsender init'"
    )


def test_example_config_loads() -> None:
    """The commented example config shipped with the package is valid, and says what it shows."""
    example = paths.example_config()
    config = load_config(example)
    assert config.office.name == "Harbour Street Bikes"
    assert config.office.timezone == "America/New_York"
    assert config.office.send_time == dt.time(9, 0)
    assert config.office.start_date is None
    assert config.office.postal_address == "12 Harbour Street\nPortland, ME 04101\nUnited States"
    assert config.database.url == f"sqlite:///{example.resolve().parent / 'cardsender.db'}"
    assert config.imports.date_format is None
    assert config.keep_in_touch.max_gap_days == 70
    assert config.email.transport == "file"
    assert config.email.outbox_dir == example.resolve().parent / "outbox"


def test_relative_sqlite_path_is_resolved_against_the_config_folder(tmp_path: Path) -> None:
    """A relative SQLite path is relative to the config file's folder, not the current folder."""
    path = write(tmp_path / "office" / "cardsender.toml", '[database]\nurl = "sqlite:///data/cards.db"\n')
    assert load_config(path).database.url == f"sqlite:///{tmp_path.resolve() / 'office' / 'data' / 'cards.db'}"


def test_absolute_sqlite_path_is_kept(tmp_path: Path) -> None:
    """An absolute SQLite path (four slashes) is used as written."""
    path = write(tmp_path / "cardsender.toml", f'[database]\nurl = "sqlite:///{tmp_path}/cards.db"\n')
    assert load_config(path).database.url == f"sqlite:///{tmp_path}/cards.db"


OFFICE_KEYS = (
    "country, from_address, language, name, phone, postal_address, reply_to, send_time, sender_name, "
    "signature, start_date, subdivision, timezone, unsubscribe_url, website"
)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[office]\ncolour = "red"\n', f"[office] colour: unknown key; known keys are: {OFFICE_KEYS}"),
        (
            '[officee]\nname = "x"\n',
            "officee: unknown key; known keys are: "
            "database, email, import, keep_in_touch, occasions, office, offices, print, templates",
        ),
        (
            '[keep_in_touch]\nmax_gap_days = "seventy"\n',
            "[keep_in_touch] max_gap_days: expected a whole number, got 'seventy'",
        ),
        ("[office]\nname = 12\n", "[office] name: expected a string in quotes, got 12"),
        (
            '[office]\ntimezone = "Mars/Olympus"\n',
            "[office] timezone: 'Mars/Olympus' is not valid: unknown time zone; "
            "expected an IANA name such as 'America/Toronto'",
        ),
        (
            '[office]\nsend_time = "02:30"\n',
            "[office] send_time: '02:30' is not valid: times from 01:00 to 03:59 are skipped or repeated when "
            "clocks change; expected a time such as '09:00'",
        ),
        (
            '[email]\npassword = "hunter2"\n',
            "email.password: secrets do not belong in the config file; remove the key and put the SMTP password "
            "in the CARDSENDER_SMTP_PASSWORD environment variable or the system keyring (service 'cardsender', "
            "your SMTP username)",
        ),
        ("[occasions.christmas]\nenabled = true\n", f"[occasions] christmas: {CHRISTMAS_POLICY}"),
        (
            '[occasions.thanksgiving.rules]\nXX = "4th Thursday of December"\n',
            f"[occasions.thanksgiving] rules.XX: '4th Thursday of December' can fall on December 24 to 26; "
            f"{CHRISTMAS_POLICY}",
        ),
        (
            '[email]\ntransport = "smtp"\nhost = "smtp.example.com"\nsecurity = "none"\n',
            '[email] security: "none" sends mail unencrypted and is allowed only for a server on localhost; '
            'use "starttls" or "tls", or set allow_insecure = true if you really mean it',
        ),
        (
            '[import]\ndate_format = "YYYY/DD/MM"\n',
            "[import] date_format: 'YYYY/DD/MM' is not one of: DD/MM/YYYY, MM/DD/YYYY",
        ),
    ],
)
def test_invalid_config_names_the_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    """Every validation error starts with the file, then names the key and what to do."""
    path = write(tmp_path / "cardsender.toml", toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {message}"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    """A file that is not TOML is refused with the parser's reason (its wording is Python's)."""
    path = write(tmp_path / "cardsender.toml", "[office\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: not valid TOML (")
    assert str(caught.value).endswith("); fix the syntax at that place")


def test_security_none_is_allowed_on_localhost(tmp_path: Path) -> None:
    """An unencrypted SMTP server on localhost is accepted, on port 25 by default."""
    path = write(tmp_path / "cardsender.toml", '[email]\ntransport = "smtp"\nhost = "localhost"\nsecurity = "none"\n')
    email = load_config(path).email
    assert (email.host, email.security, email.port) == ("localhost", "none", 25)


def test_thanksgiving_rule_in_november_is_accepted(tmp_path: Path) -> None:
    """A Thanksgiving rule away from Christmas is read into a rule for its country."""
    path = write(tmp_path / "cardsender.toml", '[occasions.thanksgiving.rules]\nlr = "1st Thursday of November"\n')
    rules = load_config(path).occasions.thanksgiving.rules
    assert {country: str(rule) for country, rule in rules.items()} == {"LR": "1st Thursday of November"}


def test_smtp_password_comes_from_the_environment() -> None:
    """The SMTP password is read from CARDSENDER_SMTP_PASSWORD, not from the config."""
    email = EmailConfig(transport="smtp", host="smtp.example.com", username="maria@example.com")
    assert smtp_password(email, {"CARDSENDER_SMTP_PASSWORD": "s3cret"}) == "s3cret"


@pytest.mark.skipif(importlib.util.find_spec("keyring") is not None, reason="the keyring package is installed")
def test_missing_smtp_password_says_where_to_put_it() -> None:
    """Without the variable (and no keyring package), the error names the variable and the keyring command."""
    email = EmailConfig(transport="smtp", host="smtp.example.com", username="maria@example.com")
    with pytest.raises(ConfigError) as caught:
        smtp_password(email, {"CARDSENDER_SMTP_PASSWORD": ""})
    assert str(caught.value) == (
        "no SMTP password for maria@example.com: set the CARDSENDER_SMTP_PASSWORD environment variable, "
        "or install cardsender[keyring] and store it with 'keyring set cardsender maria@example.com'"
    )

"""Find, read and validate ``cardsender.toml`` into the sections of ``model``, walking their declarations.

Every error names the file, the key, what is wrong and how to fix it.  The
file never holds a secret: the SMTP password comes from the environment or the
system keyring, and a config that contains one is refused.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cardsender.config.declarations import Kind, Setting, declared
from cardsender.config.model import (
    DATE_FORMATS,
    DEFAULT_PORTS,
    Config,
    DatabaseConfig,
    EmailConfig,
    ImportConfig,
    KeepInTouchConfig,
    OccasionsConfig,
    OfficeConfig,
    PrintConfig,
    TemplatesConfig,
    ThanksgivingConfig,
)
from cardsender.domain import christmas
from cardsender.domain.errors import ConfigError
from cardsender.domain.records import OFFICE_KEY
from cardsender.domain.rules import ClosedDay, WeekdayRule, parse_closed_day, parse_weekday_rule
from cardsender.system import paths

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

CONFIG_ENV = "CARDSENDER_CONFIG"
CONFIG_FILENAME = "cardsender.toml"
# Keys that would hold a secret; their values belong in the environment or the keyring.
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key", re.IGNORECASE)
CHRISTMAS_POLICY = (
    f"{christmas.REASON}. Remove it; birthdays, Thanksgiving, thank-yous and check-ins keep customers close instead"
)
# How to save a file as UTF-8 where Windows users meet the question.
SAVE_AS_UTF8 = "save it as UTF-8 (Notepad: File > Save as, Encoding: UTF-8)"

T = TypeVar("T")
S = TypeVar("S", bound="DataclassInstance")


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Return the config file to use: --config, $CARDSENDER_CONFIG, ./cardsender.toml, then the platform dir."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file; create one with 'cardsender init'")
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(
                f"{path}: no such config file (from ${CONFIG_ENV}); fix the variable or run 'cardsender init'"
            )
        return path
    for candidate in (Path.cwd() / CONFIG_FILENAME, paths.config_dir() / CONFIG_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Find, read and validate the configuration; defaults apply when there is no file."""
    path = find_config_path(explicit)
    if path is None:
        return parse_config({}, None)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = tomllib.loads(config_text(raw, path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that place") from exc
    return parse_config(data, path)


def config_text(raw: bytes, path: Path) -> str:
    """Return the text of a config file as Windows editors save it: UTF-8 with or without a BOM, or UTF-16.

    TOML is UTF-8, but Notepad adds a byte-order mark to UTF-8 and writes "Unicode" as
    UTF-16; both say unmistakably what they are, so they are read rather than refused.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if raw.startswith(bom):
            raw, found = raw[len(bom) :], encoding
            break
    else:
        found = "utf-8"
        if b"\x00" in raw:
            raise ConfigError(f"{path}: looks saved as UTF-16 without a byte-order mark; {SAVE_AS_UTF8}")
    try:
        return raw.decode(found)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        what = "UTF-8 (it looks saved as ANSI or Windows-1252)" if found == "utf-8" else found.upper()
        raise ConfigError(
            f"{path}: line {line} is not valid {what}, at byte 0x{raw[exc.start]:02X}; {SAVE_AS_UTF8}"
        ) from None


def known_keys(section_type: type) -> set[str]:
    """Return the keys a table of the file may hold: those its section declares."""
    return {found.key for found in declared(section_type)}


class Table:
    """Typed reads from one TOML table, with errors that name file and key."""

    def __init__(self, data: Mapping[str, object], name: str, where: str, known: set[str]) -> None:
        self.data = data
        self.name = name
        self.where = where
        unknown = sorted(set(data) - known)
        if unknown:
            self.fail(unknown[0], f"unknown key; known keys are: {', '.join(sorted(known))}")

    def fail(self, key: str, why: str) -> None:
        """Raise ConfigError naming the file, the table and the key."""
        label = f"[{self.name}] {key}" if self.name else key
        raise ConfigError(f"{self.where}: {label}: {why}")

    def get(self, key: str, kind: type[T], default: T) -> T:
        """Return a value of one TOML type, or the default when the key is left out."""
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        return value  # type: ignore[return-value]  # isinstance above proved it is a T

    def text(self, key: str, default: str = "") -> str:
        """Return a string, stripped."""
        return self.get(key, str, default).strip()

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        """Return a whole number from ``low`` to ``high``."""
        value = self.get(key, int, default)
        if not low <= value <= high:
            self.fail(key, f"{value} is out of range; use a whole number from {low} to {high}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        """Return one of a few words."""
        value = self.text(key, default)
        if value not in choices:
            self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def sub(self, key: str, known: set[str]) -> Table:
        """Return a table within this one (empty when left out)."""
        value: dict[str, object] = self.get(key, dict, {})
        name = f"{self.name}.{key}" if self.name else key
        return Table(value, name, self.where, known)

    def parsed(self, key: str, parse: Callable[[str], T], default: T, hint: str) -> T:
        """Return a value written as text (or a TOML date or time) and read by ``parse``."""
        if key not in self.data:
            return default
        raw = self.data[key]
        if isinstance(raw, (dt.date, dt.time)) and not isinstance(raw, dt.datetime):
            raw = raw.isoformat()
        if not isinstance(raw, str):
            self.fail(key, f"expected {hint}, got {raw!r}")
            raise AssertionError  # unreachable: fail() raises
        try:
            return parse(raw.strip())
        except ValueError as exc:
            self.fail(key, f"{raw!r} is not valid: {exc}; expected {hint}")
            raise AssertionError from exc  # unreachable: fail() raises


def _kind_name(kind: type) -> str:
    names = {
        str: "a string in quotes",
        int: "a whole number",
        bool: "true or false",
        dict: "a table",
        list: "a list in brackets",
    }
    return names.get(kind, kind.__name__)


def _resolve(base: Path | None, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def read_value(table: Table, key: str, setting: Setting, default: object, base: Path | None) -> object:
    """Read one declared setting of a table as its declaration says."""
    match setting.kind:
        case Kind.TEXT:
            assert isinstance(default, str)
            value = table.text(key, default)
            if setting.upper:
                value = value.upper()
            if setting.check is not None and (problem := setting.check(value)):
                table.fail(key, problem)
            return value
        case Kind.FLAG:
            assert isinstance(default, bool)
            return table.get(key, bool, default)
        case Kind.WHOLE:
            assert isinstance(default, int) and setting.low is not None and setting.high is not None
            return table.integer(key, default, setting.low, setting.high)
        case Kind.CHOICE:
            assert isinstance(default, str)
            word = table.choice(key, default, setting.choices)
            return type(default)(word) if isinstance(default, Enum) else word
        case Kind.PARSED:
            assert setting.parse is not None
            return table.parsed(key, setting.parse, default, setting.hint)
        case Kind.PATH:
            if default is None:
                folder = table.text(key)
                return _resolve(base, folder) if folder else None
            return _resolve(base, table.text(key, str(default)))
    raise TypeError(f"[{table.name}] {key}: a {setting.kind.value} needs a reader of its own")


def read_section(
    table: Table,
    defaults: S,
    base: Path | None,
    readers: Mapping[str, Callable[[], object]] | None = None,
) -> S:
    """Return ``defaults`` with each declared setting read from the table, in the order declared.

    A table of settings within is read the same way; ``readers`` (by field name) read the
    settings whose value has a shape of its own.
    """
    readers = readers or {}
    values: dict[str, object] = {}
    for found in declared(type(defaults)):
        default = getattr(defaults, found.name)
        if found.name in readers:
            values[found.name] = readers[found.name]()
        elif found.setting.section is not None:
            inner = table.sub(found.key, known_keys(found.setting.section))
            values[found.name] = read_section(inner, default, base)
        else:
            values[found.name] = read_value(table, found.key, found.setting, default, base)
    return replace(defaults, **values)


def _find_secrets(data: Mapping[str, object], prefix: str = "") -> str | None:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            found = _find_secrets(value, name)
            if found:
                return found
        elif _SECRET_KEY.search(key):
            return name
    return None


def parse_config(data: Mapping[str, object], path: Path | None) -> Config:
    """Validate parsed TOML into a Config; ``path`` is used in messages and to resolve relative paths."""
    where = str(path) if path else "built-in defaults"
    base = path.resolve().parent if path else None
    secret = _find_secrets(data)
    if secret:
        raise ConfigError(
            f"{where}: {secret}: secrets do not belong in the config file; remove the key and put the "
            "SMTP password in the CARDSENDER_SMTP_PASSWORD environment variable or the system keyring "
            "(service 'cardsender', your SMTP username)"
        )
    root = Table(data, "", where, known_keys(Config))
    offices = _offices(root)
    database = root.sub("database", known_keys(DatabaseConfig))
    imports = root.sub("import", known_keys(ImportConfig))
    return Config(
        path=path,
        office=offices[0],
        offices=offices,
        database=DatabaseConfig(url=_database_url(database, base)),
        imports=ImportConfig(date_format=_date_format(imports)),
        occasions=_occasions(root, base),
        keep_in_touch=_checked_keep_in_touch(root.sub("keep_in_touch", known_keys(KeepInTouchConfig))),
        email=_email(root.sub("email", known_keys(EmailConfig)), base),
        print=_print(root.sub("print", known_keys(PrintConfig)), base),
        templates=read_section(root.sub("templates", known_keys(TemplatesConfig)), TemplatesConfig(), base),
    )


def _offices(root: Table) -> tuple[OfficeConfig, ...]:
    """Return [office] alone (key "main"), or each [offices.<key>] with [office] as the defaults for all."""
    office_keys = known_keys(OfficeConfig)
    shared = read_section(root.sub("office", office_keys), OfficeConfig(), None)
    tables: dict[str, object] = root.get("offices", dict, {})
    if not tables:
        return (shared,)
    sections = root.sub("offices", set(tables))
    found = []
    for key in tables:
        if not OFFICE_KEY.match(key):
            root.fail(
                f"offices.{key}",
                "an office key is lower-case letters, digits, - and _ (such as 'north' or 'main-street')",
            )
        found.append(read_section(sections.sub(key, office_keys), replace(shared, key=key), None))
    return tuple(found)


def _database_url(table: Table, base: Path | None) -> str:
    url = table.text("url", DatabaseConfig().url)
    if not url:
        return f"sqlite:///{paths.data_dir() / 'cardsender.db'}"
    if "://" not in url:
        table.fail("url", f"{url!r} is not a database URL; use sqlite:///cardsender.db or postgresql://host/db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rest = url.removeprefix("sqlite:///")
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return f"sqlite:///{_resolve(base, rest)}"
    if re.search(r"://[^/@]*:[^/@]*@", url):
        table.fail("url", "contains a password; leave it out and set it in PGPASSWORD or ~/.pgpass instead")
    return url


def _date_format(table: Table) -> str | None:
    value = table.text("date_format")
    if value and value not in DATE_FORMATS:
        table.fail("date_format", f"{value!r} is not one of: {', '.join(DATE_FORMATS)}")
    return value or None


def _occasions(root: Table, base: Path | None) -> OccasionsConfig:
    raw: dict[str, object] = root.get("occasions", dict, {})
    for key in raw:
        if christmas.names_christmas(key):
            raise ConfigError(f"{root.where}: [occasions] {key}: {CHRISTMAS_POLICY}")
    table = root.sub("occasions", known_keys(OccasionsConfig))

    def thanksgiving() -> ThanksgivingConfig:
        thanks = table.sub("thanksgiving", known_keys(ThanksgivingConfig))
        return read_section(thanks, ThanksgivingConfig(), base, {"rules": lambda: _rules(thanks)})

    return read_section(table, OccasionsConfig(), base, {"thanksgiving": thanksgiving})


def _rules(thanks: Table) -> dict[str, WeekdayRule]:
    raw: dict[str, object] = thanks.get("rules", dict, {})
    rules: dict[str, WeekdayRule] = {}
    for country, text in raw.items():
        key = f"rules.{country}"
        if not isinstance(text, str):
            thanks.fail(key, f"expected a rule such as '4th Thursday of November', got {text!r}")
            raise AssertionError  # unreachable: fail() raises
        try:
            rule = parse_weekday_rule(text)
        except ValueError as exc:
            thanks.fail(key, f"{exc}; expected a rule such as '2nd Monday of October'")
            raise AssertionError from exc  # unreachable
        if rule.can_fall_on_christmas():
            thanks.fail(key, f"'{text}' can fall on December 24 to 26; {CHRISTMAS_POLICY}")
        rules[country.upper()] = rule
    return rules


def _checked_keep_in_touch(table: Table) -> KeepInTouchConfig:
    read = read_section(table, KeepInTouchConfig(), None)
    if read.call_after_days >= read.max_gap_days:
        table.fail("call_after_days", f"must be less than max_gap_days ({read.max_gap_days}) so staff can call in time")
    if read.check_in_lead_days >= read.max_gap_days:
        table.fail("check_in_lead_days", f"must be less than max_gap_days ({read.max_gap_days})")
    return read


def _email(table: Table, base: Path | None) -> EmailConfig:
    read = read_section(table, EmailConfig(), base)
    if read.transport == "smtp" and not read.host:
        table.fail("host", 'is required when transport = "smtp"; name your mail server, e.g. smtp.example.com')
    local = read.host in ("localhost", "127.0.0.1", "::1")
    if read.transport == "smtp" and read.security == "none" and not read.allow_insecure and not local:
        table.fail(
            "security",
            '"none" sends mail unencrypted and is allowed only for a server on localhost; '
            'use "starttls" or "tls", or set allow_insecure = true if you really mean it',
        )
    if read.ca_file is not None and not read.ca_file.is_file():
        table.fail("ca_file", f"{read.ca_file} does not exist; give the path of your CA certificate (PEM)")
    if "port" not in table.data:
        read = replace(read, port=DEFAULT_PORTS[read.security])
    return read


def _print(table: Table, base: Path | None) -> PrintConfig:
    return read_section(table, PrintConfig(), base, {"closed_days": lambda: _closed_days(table)})


def _closed_days(table: Table) -> tuple[ClosedDay, ...]:
    hint = 'a list of dates and yearly days, such as ["2026-12-24", "12-31"]'
    values: list[object] = table.get("closed_days", list, [])
    found: list[ClosedDay] = []
    for value in values:
        # TOML reads an unquoted 2026-12-24 as a date: take it as that one day.
        text = value.isoformat() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else value
        if not isinstance(text, str):
            table.fail("closed_days", f"{value!r} is not a day; expected {hint}")
            raise AssertionError  # unreachable: fail() raises
        try:
            found.append(parse_closed_day(text))
        except ValueError as exc:
            table.fail("closed_days", f"{exc}; expected {hint}")
    return tuple(dict.fromkeys(found))

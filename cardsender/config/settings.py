"""Load and validate ``cardsender.toml`` into frozen dataclasses.

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cardsender.domain import christmas
from cardsender.domain.errors import ConfigError
from cardsender.domain.records import DEFAULT_OFFICE, OFFICE_KEY
from cardsender.domain.rules import ClosedDay, WeekdayRule, parse_closed_day, parse_weekday_rule
from cardsender.system import paths

CONFIG_ENV = "CARDSENDER_CONFIG"
CONFIG_FILENAME = "cardsender.toml"
DATE_FORMATS = ("DD/MM/YYYY", "MM/DD/YYYY")
CHANNELS = ("email", "post", "both")
OCCASIONS = ("birthday", "thanksgiving", "april_fools", "thank_you", "check_in")
# Keys that would hold a secret; their values belong in the environment or the keyring.
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api_?key", re.IGNORECASE)
CHRISTMAS_POLICY = (
    f"{christmas.REASON}. Remove it; birthdays, Thanksgiving, thank-yous and check-ins keep customers close instead"
)
# How to save a file as UTF-8 where Windows users meet the question.
SAVE_AS_UTF8 = "save it as UTF-8 (Notepad: File > Save as, Encoding: UTF-8)"


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    """Who sends the cards, from where, and on which clock; ``key`` names the office in the database."""

    key: str = DEFAULT_OFFICE
    name: str = "Our shop"
    sender_name: str = ""
    from_address: str = "cards@example.com"
    reply_to: str = ""
    phone: str = ""
    website: str = ""
    unsubscribe_url: str = ""
    postal_address: str = ""
    signature: str = ""
    timezone: str = "UTC"
    country: str = "US"
    subdivision: str = ""
    language: str = "en"
    send_time: dt.time = dt.time(9, 0)
    start_date: dt.date | None = None

    @property
    def tz(self) -> ZoneInfo:
        """Return the office time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where the store lives."""

    url: str


@dataclass(frozen=True, slots=True)
class TemplatesConfig:
    """Where the office's own card templates are; they override the bundled ones file by file."""

    dir: Path | None = None


@dataclass(frozen=True, slots=True)
class ImportConfig:
    """How import files are read."""

    date_format: str | None = None


@dataclass(frozen=True, slots=True)
class BirthdayConfig:
    """Birthday cards."""

    enabled: bool = True
    feb29: str = "feb28"


@dataclass(frozen=True, slots=True)
class ThanksgivingConfig:
    """Thanksgiving cards; ``rules`` adds countries beyond the built-in US and CA."""

    enabled: bool = True
    rules: Mapping[str, WeekdayRule] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AprilFoolsConfig:
    """April Fool's cards, never for customers who asked for no humour."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ThankYouConfig:
    """Thank-you notes after a purchase."""

    enabled: bool = True
    delay_days: int = 1
    coalesce_days: int = 14


@dataclass(frozen=True, slots=True)
class CheckInConfig:
    """Personal check-ins that keep the 70-day promise."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class OccasionsConfig:
    """Which occasions are sent and how they are spaced."""

    birthday: BirthdayConfig = BirthdayConfig()
    thanksgiving: ThanksgivingConfig = ThanksgivingConfig()
    april_fools: AprilFoolsConfig = AprilFoolsConfig()
    thank_you: ThankYouConfig = ThankYouConfig()
    check_in: CheckInConfig = CheckInConfig()
    min_gap_days: int = 14
    grace_days: int = 3
    # Month and day, inclusive; the window wraps over the new year.
    quiet_start: tuple[int, int] = (12, 20)
    quiet_end: tuple[int, int] = (1, 2)

    def enabled(self, occasion: str) -> bool:
        """Return whether an occasion is switched on."""
        section: Any = getattr(self, occasion)
        return bool(section.enabled)


@dataclass(frozen=True, slots=True)
class KeepInTouchConfig:
    """The keep-in-touch promise."""

    max_gap_days: int = 70
    call_after_days: int = 56
    check_in_lead_days: int = 7


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """How email leaves the office."""

    transport: str = "file"
    outbox_dir: Path = Path("outbox")
    host: str = ""
    port: int = 587
    security: str = "starttls"
    allow_insecure: bool = False
    username: str = ""
    ca_file: Path | None = None
    rate_per_minute: int = 30
    rate_per_day: int = 500
    # Planned email cards wait, held, until staff approve them.
    require_approval: bool = False


@dataclass(frozen=True, slots=True)
class PrintConfig:
    """Printed cards."""

    paper: str = "letter"
    card_format: str = "quarter-letter"
    postal_lead_days: int = 7
    # The envelope for --envelopes; empty: the one that fits the card format.
    envelope: str = ""
    # Days the office mails nothing beyond weekends and public holidays: one date, or a day every year.
    closed_days: tuple[ClosedDay, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The whole, validated configuration."""

    path: Path | None
    office: OfficeConfig
    database: DatabaseConfig
    imports: ImportConfig = ImportConfig()
    occasions: OccasionsConfig = OccasionsConfig()
    keep_in_touch: KeepInTouchConfig = KeepInTouchConfig()
    email: EmailConfig = EmailConfig()
    print: PrintConfig = PrintConfig()
    templates: TemplatesConfig = TemplatesConfig()
    # Every office this config serves, ``office`` among them; commands act on ``office`` (--office chooses).
    offices: tuple[OfficeConfig, ...] = ()

    def served(self) -> tuple[OfficeConfig, ...]:
        """Return the offices this config serves, in the order written."""
        return self.offices or (self.office,)

    def office_keys(self) -> tuple[str, ...]:
        """Return the keys of the offices served."""
        return tuple(office.key for office in self.served())

    def for_office(self, key: str) -> Config:
        """Return this config acting for one of its offices; raise ConfigError naming the offices if unknown."""
        for office in self.served():
            if office.key == key:
                return replace(self, office=office)
        raise ConfigError(
            f"{self.path or 'the config'}: no office '{key}'; this config serves: {', '.join(self.office_keys())}"
        )


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


T = TypeVar("T")


class _Section:
    """Typed reads from one TOML table, with errors that name file and key."""

    def __init__(self, data: Mapping[str, Any], name: str, where: str, known: set[str]) -> None:
        self.data = data
        self.name = name
        self.where = where
        unknown = sorted(set(data) - known)
        if unknown:
            self.fail(unknown[0], f"unknown key; known keys are: {', '.join(sorted(known))}")

    def fail(self, key: str, why: str) -> None:
        label = f"[{self.name}] {key}" if self.name else key
        raise ConfigError(f"{self.where}: {label}: {why}")

    def get(self, key: str, kind: type[T], default: T) -> T:
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"expected {_kind_name(kind)}, got {value!r}")
        return value  # type: ignore[no-any-return]

    def text(self, key: str, default: str = "") -> str:
        return self.get(key, str, default).strip()

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key, int, default)
        if not low <= value <= high:
            self.fail(key, f"{value} is out of range; use a whole number from {low} to {high}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, bool, default)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def sub(self, key: str, known: set[str]) -> _Section:
        value = self.get(key, dict, {})
        name = f"{self.name}.{key}" if self.name else key
        return _Section(value, name, self.where, known)

    def parsed(self, key: str, parse: Callable[[str], T], default: T, hint: str) -> T:
        if key not in self.data:
            return default
        raw = self.data[key]
        if isinstance(raw, (dt.date, dt.time)) and not isinstance(raw, dt.datetime):
            raw = raw.isoformat()
        if not isinstance(raw, str):
            self.fail(key, f"expected {hint}, got {raw!r}")
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


def _find_secrets(data: Mapping[str, Any], prefix: str = "") -> str | None:
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            found = _find_secrets(value, name)
            if found:
                return found
        elif _SECRET_KEY.search(key):
            return name
    return None


def _parse_send_time(text: str) -> dt.time:
    value = dt.time.fromisoformat(text)
    # Clocks change between 01:00 and 04:00 in most time zones: a daily job then is skipped or run twice.
    if 1 <= value.hour <= 3:
        raise ValueError("times from 01:00 to 03:59 are skipped or repeated when clocks change")
    return value


def _parse_month_day(text: str) -> tuple[int, int]:
    month, day = (int(part) for part in text.split("-"))
    dt.date(2000, month, day)  # validates, leap year allows 02-29
    return month, day


def _parse_timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return text


def _resolve(base: Path | None, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def _database_url(section: _Section, base: Path | None) -> str:
    url = section.text("url", "")
    if not url:
        return f"sqlite:///{paths.data_dir() / 'cardsender.db'}"
    if "://" not in url:
        section.fail("url", f"{url!r} is not a database URL; use sqlite:///cardsender.db or postgresql://host/db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rest = url.removeprefix("sqlite:///")
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return f"sqlite:///{_resolve(base, rest)}"
    if re.search(r"://[^/@]*:[^/@]*@", url):
        section.fail("url", "contains a password; leave it out and set it in PGPASSWORD or ~/.pgpass instead")
    return url


def parse_config(data: Mapping[str, Any], path: Path | None) -> Config:
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
    root = _Section(
        data,
        "",
        where,
        {"office", "offices", "database", "import", "occasions", "keep_in_touch", "email", "print", "templates"},
    )
    offices = _offices(root)
    return Config(
        path=path,
        office=offices[0],
        offices=offices,
        database=DatabaseConfig(url=_database_url(root.sub("database", {"url"}), base)),
        imports=_imports(root.sub("import", {"date_format"})),
        occasions=_occasions(root, where),
        keep_in_touch=_keep_in_touch(root.sub("keep_in_touch", set(KeepInTouchConfig.__slots__))),
        email=_email(root.sub("email", set(EmailConfig.__slots__)), base),
        print=_print(root.sub("print", set(PrintConfig.__slots__))),
        templates=_templates(root.sub("templates", set(TemplatesConfig.__slots__)), base),
    )


def _offices(root: _Section) -> tuple[OfficeConfig, ...]:
    """Return [office] alone (key "main"), or each [offices.<key>] with [office] as the defaults for all."""
    office_keys = set(OfficeConfig.__slots__) - {"key"}
    shared = _office(root.sub("office", office_keys), OfficeConfig())
    tables = root.get("offices", dict, {})
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
        found.append(_office(sections.sub(key, office_keys), replace(shared, key=key)))
    return tuple(found)


def _office(s: _Section, d: OfficeConfig) -> OfficeConfig:
    return OfficeConfig(
        key=d.key,
        name=s.text("name", d.name),
        sender_name=s.text("sender_name", d.sender_name),
        from_address=s.text("from_address", d.from_address),
        reply_to=s.text("reply_to", d.reply_to),
        phone=s.text("phone", d.phone),
        website=s.text("website", d.website),
        unsubscribe_url=_https_url(s, "unsubscribe_url", d.unsubscribe_url),
        postal_address=s.text("postal_address", d.postal_address),
        signature=_signature(s, d.signature),
        timezone=s.parsed("timezone", _parse_timezone, d.timezone, "an IANA name such as 'America/Toronto'"),
        country=s.text("country", d.country).upper(),
        subdivision=s.text("subdivision", d.subdivision).upper(),
        language=s.text("language", d.language),
        send_time=s.parsed("send_time", _parse_send_time, d.send_time, "a time such as '09:00'"),
        start_date=s.parsed("start_date", dt.date.fromisoformat, d.start_date, "a date such as 2026-11-22"),
    )


def _signature(s: _Section, default: str) -> str:
    """Return the office's signature, which goes on every card: no Christmas wording, as in the templates.

    The office's name and the sender's are names, like a customer's, and are not searched:
    Noel's Bakery and a sender called Merry are who they are.
    """
    value = s.text("signature", default)
    found = christmas.find(value)
    if found:
        s.fail("signature", f"{christmas.wording(found)}; take the words out of the signature")
    return value


def _https_url(s: _Section, key: str, default: str = "") -> str:
    value = s.text(key, default)
    if value and not value.startswith("https://"):
        s.fail(key, f"{value!r} must start with https:// (mail providers ignore other links)")
    return value


def _templates(s: _Section, base: Path | None) -> TemplatesConfig:
    folder = s.text("dir")
    return TemplatesConfig(dir=_resolve(base, folder) if folder else None)


def _imports(s: _Section) -> ImportConfig:
    value = s.text("date_format")
    if value and value not in DATE_FORMATS:
        s.fail("date_format", f"{value!r} is not one of: {', '.join(DATE_FORMATS)}")
    return ImportConfig(date_format=value or None)


def _occasions(root: _Section, where: str) -> OccasionsConfig:
    raw = root.get("occasions", dict, {})
    for key in raw:
        if christmas.names_christmas(key):
            raise ConfigError(f"{where}: [occasions] {key}: {CHRISTMAS_POLICY}")
    known = {*OCCASIONS, "min_gap_days", "grace_days", "quiet_start", "quiet_end"}
    s = root.sub("occasions", known)
    d = OccasionsConfig()
    birthday = s.sub("birthday", {"enabled", "feb29"})
    thanks = s.sub("thanksgiving", {"enabled", "rules"})
    thank_you = s.sub("thank_you", {"enabled", "delay_days", "coalesce_days"})
    return OccasionsConfig(
        birthday=BirthdayConfig(
            enabled=birthday.flag("enabled", True), feb29=birthday.choice("feb29", "feb28", ("feb28", "mar1"))
        ),
        thanksgiving=ThanksgivingConfig(enabled=thanks.flag("enabled", True), rules=_rules(thanks)),
        april_fools=AprilFoolsConfig(enabled=s.sub("april_fools", {"enabled"}).flag("enabled", True)),
        thank_you=ThankYouConfig(
            enabled=thank_you.flag("enabled", True),
            delay_days=thank_you.integer("delay_days", 1, 0, 60),
            coalesce_days=thank_you.integer("coalesce_days", 14, 0, 365),
        ),
        check_in=CheckInConfig(enabled=s.sub("check_in", {"enabled"}).flag("enabled", True)),
        min_gap_days=s.integer("min_gap_days", d.min_gap_days, 0, 60),
        grace_days=s.integer("grace_days", d.grace_days, 0, 30),
        quiet_start=s.parsed("quiet_start", _parse_month_day, d.quiet_start, "a month and day such as '12-20'"),
        quiet_end=s.parsed("quiet_end", _parse_month_day, d.quiet_end, "a month and day such as '01-02'"),
    )


def _rules(thanks: _Section) -> dict[str, WeekdayRule]:
    raw = thanks.get("rules", dict, {})
    rules: dict[str, WeekdayRule] = {}
    for country, text in raw.items():
        key = f"rules.{country}"
        if not isinstance(text, str):
            thanks.fail(key, f"expected a rule such as '4th Thursday of November', got {text!r}")
        try:
            rule = parse_weekday_rule(text)
        except ValueError as exc:
            thanks.fail(key, f"{exc}; expected a rule such as '2nd Monday of October'")
            raise AssertionError from exc  # unreachable
        if rule.can_fall_on_christmas():
            thanks.fail(key, f"'{text}' can fall on December 24 to 26; {CHRISTMAS_POLICY}")
        rules[country.upper()] = rule
    return rules


def _keep_in_touch(s: _Section) -> KeepInTouchConfig:
    max_gap = s.integer("max_gap_days", 70, 14, 365)
    call_after = s.integer("call_after_days", 56, 1, 365)
    lead = s.integer("check_in_lead_days", 7, 0, 60)
    if call_after >= max_gap:
        s.fail("call_after_days", f"must be less than max_gap_days ({max_gap}) so staff can call in time")
    if lead >= max_gap:
        s.fail("check_in_lead_days", f"must be less than max_gap_days ({max_gap})")
    return KeepInTouchConfig(max_gap_days=max_gap, call_after_days=call_after, check_in_lead_days=lead)


def _email(s: _Section, base: Path | None) -> EmailConfig:
    transport = s.choice("transport", "file", ("file", "smtp"))
    host = s.text("host")
    if transport == "smtp" and not host:
        s.fail("host", 'is required when transport = "smtp"; name your mail server, e.g. smtp.example.com')
    security = s.choice("security", "starttls", ("starttls", "tls", "none"))
    allow_insecure = s.flag("allow_insecure", False)
    local = host in ("localhost", "127.0.0.1", "::1")
    if transport == "smtp" and security == "none" and not allow_insecure and not local:
        s.fail(
            "security",
            '"none" sends mail unencrypted and is allowed only for a server on localhost; '
            'use "starttls" or "tls", or set allow_insecure = true if you really mean it',
        )
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    ca_file = s.text("ca_file")
    ca_path = _resolve(base, ca_file) if ca_file else None
    if ca_path is not None and not ca_path.is_file():
        s.fail("ca_file", f"{ca_path} does not exist; give the path of your CA certificate (PEM)")
    return EmailConfig(
        transport=transport,
        outbox_dir=_resolve(base, s.text("outbox_dir", "outbox")),
        host=host,
        port=s.integer("port", default_port, 1, 65535),
        security=security,
        allow_insecure=allow_insecure,
        username=s.text("username"),
        ca_file=ca_path,
        rate_per_minute=s.integer("rate_per_minute", 30, 1, 60_000),
        rate_per_day=s.integer("rate_per_day", 500, 1, 1_000_000),
        require_approval=s.flag("require_approval", False),
    )


def _print(s: _Section) -> PrintConfig:
    return PrintConfig(
        paper=s.choice("paper", "letter", ("letter", "a4")),
        card_format=s.choice(
            "card_format", "quarter-letter", ("quarter-letter", "quarter-a4", "half-duplex", "postcard")
        ),
        postal_lead_days=s.integer("postal_lead_days", 7, 0, 30),
        envelope=s.choice("envelope", "", ("", "A2", "A7", "C6", "DL", "#10")),
        closed_days=_closed_days(s),
    )


def _closed_days(s: _Section) -> tuple[ClosedDay, ...]:
    hint = 'a list of dates and yearly days, such as ["2026-12-24", "12-31"]'
    values = s.get("closed_days", list, [])
    found: list[ClosedDay] = []
    for value in values:
        # TOML reads an unquoted 2026-12-24 as a date: take it as that one day.
        text = value.isoformat() if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else value
        if not isinstance(text, str):
            s.fail("closed_days", f"{value!r} is not a day; expected {hint}")
        try:
            found.append(parse_closed_day(text))
        except ValueError as exc:
            s.fail("closed_days", f"{exc}; expected {hint}")
    return tuple(dict.fromkeys(found))


PASSWORD_VARIABLE = "CARDSENDER_SMTP_PASSWORD"  # noqa: S105 (the name of the variable, not a password)
KEYRING_SERVICE = "cardsender"


def smtp_password(email: EmailConfig, environ: Mapping[str, str]) -> str:
    """Return the SMTP password: ``$CARDSENDER_SMTP_PASSWORD``, else the system keyring, never the config file.

    The keyring is asked only when the optional ``keyring`` package is installed
    (``pip install 'cardsender[keyring]'``); a missing password is an error that
    says where to put it, never an interactive prompt that would hang the service.
    """
    if environ.get(PASSWORD_VARIABLE):
        return environ[PASSWORD_VARIABLE]
    how = f"set the {PASSWORD_VARIABLE} environment variable"
    try:
        import keyring
    except ImportError:
        raise ConfigError(
            f"no SMTP password for {email.username or 'the mail server'}: {how}, or install cardsender[keyring] "
            f"and store it with 'keyring set {KEYRING_SERVICE} {email.username or 'USERNAME'}'"
        ) from None
    try:
        found = keyring.get_password(KEYRING_SERVICE, email.username)
    except Exception as exc:  # any keyring backend error: the message says what to do instead
        raise ConfigError(f"the system keyring cannot be read ({exc}); {how}") from exc
    if not found:
        raise ConfigError(
            f"no SMTP password for {email.username!r} in the system keyring (service {KEYRING_SERVICE!r}); "
            f"store it with 'keyring set {KEYRING_SERVICE} {email.username}', or {how}"
        )
    return str(found)

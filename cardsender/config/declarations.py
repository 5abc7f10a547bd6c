"""Declare a setting once, on its dataclass field: its kind, default, range, choices and a one-line description.

The loader walks these declarations to read and check the file, and the example
config's test walks them to prove every key is documented, so a setting's
default or range is written in one place only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

# The key of a field's metadata that holds its Setting.
SETTING = "cardsender.setting"


class Kind(Enum):
    """How a setting's value is written in the file and read from it."""

    TEXT = "a string in quotes"
    FLAG = "true or false"
    WHOLE = "a whole number"
    CHOICE = "one of a few words"
    PARSED = "text read by a parser"
    PATH = "a path, relative to the config file"
    SECTION = "a table of settings"
    # Read by a function of the loader that knows the value's shape (a table of rules, a list of days).
    SPECIAL = "a value with its own reader"


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of the config file: how it is read, what it may hold, and what it means."""

    kind: Kind
    doc: str
    # The TOML key, when it differs from the field's name ([import] is held in ``imports``).
    key: str | None = None
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    # Turns a string value into the field's value; raises ValueError saying what is wrong.
    parse: Callable[[str], object] | None = None
    # What a valid value looks like, for messages: "a time such as '09:00'".
    hint: str = ""
    # Says what a problem with a valid-looking text is, or None: the Christmas check, https-only links.
    check: Callable[[str], str | None] | None = None
    # Text is stored upper-case (country and subdivision codes).
    upper: bool = False
    # How the default is worked out when the field's own default is not the one used.
    computed: str = ""
    # The dataclass of a table of settings.
    section: type | None = None


def _declare(default: T, setting: Setting) -> T:
    """Return a dataclass field with a default and its setting (typed as the default, for mypy's dataclass view)."""
    if isinstance(default, (dict, list)):
        factory = type(default)
        return dataclasses.field(default_factory=factory, metadata={SETTING: setting})
    return dataclasses.field(default=default, metadata={SETTING: setting})


def text(
    default: str = "",
    *,
    doc: str,
    check: Callable[[str], str | None] | None = None,
    upper: bool = False,
) -> str:
    """Declare a string setting, stored stripped."""
    return _declare(default, Setting(Kind.TEXT, doc, check=check, upper=upper))


def flag(default: bool, *, doc: str) -> bool:
    """Declare a true-or-false setting."""
    return _declare(default, Setting(Kind.FLAG, doc))


def whole(default: int, low: int, high: int, *, doc: str, computed: str = "") -> int:
    """Declare a whole-number setting from ``low`` to ``high``."""
    return _declare(default, Setting(Kind.WHOLE, doc, low=low, high=high, computed=computed))


def choice(default: E, *, doc: str) -> E:
    """Declare a setting that is one of the values of the default's enum."""
    return _declare(default, Setting(Kind.CHOICE, doc, choices=tuple(type(default))))


def word(default: str, choices: tuple[str, ...], *, doc: str) -> str:
    """Declare a setting that is one of a few words, for a vocabulary that has no enum."""
    return _declare(default, Setting(Kind.CHOICE, doc, choices=choices))


def parsed(default: T, parse: Callable[[str], T], hint: str, *, doc: str) -> T:
    """Declare a setting written as text and read by ``parse`` (dates and TOML dates are read the same)."""
    return _declare(default, Setting(Kind.PARSED, doc, parse=parse, hint=hint))


def path(default: T, *, doc: str) -> T:
    """Declare a path setting, resolved against the config file's folder; empty means the default."""
    return _declare(default, Setting(Kind.PATH, doc))


def special(default: T, *, doc: str, computed: str = "") -> T:
    """Declare a setting whose value has a shape of its own; the loader reads it by its key."""
    return _declare(default, Setting(Kind.SPECIAL, doc, computed=computed))


def section(kind: type[T], *, doc: str, key: str | None = None, required: bool = False) -> T:
    """Declare a table of settings held in the dataclass ``kind``; ``required``: the loader always gives it."""
    setting = Setting(Kind.SECTION, doc, key=key, section=kind)
    if required:
        return dataclasses.field(metadata={SETTING: setting})  # type: ignore[no-any-return]
    return dataclasses.field(default_factory=kind, metadata={SETTING: setting})


@dataclass(frozen=True, slots=True)
class Declared:
    """A declared field of a section: its TOML key, its field's name, and its setting."""

    key: str
    name: str
    setting: Setting


def declared(section_type: type) -> Iterator[Declared]:
    """Yield the settings of a section in the order they are declared; other fields are not keys of the file."""
    for found in dataclasses.fields(section_type):
        setting = found.metadata.get(SETTING)
        if isinstance(setting, Setting):
            yield Declared(setting.key or found.name, found.name, setting)


def declared_keys(section_type: type, prefix: str = "") -> Iterator[str]:
    """Yield the dotted key of every setting of a section and the sections in it ("occasions.birthday.feb29")."""
    for found in declared(section_type):
        key = f"{prefix}{found.key}"
        if found.setting.section is not None:
            yield from declared_keys(found.setting.section, f"{key}.")
        else:
            yield key


def parse_send_time(text: str) -> dt.time:
    """Return the daily send time, refusing the hours that clock changes skip or repeat."""
    value = dt.time.fromisoformat(text)
    # Clocks change between 01:00 and 04:00 in most time zones: a daily job then is skipped or run twice.
    if 1 <= value.hour <= 3:
        raise ValueError("times from 01:00 to 03:59 are skipped or repeated when clocks change")
    return value


def parse_month_day(text: str) -> tuple[int, int]:
    """Return (month, day) from ``MM-DD``."""
    month, day = (int(part) for part in text.split("-"))
    dt.date(2000, month, day)  # validates, leap year allows 02-29
    return month, day


def parse_timezone(text: str) -> str:
    """Return an IANA time zone name that this machine knows."""
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return text

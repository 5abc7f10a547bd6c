"""Parse and validate customer fields, as typed in a spreadsheet or on the command line.

The CSV and vCard importers and ``customers edit`` share these rules, so a value
is accepted or refused the same way wherever it comes from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from cardsender.domain.errors import InputError
from cardsender.domain.records import CHANNELS, OFFICE_KEY, Birthday
from cardsender.domain.vocabulary import ChannelPreference
from cardsender.store.customers import CustomerFields

# The customer fields, in the order a customers file lists them: those of the typed record.
FIELDS = tuple(CustomerFields.__annotations__)
_ALIASES = {
    "id": ("customerid", "customernumber", "customerno", "uid"),
    "first_name": ("givenname", "forename"),
    "last_name": ("familyname", "surname"),
    "email": ("emailaddress", "mail", "email1", "primaryemail"),
    "birthday": ("dateofbirth", "dob", "birthdate"),
    "subdivision": ("state", "province", "region", "county"),
    "street": ("address", "streetaddress", "address1", "addressline1"),
    "city": ("town",),
    "postal_code": ("zip", "zipcode", "postcode", "postalcode"),
    "channel": ("preferredchannel",),
    "language": ("lang", "locale"),
    "owner": ("staffowner", "accountmanager", "staff"),
    "customer_since": ("since", "customersince", "firstpurchase"),
    "notes": ("note", "comments"),
    "office": ("branch", "location"),
}
_HEADER_NAMES = {name.replace("_", ""): name for name in FIELDS} | {
    alias: name for name, aliases in _ALIASES.items() for alias in aliases
}
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}
# Names people write that the ISO 3166 list (pycountry) does not hold.
_COUNTRY_NAMES = {
    "usa": "US",
    "us": "US",
    "america": "US",
    "uk": "GB",
    "greatbritain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northernireland": "GB",
    "deutschland": "DE",
    "russia": "RU",
    "turkey": "TR",
    "ivorycoast": "CI",
    "holland": "NL",
    "southkorea": "KR",
    "northkorea": "KP",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "vatican": "VA",
    "macedonia": "MK",
    "moldova": "MD",
    "tanzania": "TZ",
    "venezuela": "VE",
    "bolivia": "BO",
    "taiwan": "TW",
    "palestine": "PS",
}
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}|\d{3}))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASH_DATE = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
MAX_TEXT = 2000


def canonical_header(name: str) -> str | None:
    """Return the canonical column for a header ("E-mail Address" -> "email"), or None."""
    key = re.sub(r"[\s\-_.]", "", name.strip().lstrip("\ufeff")).lower()
    return _HEADER_NAMES.get(key)


def parse_bool(text: str, field: str) -> bool:
    """Parse true/false/yes/no/1/0/x/blank."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{field} '{text}' is not a yes/no value (use true, false, yes, no, 1, 0, x or leave it blank)")


def _slash_parts(first: int, second: int, date_format: str | None, field: str, text: str) -> tuple[int, int]:
    """Return (month, day) for a DD/MM or MM/DD date, refusing to guess an ambiguous one."""
    if date_format == "DD/MM/YYYY":
        return second, first
    if date_format == "MM/DD/YYYY":
        return first, second
    if first > 12 >= second:
        return second, first
    if second > 12 >= first:
        return first, second
    if first == second:
        return first, second
    raise InputError(
        f"{field} '{text}' is ambiguous (day/month or month/day?); set [import] date_format in the config "
        "or pass --date-format DD/MM/YYYY or MM/DD/YYYY, or write it as YYYY-MM-DD"
    )


def _date_hint(date_format: str | None) -> str:
    slash = date_format or "DD/MM/YYYY or MM/DD/YYYY"
    return f"expected YYYY-MM-DD, --MM-DD or {slash}"


def parse_birthday(text: str, date_format: str | None = None, field: str = "birthday") -> Birthday:
    """Parse a birthday with or without a year."""
    value = text.strip()
    year: int | None
    if m := _ISO_DATE.match(value) or _COMPACT.match(value):
        year, month, day = (int(g) for g in m.groups())
    elif m := _NO_YEAR.match(value):
        year, (month, day) = None, (int(g) for g in m.groups())
    elif m := _SLASH_DATE.match(value):
        first, second, year = (int(g) for g in m.groups())
        month, day = _slash_parts(first, second, date_format, field, text)
    else:
        raise InputError(f"{field} '{text}' is not a date ({_date_hint(date_format)})")
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year, so --02-29 is accepted
    except ValueError:
        raise InputError(f"{field} '{text}' is not a date ({_date_hint(date_format)})") from None
    if year is not None and not 1880 <= year <= 2100:
        raise InputError(f"{field} '{text}' has an unlikely year; check it, or leave the year out (--MM-DD)")
    return Birthday(month, day, year)


def parse_date(text: str, date_format: str | None = None, field: str = "date") -> dt.date:
    """Parse a full date: YYYY-MM-DD, or a slash date in the configured order."""
    birthday = parse_birthday(text, date_format, field)
    if birthday.year is None:
        raise InputError(f"{field} '{text}' needs a year ({_date_hint(date_format)})")
    return dt.date(birthday.year, birthday.month, birthday.day)


def parse_email(text: str, field: str = "email") -> str | None:
    """Check an address's syntax, without any network look-up; blank means none."""
    value = text.strip()
    if not value:
        return None
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"{field} '{text}' is not a valid address: {exc}") from None
    return str(result.normalized)


def parse_country(text: str, field: str = "country") -> str:
    """Return an ISO 3166 two-letter code from a code or a country's name ("Vietnam", "Viet Nam", "UK")."""
    value = text.strip()
    if not value:
        return ""
    if len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return _country_code(value, field)


@lru_cache(maxsize=1024)
def _country_code(name: str, field: str) -> str:
    key = re.sub(r"[\s.]", "", name).lower()
    if key in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[key]
    import pycountry  # loaded only when a file names a country in words

    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        raise InputError(
            f"{field} '{name}' is not a country name or two-letter code; write the code (such as US, CA, FR)"
        ) from None


def parse_channel(text: str, field: str = "channel") -> ChannelPreference:
    """Return email, post or both."""
    value = text.strip().lower()
    value = {"mail": "post", "postal": "post", "letter": "post", "e-mail": "email"}.get(value, value)
    if value not in CHANNELS:
        raise InputError(f"{field} '{text}' is not one of: {', '.join(CHANNELS)}")
    return ChannelPreference(value)


def parse_language(text: str, field: str = "language") -> str:
    """Return a language tag such as ``en`` or ``fr-CA``."""
    value = text.strip()
    if not value:
        return ""
    m = _LANGUAGE.match(value)
    if not m:
        raise InputError(f"{field} '{text}' is not a language code (such as en, fr or fr-CA)")
    lang, region = m.groups()
    return f"{lang.lower()}-{region.upper()}" if region else lang.lower()


def parse_text(text: str, field: str) -> str:
    """Return trimmed free text, refusing control characters and absurd lengths."""
    value = text.strip()
    if len(value) > MAX_TEXT:
        raise InputError(f"{field} is {len(value)} characters long; keep it under {MAX_TEXT}")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise InputError(f"{field} contains control characters; remove them")
    return value


def parse_office(text: str, field: str = "office") -> str:
    """Return an office key such as ``main`` or ``north`` (case is ignored); blank means not given."""
    value = text.strip().lower()
    if value and not OFFICE_KEY.match(value):
        raise InputError(
            f"{field} '{text.strip()[:40]}' is not an office key (lower-case letters, digits, - and _, "
            "as in the config's [offices.<key>])"
        )
    return value


def parse_id(text: str, field: str = "id") -> str:
    """Return a customer id: required, one line."""
    value = text.strip()
    if not value:
        whose = "customer needs an id" if field == "id" else f"row needs the {field} it is about"
        raise InputError(f"{field} is missing; every {whose}")
    if len(value) > 200 or any(ord(ch) < 32 for ch in value):
        raise InputError(f"{field} '{value[:40]}' is not a usable id (one line, at most 200 characters)")
    return value


def parse_customer_fields(raw: Mapping[str, str], date_format: str | None = None) -> CustomerFields:
    """Validate canonical fields given as text; return typed values for the store.

    Only the fields present in ``raw`` are returned, so a file without a column
    leaves that column of existing customers unchanged.  A blank birthday,
    customer_since or email is None (none known); a blank channel is None (the
    writer chooses one).
    """
    fields: CustomerFields = {}
    for name, text in raw.items():
        match name:
            case "first_name" | "last_name" | "street" | "city" | "postal_code" | "owner" | "notes":
                fields[name] = parse_text(text, name)
            case "id":
                fields["id"] = parse_id(text)
            case "email":
                fields["email"] = parse_email(text)
            case "birthday":
                fields["birthday"] = parse_birthday(text, date_format) if text.strip() else None
            case "customer_since":
                fields["customer_since"] = parse_date(text, date_format, name) if text.strip() else None
            case "country":
                fields["country"] = parse_country(text)
            case "subdivision":
                fields["subdivision"] = parse_text(text, name).upper()
            case "channel":
                fields["channel"] = parse_channel(text) if text.strip() else None
            case "language":
                fields["language"] = parse_language(text)
            case "office":
                fields["office"] = parse_office(text)
            case "no_email" | "no_post" | "no_humor" | "do_not_contact":
                fields[name] = parse_bool(text, name)
            case _:
                raise ValueError(f"not a customer field: {name}")
    return fields


def default_channel(fields: CustomerFields) -> ChannelPreference:
    """Choose a channel when none is given: email if there is an address, else post if there is a street."""
    if fields.get("email"):
        return ChannelPreference.EMAIL
    if fields.get("street"):
        return ChannelPreference.POST
    return ChannelPreference.EMAIL

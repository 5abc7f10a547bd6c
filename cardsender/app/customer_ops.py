"""Operations on one customer or all of them: list, show, edit, log a contact, opt out, export, forget.

Every function takes the open Store, and ``today`` or ``now`` when it needs them:
the library never reads the clock.  Times of contact events are office-local;
``now`` (when a row was written) is UTC, as the store keeps it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from cardsender import __version__
from cardsender.cards.context import years_as_customer
from cardsender.domain.errors import InputError
from cardsender.domain.records import DEFAULT_OFFICE, EVENT_KINDS, OPT_FLAGS, ContactEvent, Customer
from cardsender.importers.fields import FIELDS, canonical_header, parse_customer_fields, parse_text
from cardsender.store import Store, traces
from cardsender.store import customers as queries

# Fields that ``edit`` may change; the id links a customer to the import file and stays.
EDITABLE_FIELDS = tuple(name for name in FIELDS if name != "id")
_EVENT_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?$")


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """A customer with their last contact (the latest event that reached them) as of a day."""

    customer: Customer
    last_contact: dt.date | None
    days_since: int | None


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    """A customer, their last contact, their whole contact history (oldest first) and years as a customer."""

    summary: CustomerSummary
    history: tuple[ContactEvent, ...]
    years_as_customer: int


@dataclass(frozen=True, slots=True)
class EditResult:
    """A customer after an edit, and the fields whose value changed."""

    customer: Customer
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LoggedContact:
    """A contact event recorded from the command line; ``added`` is False when it was already there."""

    customer: Customer
    event: ContactEvent
    added: bool


@dataclass(frozen=True, slots=True)
class OptResult:
    """A customer after opting out or in, and the flags that changed."""

    customer: Customer
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Printout:
    """A print batch that held a forgotten customer's card: the files it was written to that still exist.

    ``files_unknown`` is True for a batch printed before cardsender recorded where its files went.
    """

    batch: str
    files: tuple[Path, ...]
    other_cards: int
    posted: bool
    files_unknown: bool = False


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """A deleted customer, what was deleted with them, and what is left for a person to deal with.

    ``files_left`` names each email file about the customer that is still there, and why;
    ``printouts`` the print batches that held their card (the owner's printouts are never deleted).
    """

    customer: Customer
    events_removed: int
    files_removed: tuple[Path, ...] = ()
    files_left: tuple[tuple[Path, str], ...] = ()
    printouts: tuple[Printout, ...] = ()


def summarize(customer: Customer, last_touch: dt.datetime | None, today: dt.date) -> CustomerSummary:
    """Return a customer's summary from the time of their last touch."""
    if last_touch is None:
        return CustomerSummary(customer, None, None)
    last = last_touch.date()
    return CustomerSummary(customer, last, (today - last).days)


def list_customers(store: Store, today: dt.date) -> list[CustomerSummary]:
    """Return every customer, ordered by name, with their last contact as of ``today``."""
    with store.begin() as conn:
        return [summarize(c, last, today) for c, last in queries.iter_customers_with_last_touch(conn)]


def show_customer(store: Store, customer_id: str, today: dt.date) -> CustomerDetail:
    """Return one customer with their last contact and history, or raise NotFoundError."""
    with store.begin() as conn:
        customer = queries.get_customer(conn, customer_id)
        history = tuple(queries.events_of(conn, customer_id))
    touches = [event.occurred_at for event in history if event.is_touch]
    first = min(touches).date() if touches else None
    return CustomerDetail(
        summarize(customer, max(touches, default=None), today), history, years_as_customer(customer, first, today)
    )


def display_names(store: Store, customer_ids: Iterable[str]) -> dict[str, str]:
    """Return the name to show people for each customer id given that exists."""
    with store.begin() as conn:
        return queries.display_names(conn, customer_ids)


def parse_assignments(assignments: Iterable[str]) -> dict[str, str]:
    """Parse ``FIELD=VALUE`` texts into canonical field names and raw values."""
    raw: dict[str, str] = {}
    for text in assignments:
        name, equals, value = text.partition("=")
        if not equals:
            raise InputError(f"'{text}' is not FIELD=VALUE; write for example --set email=ana@example.com")
        field = canonical_header(name)
        if field == "id":
            raise InputError(
                "the id cannot be changed: it is how import files and the contact history find the customer; "
                "change the other fields"
            )
        if field is None:
            raise InputError(f"'{name.strip()}' is not a customer field; fields are: {', '.join(EDITABLE_FIELDS)}")
        if field in raw:
            raise InputError(f"{field} is set twice; give each field once")
        raw[field] = value
    if not raw:
        raise InputError("nothing to change; give at least one --set FIELD=VALUE")
    return raw


def edit_customer(
    store: Store,
    customer_id: str,
    assignments: Iterable[str],
    *,
    now: dt.datetime,
    date_format: str | None = None,
    offices: Collection[str] = (DEFAULT_OFFICE,),
) -> EditResult:
    """Change fields of one customer, validated exactly as an import row is (the office one of ``offices``)."""
    values = parse_customer_fields(parse_assignments(assignments), date_format)
    if "channel" in values and values["channel"] is None:
        raise InputError("channel cannot be empty; use email, post or both")
    if "office" in values and values["office"] not in offices:
        given = f"office '{values['office']}' is not one" if values["office"] else "office cannot be empty; use one"
        raise InputError(f"{given} this config serves ({', '.join(offices)})")
    if problem := queries.overlong_column(queries.columns_from_fields(values)):
        raise InputError(problem)
    with store.begin() as conn:
        before = queries.get_customer(conn, customer_id)
        queries.update_customer(conn, customer_id, values, now)
        after = queries.get_customer(conn, customer_id)
    return EditResult(after, _changed_fields(before, after, values))


def _changed_fields(before: Customer, after: Customer, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(before, name) != getattr(after, name))


def parse_event_time(text: str) -> dt.datetime:
    """Parse ``YYYY-MM-DD`` (midnight) or ``YYYY-MM-DDTHH:MM`` as an office-local time."""
    match = _EVENT_TIME.match(text.strip())
    try:
        if match is None:
            raise ValueError
        day, time = match.groups()
        return dt.datetime.fromisoformat(f"{day}T{time or '00:00'}")
    except ValueError:
        raise InputError(f"'{text}' is not a date or time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def log_contact(
    store: Store,
    customer_id: str,
    kind: str,
    *,
    occurred_at: dt.datetime,
    office_now: dt.datetime,
    now: dt.datetime,
    summary: str = "",
) -> LoggedContact:
    """Record a contact made outside cardsender (source ``cli``); a future time is refused."""
    if kind not in EVENT_KINDS:
        raise InputError(f"'{kind}' is not a kind of contact; use one of: {', '.join(EVENT_KINDS)}")
    if occurred_at > office_now:
        raise InputError(
            f"{_format_time(occurred_at)} is in the future (it is {_format_time(office_now)} at the office); "
            "log a contact once it has happened"
        )
    event = ContactEvent(customer_id, occurred_at, kind, parse_text(summary, "note"), source="cli")
    with store.begin() as conn:
        customer = queries.get_customer(conn, customer_id)
        added = queries.add_event(conn, queries.find_internal_id(conn, customer_id), event, now)
    return LoggedContact(customer, event, added)


def _format_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def set_opt_outs(
    store: Store, customer_id: str, flags: Collection[str], *, opted_out: bool, now: dt.datetime
) -> OptResult:
    """Set (opt out) or clear (opt in) flags among no_email, no_post, no_humor and do_not_contact."""
    if not flags:
        raise InputError(f"name at least one flag to change: {', '.join(OPT_FLAGS)}")
    unknown = sorted(set(flags) - set(OPT_FLAGS))
    if unknown:
        raise InputError(f"'{unknown[0]}' is not an opt-out flag; use one of: {', '.join(OPT_FLAGS)}")
    ordered = [flag for flag in OPT_FLAGS if flag in flags]
    with store.begin() as conn:
        before = queries.get_customer(conn, customer_id)
        queries.update_customer(conn, customer_id, dict.fromkeys(ordered, opted_out), now)
        after = queries.get_customer(conn, customer_id)
    return OptResult(after, _changed_fields(before, after, ordered))


def opted_out_of(customer: Customer) -> tuple[str, ...]:
    """Return the opt-out flags that are set on a customer."""
    return tuple(flag for flag in OPT_FLAGS if getattr(customer, flag))


def forget_customer(
    store: Store, customer_id: str, *, now: dt.datetime, mail_folders: Iterable[Path] = ()
) -> ForgetResult:
    """Delete a customer, their whole contact history and their cards, then the email files about them.

    ``mail_folders`` are the file transport's folders; the dry runs write into folders under them.
    The rows go first, in one transaction, so no card can go out to the customer afterwards; the files
    are then found by their content (see ``_files_about``) and removed, and any that cannot be is named.
    """
    with store.begin() as conn:
        customer = queries.get_customer(conn, customer_id)
        cards = traces.cards_of(conn, queries.find_internal_id(conn, customer_id))
        printed = [(batch, state) for _, batch, state in cards if batch is not None]
        traces.record_forgotten_cards(conn, [batch for batch, _ in printed], now)
        removed = queries.delete_customer(conn, customer_id)
        batches = sorted({batch for batch, _ in printed})
        others = traces.cards_in_batches(conn, batches)
        recorded = {batch: traces.print_files_of(conn, batch) for batch in batches}
        printouts = tuple(
            Printout(
                batch,
                tuple(path for path in recorded[batch] if path.exists()),
                others[batch],
                posted=all(state == "mailed" for b, state in printed if b == batch),
                files_unknown=not recorded[batch],
            )
            for batch in batches
        )
    message_ids = {message_id for message_id, _, _ in cards if message_id}
    found, left = _files_about(store, customer, message_ids, mail_folders)
    gone: list[Path] = []
    for path in found:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            left.append((path, f"cannot be removed: {exc.strerror}"))
        else:
            gone.append(path)
    return ForgetResult(customer, removed, tuple(sorted(gone)), tuple(sorted(left)), printouts)


def _files_about(
    store: Store, customer: Customer, message_ids: set[str], folders: Iterable[Path]
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Return the email files about a customer, and those that may be but are kept (with why).

    A file is the customer's when its Message-ID is one of their cards' (which holds even after their
    address changed), or when it is addressed to them: to their address, or to any address their own
    cards went to, which finds the dry runs (no outbox row names them).  A file to an address another
    customer also has is kept and named, unless its Message-ID says whose card it is.
    """
    from cardsender.sending.transport import FileTransport

    written = [item for folder in dict.fromkeys(folders) for item in FileTransport(folder).written()]
    left = [(item.path, f"{item.unreadable}, so it may be about {customer.id}") for item in written if item.unreadable]
    readable = [item for item in written if not item.unreadable]
    theirs = [item.path for item in readable if item.message_id in message_ids]
    addresses = {address for item in readable if item.message_id in message_ids for address in item.recipients}
    if customer.email:
        addresses.add(_address_key(customer.email))
    addressed = [item for item in readable if item.message_id not in message_ids and item.recipients & addresses]
    with store.begin() as conn:
        holders = {_address_key(address): ids for address, ids in traces.holders_of(conn, addresses).items()}
        elsewhere = traces.known_message_ids(conn, (item.message_id for item in addressed))
    for item in addressed:
        if item.message_id in elsewhere:
            continue  # another customer's card, sent to an address that is now theirs
        shared = sorted(item.recipients & addresses)
        also = sorted({holder for address in shared for holder in holders.get(address, ())})
        if also:
            left.append((item.path, f"{', '.join(shared)} is also the address of {', '.join(also)}"))
        else:
            theirs.append(item.path)
    return theirs, left


def _address_key(address: str) -> str:
    """Return an address as a message file has it: in lower case, an internationalised domain in IDNA form."""
    local, _, domain = address.strip().lower().rpartition("@")
    with contextlib.suppress(UnicodeError):  # a domain IDNA cannot write is compared as it is
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc_iso(value: dt.datetime | None) -> str | None:
    return f"{value.isoformat()}Z" if value is not None else None


def customer_to_json(customer: Customer) -> dict[str, Any]:
    """Return every field of a customer as JSON values: ISO dates, the birthday as ``--MM-DD`` without a year."""
    data: dict[str, Any] = {}
    for item in fields(Customer):
        value = getattr(customer, item.name)
        if item.name == "birthday":
            value = str(value) if value is not None else None
        elif isinstance(value, dt.date):
            value = value.isoformat()
        data[item.name] = value
    return data


def summary_to_json(summary: CustomerSummary) -> dict[str, Any]:
    """Return the ``customers list --json`` form of a customer."""
    customer = summary.customer
    return {
        "id": customer.id,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "channel": customer.channel,
        "owner": customer.owner,
        "birthday": str(customer.birthday) if customer.birthday else None,
        "do_not_contact": customer.do_not_contact,
        "last_contact": _iso(summary.last_contact),
        "days_since_contact": summary.days_since,
    }


def event_to_json(event: ContactEvent) -> dict[str, Any]:
    """Return a contact event as JSON values; the time is office-local."""
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "kind": event.kind,
        "summary": event.summary,
        "source": event.source,
    }


def detail_to_json(detail: CustomerDetail) -> dict[str, Any]:
    """Return the ``customers show --json`` form: every field, the last contact and the history."""
    return customer_to_json(detail.summary.customer) | {
        "last_contact": _iso(detail.summary.last_contact),
        "days_since_contact": detail.summary.days_since,
        "years_as_customer": detail.years_as_customer,
        "history": [event_to_json(event) for event in detail.history],
    }


def export_customer(store: Store, customer_id: str) -> dict[str, Any]:
    """Return everything stored about a customer as JSON values (for a data access request)."""
    with store.begin() as conn:
        row = queries.customer_row(conn, customer_id)
        events = queries.event_rows_of(conn, customer_id)
    return {
        "exported_by": f"cardsender {__version__}",
        "customer": customer_to_json(queries.customer_from_row(row))
        | {"created_at": _utc_iso(row["created_at"]), "updated_at": _utc_iso(row["updated_at"])},
        "contact_history": [
            event_to_json(ContactEvent(customer_id, e["occurred_at"], e["kind"], e["summary"], e["source"]))
            | {"recorded_at": _utc_iso(e["created_at"])}
            for e in events
        ],
    }

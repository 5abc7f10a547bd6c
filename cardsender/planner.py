"""Decide, for every customer and day, which card is due and by which channel.

The planner is pure: it takes the facts about each customer (their dates, last
touch, recent purchases and the cards already in the outbox), the date "today"
in the office time zone and the config, and returns planned touches.  It reads
no clock, no database and no files; the CLI and the service pass today in.

Every rule about gaps is measured on occasion dates (the day the customer gets
the card); the due date is the day it is sent (email) or mailed (post).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cardsender import occasions
from cardsender.config import Config
from cardsender.records import Birthday, Card
from cardsender.rules import WeekdayRule

DAY = dt.timedelta(days=1)
# How far ahead dated occasions are looked at: beyond the next check-in and its min gap.
HORIZON_DAYS = 120
# Occasions missed up to this many days before the grace period are still reported as missed.
MISSED_LOOKBACK_DAYS = 30
# A simulation re-plans at least this often (well inside the horizon).
SIMULATION_STEP_DAYS = 60
# First check-ins of customers without history are spread over these days after they were added.
FIRST_CHECK_IN_DAYS = (49, 63)

# Outbox states (the outbox issue adds the transitions).
OPEN_STATES = frozenset({"pending", "held"})
# A card staff skipped (stored as cancelled, "skipped by staff"): it settles its gap, and no other
# check-in is planned for the same last contact.
SKIPPED = "skipped"
# A row in one of these states is never planned again.
CLOSED_STATES = frozenset({"sending", "sent", "unknown", "printed", "mailed", "failed", "cancelled", SKIPPED})
# A card in one of these states occupies its occasion date for the min gap and the guarantee.
FIXED_STATES = frozenset({"sending", "sent", "unknown", "printed", "mailed"})
# A card in one of these states reached the customer on its occasion date (unknown most likely did).
TOUCH_STATES = frozenset({"sent", "unknown", "mailed"})


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase: the thank-you is about the latest of a few close together."""

    day: dt.date
    summary: str = ""


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the planner needs to know about one customer."""

    customer_id: str
    added_on: dt.date
    name: str = ""
    owner: str = ""
    birthday: Birthday | None = None
    country: str = ""
    # The channel the customer chose (email, post or both) and those that can reach them now,
    # after opt-outs and missing addresses; no usable channel means staff must call.
    preferred_channel: str = "email"
    channels: tuple[str, ...] = ()
    no_humor: bool = False
    do_not_contact: bool = False
    # The latest event that reached the customer (not a note), on or before today.
    last_event_touch: dt.date | None = None
    purchases: tuple[Purchase, ...] = ()
    cards: tuple[Card, ...] = ()

    @property
    def contactable(self) -> bool:
        """Return whether cards can reach the customer automatically."""
        return not self.do_not_contact and bool(self.channels)


@dataclass(frozen=True, slots=True)
class Touch:
    """A planned (or, with ``suppressed_reason``, a dropped) card for one customer on one channel."""

    customer_id: str
    occasion: str
    channel: str
    occasion_date: dt.date
    due_date: dt.date
    reason: str
    suppressed_reason: str | None = None

    @property
    def key(self) -> tuple[str, str, dt.date, str]:
        """Return the outbox key: customer, occasion, occasion date, channel."""
        return (self.customer_id, self.occasion, self.occasion_date, self.channel)

    def to_json(self) -> dict[str, Any]:
        """Return the stable JSON form used by ``plan --json``."""
        data: dict[str, Any] = {
            "customer_id": self.customer_id,
            "occasion": self.occasion,
            "channel": self.channel,
            "occasion_date": self.occasion_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "reason": self.reason,
        }
        if self.suppressed_reason is not None:
            data["suppressed_reason"] = self.suppressed_reason
        return data


@dataclass(slots=True)
class Schedule:
    """One customer's touches as seen on one day."""

    scheduled: list[Touch] = field(default_factory=list)  # due now (catch-up included) or later
    suppressed: list[Touch] = field(default_factory=list)
    missed: list[Touch] = field(default_factory=list)

    def due(self, today: dt.date) -> list[Touch]:
        """Return the touches to send or mail today (those past due are still within grace)."""
        return [touch for touch in self.scheduled if touch.due_date <= today]


@dataclass(frozen=True, slots=True)
class _Candidate:
    occasion: str
    day: dt.date
    reason: str


def usable_channels(
    channel: str, email: str | None, has_postal_address: bool, no_email: bool, no_post: bool,
    email_bouncing: bool = False,
) -> tuple[str, ...]:  # fmt: skip
    """Return the channels that can reach a customer: their choice, less opt-outs and missing addresses."""
    found: list[str] = []
    if channel in ("email", "both") and email and not no_email and not email_bouncing:
        found.append("email")
    if channel in ("post", "both") and has_postal_address and not no_post:
        found.append("post")
    return tuple(found)


def due_date_for(occasion: str, channel: str, occasion_date: dt.date, config: Config) -> dt.date:
    """Return the day a card is sent (email: its day) or mailed (post: the mail-by date).

    A posted thank-you cannot be mailed before the purchase it thanks for, so it is
    mailed on its occasion date (delay_days after the purchase) and arrives a few days later.
    """
    if channel == "post" and occasion != "thank_you":
        return occasions.mail_by(occasion_date, config.print.postal_lead_days)
    return occasion_date


def last_touch(facts: CustomerFacts, today: dt.date) -> dt.date | None:
    """Return the latest day on or before today that something reached the customer."""
    latest = facts.last_event_touch if facts.last_event_touch and facts.last_event_touch <= today else None
    for card in facts.cards:
        if card.state in TOUCH_STATES and card.occasion_date <= today:
            latest = card.occasion_date if latest is None else max(latest, card.occasion_date)
    return latest


def clock_start(facts: CustomerFacts, today: dt.date) -> dt.date:
    """Return the day the 70-day clock counts from: the last touch, else the day the customer was added."""
    return last_touch(facts, today) or facts.added_on


def plan_customer(facts: CustomerFacts, today: dt.date, config: Config) -> Schedule:
    """Return one customer's schedule as of ``today``."""
    schedule = Schedule()
    if facts.added_on > today:
        return schedule
    grace = config.occasions.grace_days
    closed = {(c.occasion, c.occasion_date, c.channel) for c in facts.cards if c.state in CLOSED_STATES}
    fixed_units = {(c.occasion, c.occasion_date) for c in facts.cards if c.state in FIXED_STATES}
    preferred = ("email", "post") if facts.preferred_channel == "both" else (facts.preferred_channel,)

    accepted: set[tuple[str, dt.date]] = set(fixed_units)
    live: list[tuple[_Candidate, list[str]]] = []
    for candidate in _dated_candidates(facts, today, config):
        unit = (candidate.occasion, candidate.day)
        if facts.do_not_contact or not facts.channels or (candidate.occasion == "april_fools" and facts.no_humor):
            why = _blocked_reason(facts)
            for channel in facts.channels or preferred:
                _add_if_near(schedule.suppressed, facts, candidate, channel, today, config, why)
            continue
        open_channels = [ch for ch in facts.channels if (candidate.occasion, candidate.day, ch) not in closed]
        if not open_channels:
            continue
        on_time: list[str] = []
        for channel in open_channels:
            due = due_date_for(candidate.occasion, channel, candidate.day, config)
            if due < today - dt.timedelta(days=grace):
                if unit not in fixed_units and _counts_as_missed(candidate.day, config):
                    why = f"missed: due {due.isoformat()}, more than {grace} grace days ago"
                    schedule.missed.append(_touch(facts, candidate, channel, due, why))
            else:
                on_time.append(channel)
        if on_time:
            live.append((candidate, on_time))

    # Settle collisions among dated cards, the higher priority first (issue 3).
    min_gap = config.occasions.min_gap_days
    live.sort(key=lambda item: (occasions.PRIORITY[item[0].occasion], item[0].day))
    for candidate, on_time in live:
        unit = (candidate.occasion, candidate.day)
        clash = None if unit in fixed_units else _clash(candidate.day, unit, accepted, min_gap)
        if clash is not None:
            why = f"collides with {clash[0]} on {clash[1].isoformat()} (less than {min_gap} days apart)"
            for channel in on_time:
                _add_if_near(schedule.suppressed, facts, candidate, channel, today, config, why)
            continue
        accepted.add(unit)
        for channel in on_time:
            due = due_date_for(candidate.occasion, channel, candidate.day, config)
            schedule.scheduled.append(_touch(facts, candidate, channel, due))

    if facts.contactable and config.occasions.check_in.enabled:
        # A check-in already sent on one channel is still due on the customer's others.
        recent = today - dt.timedelta(days=grace)
        started = sorted({day for occasion, day in fixed_units if occasion == "check_in" and day >= recent})
        why = "the check-in already sent on the customer's other channel"
        check_ins = [_Candidate("check_in", day, why) for day in started]
        check_ins += _check_ins(facts, today, config, sorted(day for _, day in accepted))
        for candidate in check_ins:
            for channel in facts.channels:
                if ("check_in", candidate.day, channel) not in closed:
                    due = due_date_for("check_in", channel, candidate.day, config)
                    schedule.scheduled.append(_touch(facts, candidate, channel, due))
    schedule.scheduled.sort(key=lambda t: (t.due_date, occasions.PRIORITY[t.occasion], t.channel))
    return schedule


def _touch(
    facts: CustomerFacts, candidate: _Candidate, channel: str, due: dt.date, suppressed: str | None = None
) -> Touch:
    return Touch(facts.customer_id, candidate.occasion, channel, candidate.day, due, candidate.reason, suppressed)


def _add_if_near(
    into: list[Touch], facts: CustomerFacts, candidate: _Candidate, channel: str, today: dt.date, config: Config,
    why: str,
) -> None:  # fmt: skip
    """Keep a suppressed touch that would have been due within grace of today or later."""
    due = due_date_for(candidate.occasion, channel, candidate.day, config)
    if due >= today - dt.timedelta(days=config.occasions.grace_days):
        into.append(_touch(facts, candidate, channel, due, why))


def _blocked_reason(facts: CustomerFacts) -> str:
    if facts.do_not_contact:
        return "customer asked not to be contacted"
    if not facts.channels:
        return "no usable channel (no address for the chosen channel, or opted out); staff call instead"
    return "customer asked for no humour"


def _counts_as_missed(occasion_date: dt.date, config: Config) -> bool:
    start = config.office.start_date
    return start is None or occasion_date >= start


def _clash(
    day: dt.date, unit: tuple[str, dt.date], accepted: set[tuple[str, dt.date]], min_gap: int
) -> tuple[str, dt.date] | None:
    for other in sorted(accepted, key=lambda u: (abs((u[1] - day).days), occasions.PRIORITY[u[0]])):
        if other != unit and abs((other[1] - day).days) < min_gap:
            return other
    return None


def _dated_candidates(facts: CustomerFacts, today: dt.date, config: Config) -> Iterator[_Candidate]:
    """Yield the dated occasions from a little before today (catch-up) to the horizon."""
    occ = config.occasions
    first = today - dt.timedelta(days=occ.grace_days + MISSED_LOOKBACK_DAYS)
    last = today + dt.timedelta(days=HORIZON_DAYS)
    if occ.birthday.enabled and facts.birthday is not None:
        for day in occasions.dates_between("birthday", first, last, birthday=facts.birthday, feb29=occ.birthday.feb29):
            age = day.year - facts.birthday.year if facts.birthday.year else None
            yield _Candidate("birthday", day, f"birthday (turns {age})" if age else "birthday")
    if occ.thanksgiving.enabled:
        country = facts.country or config.office.country
        for day in occasions.dates_between(
            "thanksgiving", first, last, country=country, thanksgiving_rules=occ.thanksgiving.rules
        ):
            yield _Candidate("thanksgiving", day, f"Thanksgiving ({country})")
    if occ.april_fools.enabled:
        for day in occasions.dates_between("april_fools", first, last):
            yield _Candidate("april_fools", day, "April Fool's Day")
    if occ.thank_you.enabled:
        yield from _thank_yous(facts, first, today, config)


def _thank_yous(facts: CustomerFacts, first: dt.date, today: dt.date, config: Config) -> Iterator[_Candidate]:
    """Yield one thank-you per cluster of purchases within coalesce_days, about the latest purchase."""
    settings = config.occasions.thank_you
    delay = dt.timedelta(days=settings.delay_days)
    known = [p for p in facts.purchases if p.day <= today]
    # Thank-yous that went out; one waiting in the outbox is this cluster's own card, not an earlier one.
    sent_days = [c.occasion_date for c in facts.cards if c.occasion == "thank_you" and c.state in FIXED_STATES]
    for cluster in _purchase_clusters(known, settings.coalesce_days):
        latest = cluster[-1]
        day = latest.day + delay
        if day < first:
            continue
        # A thank-you already made for this cluster covers its later purchases too.
        if any(cluster[0].day + delay <= sent < day for sent in sent_days):
            continue
        what = f" ({latest.summary})" if latest.summary else ""
        yield _Candidate("thank_you", day, f"thank you for the purchase on {latest.day.isoformat()}{what}")


def _purchase_clusters(purchases: Iterable[Purchase], coalesce_days: int) -> list[list[Purchase]]:
    clusters: list[list[Purchase]] = []
    for purchase in sorted(purchases, key=lambda p: p.day):
        if clusters and (purchase.day - clusters[-1][0].day).days <= coalesce_days:
            clusters[-1].append(purchase)
        else:
            clusters.append([purchase])
    return clusters


def _check_ins(facts: CustomerFacts, today: dt.date, config: Config, surviving: list[dt.date]) -> Iterator[_Candidate]:
    """Yield the check-ins that keep the gap between touches within max_gap_days, up to the first future one."""
    kit = config.keep_in_touch
    min_gap = config.occasions.min_gap_days
    quiet = (config.occasions.quiet_start, config.occasions.quiet_end)
    touched = last_touch(facts, today)
    cur = touched or facts.added_on
    first_gap = touched is None
    pending = sorted(c.occasion_date for c in facts.cards if c.occasion == "check_in" and c.state in OPEN_STATES)
    failed = {c.occasion_date for c in facts.cards if c.occasion == "check_in" and c.state == "failed"}
    skipped = [c.occasion_date for c in facts.cards if c.occasion == "check_in" and c.state == SKIPPED]
    upcoming = iter(day for day in surviving if day > cur)
    nxt = next(upcoming, None)
    while True:
        while nxt is not None and nxt <= cur:
            nxt = next(upcoming, None)
        limit = cur + dt.timedelta(days=kit.max_gap_days)
        if nxt is not None and nxt <= limit:
            cur = nxt
            first_gap = False
            if cur > today + dt.timedelta(days=kit.max_gap_days):
                return
            continue
        if any(day > cur for day in skipped):
            return  # staff skipped this gap's check-in: none other until a new contact (the call list shows them)
        if first_gap:
            low, high = FIRST_CHECK_IN_DAYS
            spread = zlib.crc32(facts.customer_id.encode()) % (high - low + 1)
            day = cur + dt.timedelta(days=low + spread)
            why = "first check-in after the customer was added"
        else:
            day = cur + dt.timedelta(days=kit.max_gap_days - kit.check_in_lead_days)
            why = f"{(day - cur).days} days since the last contact on {cur.isoformat()}; keeps the 70-day promise"
        if nxt is not None and (nxt - day).days < min_gap:
            day = nxt - dt.timedelta(days=min_gap)  # the min gap never drops a needed check-in
        if occasions.in_quiet_window(day, *quiet):
            day = occasions.before_quiet_window(day, quiet[0])
        # A check-in already waiting in the outbox is the one for this gap, however late it is.
        reuse = [d for d in pending if d > cur]
        if reuse:
            day = reuse[0]
        day = max(day, cur + DAY)
        if day < today:
            # Overdue: as soon as possible, even in the quiet window, but after the last touch.
            soonest = today if "email" in facts.channels else today + dt.timedelta(days=config.print.postal_lead_days)
            day = max(soonest, cur + DAY)
            why = f"overdue: {(today - cur).days} days since the last contact on {cur.isoformat()}"
        if day in failed:
            # That day's card is closed in the outbox; the next day takes its place.
            why = f"replaces the check-in for {day.isoformat()}, which failed"
            while day in failed:
                day += DAY
        yield _Candidate("check_in", day, why)
        cur = day
        first_gap = False
        if day > today:
            return


@dataclass(frozen=True, slots=True)
class DueFilter:
    """Which customers can have a card due on one day; the others need not be planned that day.

    A customer can only have something due if a check-in may be near (their clock
    started long enough ago), a birthday is near, a shared occasion (Thanksgiving,
    April 1) is near, a purchase is recent enough for its thank-you to be due, or
    the outbox holds a card still open or for an occasion from ``cards_from`` on
    (the other channel of a check-in sent on one).  The store uses this to read
    only those customers; a test checks that planning the rest would have given nothing.
    """

    everyone: bool
    clock_started_by: dt.date
    birthdays: frozenset[tuple[int, int]]
    purchases_from: dt.date
    cards_from: dt.date


def due_filter(today: dt.date, config: Config) -> DueFilter:
    """Return the filter of customers who may have a card due today."""
    occ, kit, lead = config.occasions, config.keep_in_touch, config.print.postal_lead_days
    # Occasion dates that can be due today: email on the day, post up to lead + a weekend ahead,
    # and anything within grace behind.
    near = [today + dt.timedelta(days=n) for n in range(-occ.grace_days, lead + occ.grace_days + 4)]
    everyone = False
    for day in near:
        if occ.april_fools.enabled and (day.month, day.day) == (4, 1):
            everyone = True
        if occ.thanksgiving.enabled:
            rules = [*occasions.BUILTIN_THANKSGIVING.values(), *occ.thanksgiving.rules.values()]
            everyone = everyone or any(_rule_date_is(rule, day) for rule in rules)
    birthdays = {(day.month, day.day) for day in near}
    feb29_on = (3, 1) if occ.birthday.feb29 == "mar1" else (2, 28)
    if any(not occasions.is_leap(day.year) and (day.month, day.day) == feb29_on for day in near):
        birthdays.add((2, 29))
    # The earliest day after the clock starts that a check-in can be due.
    gap = kit.max_gap_days
    earliest = min(FIRST_CHECK_IN_DAYS[0], gap - kit.check_in_lead_days, gap - occ.min_gap_days)
    quiet_start = dt.date(today.year, *occ.quiet_start)
    if quiet_start < today:
        quiet_start = dt.date(today.year + 1, *occ.quiet_start)
    if (quiet_start - today).days <= lead + 5:
        # A check-in pulled out of the quiet window can be due up to the window's length earlier.
        window = (dt.date(quiet_start.year + (occ.quiet_end < occ.quiet_start), *occ.quiet_end) - quiet_start).days
        earliest -= window + 3
    earliest -= lead + 3  # mailed ahead, on the business day before a weekend
    # A thank-you is due from delay_days after the latest purchase of its cluster, for grace_days.
    purchases_from = today - dt.timedelta(days=occ.grace_days + occ.thank_you.delay_days)
    return DueFilter(
        everyone,
        today - dt.timedelta(days=max(earliest, 0)),
        frozenset(birthdays),
        purchases_from=purchases_from,
        cards_from=today - dt.timedelta(days=occ.grace_days),
    )


def _rule_date_is(rule: WeekdayRule, day: dt.date) -> bool:
    if day.month != rule.month:
        return False
    try:
        return rule.date_in(day.year) == day
    except ValueError:
        return False


@dataclass(slots=True)
class Simulation:
    """What happens to one customer over a range of days if every due card goes out on its due date."""

    customer_id: str
    contactable: bool
    sent: list[Touch] = field(default_factory=list)
    suppressed: list[Touch] = field(default_factory=list)
    missed: list[Touch] = field(default_factory=list)


def simulate(facts: CustomerFacts, first: dt.date, last: dt.date, config: Config) -> Simulation:
    """Send each card on its due date from ``first`` to ``last`` and record what went out.

    The planner is re-run on each day a card falls due (again after sending, and at
    least every SIMULATION_STEP_DAYS), which gives the same result as re-running it
    every day because nothing else changes between those days.
    """
    result = Simulation(facts.customer_id, facts.contactable)
    cards = list(facts.cards)
    seen: set[tuple[str, str, dt.date, str]] = set()
    day = first
    current = facts
    while day <= last:
        schedule = plan_customer(current, day, config)
        for kept, found in ((result.suppressed, schedule.suppressed), (result.missed, schedule.missed)):
            for touch in found:
                if touch.key not in seen and touch.due_date <= last:
                    seen.add(touch.key)
                    kept.append(touch)
        due = schedule.due(day)
        if due:
            for touch in due:
                result.sent.append(touch)
                state = "mailed" if touch.channel == "post" else "sent"
                cards.append(Card(facts.customer_id, touch.occasion, touch.occasion_date, touch.channel, state))
            current = replace(facts, cards=tuple(cards))
            continue  # plan the same day again: what was sent may bring the next card into view
        later = [t.due_date for t in schedule.scheduled if t.due_date > day]
        day = min([*later, day + dt.timedelta(days=SIMULATION_STEP_DAYS)])
    return result

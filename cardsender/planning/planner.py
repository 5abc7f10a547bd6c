"""Decide, for every customer and day, which card is due and by which channel.

The planner is pure: it takes the facts about each customer (their dates, last
touch, recent purchases and the cards already in the outbox), the date "today"
in the office time zone and the config, and returns planned touches.  It reads
no clock, no database and no files; the CLI and the service pass today in.

Every rule about gaps is measured on the day a card reaches the customer: an
email's occasion date, and a posted card's arrival, postal_lead_days after the
mail day it goes out on.  The due date is the day it is sent (email) or mailed (post).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cardsender.config.model import Config
from cardsender.domain.occasions import OCCASION_TABLE
from cardsender.domain.records import Birthday, Card, CardKey, Touch
from cardsender.domain.rules import WeekdayRule
from cardsender.domain.vocabulary import (
    CHANNEL_BY_WORD,
    CHANNEL_PREFERENCE_BY_WORD,
    GONE_OUT_STATES,
    OCCASION_BY_WORD,
    WAITING_STATES,
    Channel,
    ChannelPreference,
    Occasion,
    OutboxState,
)
from cardsender.planning import dates as occasions

# The members the planner compares against, read once: on Python 3.11 reading a member from its enum
# class is a slow attribute lookup, and a forecast makes millions of comparisons.
_CHANNEL_EMAIL = Channel.EMAIL
_CHANNEL_POST = Channel.POST
_CHANNEL_PREFERENCE_EMAIL = ChannelPreference.EMAIL
_OCCASION_APRIL_FOOLS = Occasion.APRIL_FOOLS
_OCCASION_BIRTHDAY = Occasion.BIRTHDAY
_OCCASION_CHECK_IN = Occasion.CHECK_IN
_OCCASION_THANKSGIVING = Occasion.THANKSGIVING
_OCCASION_THANK_YOU = Occasion.THANK_YOU
_OUTBOX_STATE_FAILED = OutboxState.FAILED
_OUTBOX_STATE_MAILED = OutboxState.MAILED
_OUTBOX_STATE_SENT = OutboxState.SENT


DAY = dt.timedelta(days=1)
# How far ahead dated occasions are looked at: beyond the next check-in and its min gap.
HORIZON_DAYS = 120
# Occasions missed up to this many days before the grace period are still reported as missed.
MISSED_LOOKBACK_DAYS = 30
# A simulation re-plans at least this often (well inside the horizon).
SIMULATION_STEP_DAYS = 60
# First check-ins of customers without history are spread over these days after they were added.
FIRST_CHECK_IN_DAYS = (49, 63)

# Outbox states, as the planner reads them (the outbox moves a card between them).
OPEN_STATES = WAITING_STATES
# A row in any other state is never planned again.
CLOSED_STATES = frozenset(OutboxState) - OPEN_STATES
# A card in one of these states occupies its occasion date for the min gap and the guarantee.
FIXED_STATES = GONE_OUT_STATES
# A card in one of these states reached the customer on its occasion date (unknown most likely did).
TOUCH_STATES = frozenset({OutboxState.SENT, OutboxState.UNKNOWN, OutboxState.MAILED})


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase: the thank-you is about the latest of a few close together."""

    day: dt.date
    summary: str = ""


@dataclass(frozen=True, slots=True, init=False)
class CustomerFacts:
    """What the planner needs to know about one customer."""

    customer_id: str
    added_on: dt.date
    name: str
    owner: str
    birthday: Birthday | None
    country: str
    # The channel the customer chose (email, post or both) and those that can reach them now,
    # after opt-outs and missing addresses; no usable channel means staff must call.
    preferred_channel: ChannelPreference
    channels: tuple[Channel, ...]
    no_humor: bool
    do_not_contact: bool
    # The latest event that reached the customer (not a note), on or before today.
    last_event_touch: dt.date | None
    purchases: tuple[Purchase, ...]
    cards: tuple[Card, ...]
    # When each posted card of the outbox reaches (or reached) the customer, its mail day plus the postal
    # lead: (occasion, occasion date, arrival).  A posted card missing here arrives on its occasion date.
    post_arrivals: tuple[tuple[Occasion, dt.date, dt.date], ...]
    # Days of the history's card events (imported, or written when a card went out) near today:
    # each is a card that reached the customer, and keeps the min gap like a planned one.
    card_days: tuple[dt.date, ...]

    def __init__(
        self,
        customer_id: str,
        added_on: dt.date,
        name: str = "",
        owner: str = "",
        birthday: Birthday | None = None,
        country: str = "",
        preferred_channel: ChannelPreference | str = _CHANNEL_PREFERENCE_EMAIL,
        channels: Iterable[Channel | str] = (),
        no_humor: bool = False,
        do_not_contact: bool = False,
        last_event_touch: dt.date | None = None,
        purchases: tuple[Purchase, ...] = (),
        cards: tuple[Card, ...] = (),
        post_arrivals: Iterable[tuple[Occasion | str, dt.date, dt.date]] = (),
        card_days: tuple[dt.date, ...] = (),
    ) -> None:
        """Make a customer's facts; channels and occasions may be given as their stored words."""
        set_field = object.__setattr__  # a frozen record: fields are set once, here
        set_field(self, "customer_id", customer_id)
        set_field(self, "added_on", added_on)
        set_field(self, "name", name)
        set_field(self, "owner", owner)
        set_field(self, "birthday", birthday)
        set_field(self, "country", country)
        set_field(
            self,
            "preferred_channel",
            CHANNEL_PREFERENCE_BY_WORD.get(preferred_channel) or ChannelPreference(preferred_channel),
        )
        set_field(self, "channels", tuple(CHANNEL_BY_WORD.get(channel) or Channel(channel) for channel in channels))
        set_field(self, "no_humor", no_humor)
        set_field(self, "do_not_contact", do_not_contact)
        set_field(self, "last_event_touch", last_event_touch)
        set_field(self, "purchases", purchases)
        set_field(self, "cards", cards)
        set_field(
            self,
            "post_arrivals",
            tuple(
                (OCCASION_BY_WORD.get(occasion) or Occasion(occasion), day, arrival)
                for occasion, day, arrival in post_arrivals
            ),
        )
        set_field(self, "card_days", card_days)

    @property
    def contactable(self) -> bool:
        """Return whether cards can reach the customer automatically."""
        return not self.do_not_contact and bool(self.channels)

    def with_cards(
        self, cards: tuple[Card, ...], post_arrivals: tuple[tuple[Occasion, dt.date, dt.date], ...]
    ) -> CustomerFacts:
        """Return the same facts with other cards and post arrivals, given as the vocabulary's members already.

        The simulation calls this after every day that sent something, so it copies the fields as they are
        instead of converting each one again.
        """
        copy = object.__new__(CustomerFacts)
        for name in self.__slots__:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "cards", cards)
        object.__setattr__(copy, "post_arrivals", post_arrivals)
        return copy


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
    occasion: Occasion
    day: dt.date
    reason: str


def usable_channels(
    channel: ChannelPreference | str,
    email: str | None,
    has_postal_address: bool,
    no_email: bool,
    no_post: bool,
    email_bouncing: bool = False,
) -> tuple[Channel, ...]:
    """Return the channels that can reach a customer: their choice, less opt-outs and missing addresses."""
    chosen = ChannelPreference(channel).channels
    found: list[Channel] = []
    if _CHANNEL_EMAIL in chosen and email and not no_email and not email_bouncing:
        found.append(_CHANNEL_EMAIL)
    if _CHANNEL_POST in chosen and has_postal_address and not no_post:
        found.append(_CHANNEL_POST)
    return tuple(found)


def mail_calendar(config: Config) -> occasions.MailCalendar:
    """Return the mail calendar of the config's office (shared and cached)."""
    office = config.office
    return occasions.mail_calendar(office.country, office.subdivision, config.print.closed_days)


def due_date_for(occasion: Occasion | str, channel: Channel | str, occasion_date: dt.date, config: Config) -> dt.date:
    """Return the day a card is sent (email: its day) or, on time, mailed (post: a mail day).

    A posted card is mailed on the last mail day that leaves postal_lead_days before its
    occasion date.  A posted thank-you cannot be mailed before the purchase it thanks for:
    it goes on the first mail day from its occasion date (delay_days after the purchase).
    """
    if channel != _CHANNEL_POST:
        return occasion_date
    calendar = mail_calendar(config)
    if occasion == _OCCASION_THANK_YOU:
        return calendar.on_or_after(occasion_date)
    return occasions.mail_by(occasion_date, config.print.postal_lead_days, calendar)


def is_late(
    occasion: Occasion | str, channel: Channel | str, occasion_date: dt.date, due_date: dt.date, config: Config
) -> bool:
    """Return whether a card is due after the day it should have gone out on (a late posted card)."""
    return channel == _CHANNEL_POST and due_date > due_date_for(occasion, channel, occasion_date, config)


@dataclass(frozen=True, slots=True)
class _Sending:
    """How one card of a candidate goes: its due date, the day it reaches the customer, and whether it is late."""

    channel: Channel
    due: dt.date
    arrival: dt.date
    late: bool = False


def _sending(occasion: Occasion, channel: Channel, day: dt.date, today: dt.date, config: Config) -> _Sending | None:
    """Return how a card goes out as of today, or None when it is more than grace_days past its day."""
    on_time = due_date_for(occasion, channel, day, config)
    grace = config.occasions.grace_days
    if channel is not _CHANNEL_POST:
        # An email is sent on its day, or caught up within grace.
        return None if (today - on_time).days > grace else _Sending(channel, on_time, day)
    lead = dt.timedelta(days=config.print.postal_lead_days)
    if on_time >= today:
        return _Sending(channel, on_time, on_time + lead)
    # Its mail-by date has passed: it goes on the next mail day, late, and arrives lead days after that.
    due = mail_calendar(config).on_or_after(today)
    return None if (due - on_time).days > grace else _Sending(channel, due, due + lead, late=True)


def _arrivals(facts: CustomerFacts) -> dict[tuple[Occasion, dt.date], dt.date]:
    return {(occasion, day): arrival for occasion, day, arrival in facts.post_arrivals}


def _card_arrival(card: Card, posted: dict[tuple[Occasion, dt.date], dt.date]) -> dt.date:
    if card.channel is _CHANNEL_POST:
        return posted.get((card.occasion, card.occasion_date), card.occasion_date)
    return card.occasion_date


def last_touch(facts: CustomerFacts, today: dt.date) -> dt.date | None:
    """Return the latest day on or before today that something reached the customer."""
    latest = facts.last_event_touch if facts.last_event_touch and facts.last_event_touch <= today else None
    posted = _arrivals(facts) if facts.post_arrivals else {}
    for card in facts.cards:
        if card.state in TOUCH_STATES:
            arrival = _card_arrival(card, posted)
            if arrival <= today:
                latest = arrival if latest is None else max(latest, arrival)
    return latest


def clock_start(facts: CustomerFacts, today: dt.date) -> dt.date:
    """Return the day the 70-day clock counts from: the last touch, else the day the customer was added."""
    return last_touch(facts, today) or facts.added_on


# A card of the history (a card event) in the min-gap bookkeeping: it names no occasion.
HISTORY_CARD = "card"
# The span of days one occasion's cards reach the customer (its channels may arrive on different days).
_Span = tuple[dt.date, dt.date]


def _widen(span: _Span | None, day: dt.date) -> _Span:
    return (day, day) if span is None else (min(span[0], day), max(span[1], day))


def _apart(a: _Span, b: _Span) -> int:
    """Return the days between two spans (0 when they overlap)."""
    return max(0, (b[0] - a[1]).days, (a[0] - b[1]).days)


def plan_customer(facts: CustomerFacts, today: dt.date, config: Config) -> Schedule:
    """Return one customer's schedule as of ``today``."""
    schedule = Schedule()
    if facts.added_on > today:
        return schedule
    closed = {(c.occasion, c.occasion_date, c.channel) for c in facts.cards if c.state in CLOSED_STATES}
    preferred = facts.preferred_channel.channels

    # Cards that went out (or are printed) hold their days: every other card keeps the min gap from them.
    posted = _arrivals(facts) if facts.post_arrivals else {}
    accepted: dict[tuple[str, dt.date], _Span] = {}
    for card in facts.cards:
        if card.state in FIXED_STATES:
            unit = (card.occasion, card.occasion_date)
            accepted[unit] = _widen(accepted.get(unit), _card_arrival(card, posted))
    fixed_units = set(accepted)
    # A card event on a day one of those cards was made or arrived is that card's own record.
    explained = {day for unit, span in accepted.items() for day in (unit[1], *span)}
    for day in facts.card_days:
        if day not in explained:
            accepted[(HISTORY_CARD, day)] = (day, day)

    live: list[tuple[_Candidate, list[_Sending]]] = []
    for candidate in _dated_candidates(facts, today, config):
        unit = (candidate.occasion, candidate.day)
        humorous = OCCASION_TABLE[candidate.occasion].humorous
        if facts.do_not_contact or not facts.channels or (humorous and facts.no_humor):
            why = _blocked_reason(facts)
            for channel in facts.channels or preferred:
                _add_if_near(schedule.suppressed, facts, candidate, channel, today, config, why)
            continue
        open_channels = [ch for ch in facts.channels if (candidate.occasion, candidate.day, ch) not in closed]
        if not open_channels:
            continue
        on_time: list[_Sending] = []
        for channel in open_channels:
            sending = _sending(candidate.occasion, channel, candidate.day, today, config)
            if sending is not None:
                on_time.append(sending)
            elif unit not in fixed_units and _counts_as_missed(candidate.day, config):
                due = due_date_for(candidate.occasion, channel, candidate.day, config)
                why = f"missed: due {due.isoformat()}, more than {config.occasions.grace_days} grace days ago"
                schedule.missed.append(_touch(facts, candidate, channel, due, why))
        if on_time:
            live.append((candidate, on_time))

    # Settle collisions among dated cards, the higher priority first.
    min_gap = config.occasions.min_gap_days
    live.sort(key=lambda item: (occasions.PRIORITY[item[0].occasion], item[0].day))
    for candidate, sendings in live:
        unit = (candidate.occasion, candidate.day)
        span = accepted.get(unit)
        for sending in sendings:
            span = _widen(span, sending.arrival)
        assert span is not None
        clash = None if unit in fixed_units else _clash(span, unit, accepted, min_gap)
        if clash is not None:
            what = "a card recorded" if clash[0] == HISTORY_CARD else clash[0]
            why = f"collides with {what} on {clash[1].isoformat()} (less than {min_gap} days apart)"
            for sending in sendings:
                _add_if_near(schedule.suppressed, facts, candidate, sending.channel, today, config, why)
            continue
        accepted[unit] = span
        for sending in sendings:
            schedule.scheduled.append(_sent_touch(facts, candidate, sending))

    if facts.contactable and config.occasions.check_in.enabled:
        # A check-in already sent on one channel is still due on the customer's others.
        recent = today - dt.timedelta(days=config.occasions.grace_days)
        started = sorted({day for occasion, day in fixed_units if occasion == _OCCASION_CHECK_IN and day >= recent})
        why = "the check-in already sent on the customer's other channel"
        check_ins = [_Candidate(_OCCASION_CHECK_IN, day, why) for day in started]
        check_ins += _check_ins(facts, today, config, sorted(accepted.values()))
        for candidate in check_ins:
            for channel in facts.channels:
                if (_OCCASION_CHECK_IN, candidate.day, channel) not in closed:
                    sending = _sending(_OCCASION_CHECK_IN, channel, candidate.day, today, config)
                    if sending is None:  # an old check-in waiting in the outbox: it goes on the next mail day
                        sending = _late_anyway(channel, candidate.day, today, config)
                    schedule.scheduled.append(_sent_touch(facts, candidate, sending))
    schedule.scheduled.sort(key=lambda t: (t.due_date, occasions.PRIORITY[t.occasion], t.channel))
    return schedule


def _late_anyway(channel: Channel, day: dt.date, today: dt.date, config: Config) -> _Sending:
    """Return how a check-in past its grace still goes: email today, post on the next mail day (late)."""
    if channel is not _CHANNEL_POST:
        return _Sending(channel, day, day)
    due = mail_calendar(config).on_or_after(today)
    return _Sending(channel, due, due + dt.timedelta(days=config.print.postal_lead_days), late=True)


def _sent_touch(facts: CustomerFacts, candidate: _Candidate, sending: _Sending) -> Touch:
    arrival = sending.arrival if sending.arrival != candidate.day else None
    return Touch(
        facts.customer_id,
        candidate.occasion,
        sending.channel,
        candidate.day,
        sending.due,
        candidate.reason,
        late=sending.late,
        arrival_date=arrival,
    )


def _touch(
    facts: CustomerFacts, candidate: _Candidate, channel: Channel, due: dt.date, suppressed: str | None = None
) -> Touch:
    return Touch(facts.customer_id, candidate.occasion, channel, candidate.day, due, candidate.reason, suppressed)


def _add_if_near(
    into: list[Touch],
    facts: CustomerFacts,
    candidate: _Candidate,
    channel: Channel,
    today: dt.date,
    config: Config,
    why: str,
) -> None:
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
    span: _Span, unit: tuple[str, dt.date], accepted: dict[tuple[str, dt.date], _Span], min_gap: int
) -> tuple[str, dt.date] | None:
    def nearest(item: tuple[tuple[str, dt.date], _Span]) -> tuple[int, int]:
        return (_apart(span, item[1]), occasions.PRIORITY.get(item[0][0], -1))

    for other, other_span in sorted(accepted.items(), key=nearest):
        if other != unit and _apart(span, other_span) < min_gap:
            return other
    return None


def _dated_candidates(facts: CustomerFacts, today: dt.date, config: Config) -> Iterator[_Candidate]:
    """Yield the dated occasions from a little before today (catch-up) to the horizon."""
    occ = config.occasions
    first = today - dt.timedelta(days=occ.grace_days + MISSED_LOOKBACK_DAYS)
    last = today + dt.timedelta(days=HORIZON_DAYS)
    if occ.birthday.enabled and facts.birthday is not None:
        birthdays = occasions.dates_between(
            _OCCASION_BIRTHDAY, first, last, birthday=facts.birthday, feb29=occ.birthday.feb29
        )
        for day in birthdays:
            age = day.year - facts.birthday.year if facts.birthday.year else None
            yield _Candidate(_OCCASION_BIRTHDAY, day, f"birthday (turns {age})" if age else "birthday")
    if occ.thanksgiving.enabled:
        country = facts.country or config.office.country
        for day in occasions.dates_between(
            _OCCASION_THANKSGIVING, first, last, country=country, thanksgiving_rules=occ.thanksgiving.rules
        ):
            yield _Candidate(_OCCASION_THANKSGIVING, day, f"Thanksgiving ({country})")
    if occ.april_fools.enabled:
        for day in occasions.dates_between(_OCCASION_APRIL_FOOLS, first, last):
            yield _Candidate(_OCCASION_APRIL_FOOLS, day, "April Fool's Day")
    if occ.thank_you.enabled:
        yield from _thank_yous(facts, first, today, config)


def _thank_yous(facts: CustomerFacts, first: dt.date, today: dt.date, config: Config) -> Iterator[_Candidate]:
    """Yield one thank-you per cluster of purchases within coalesce_days, about the latest purchase."""
    settings = config.occasions.thank_you
    delay = dt.timedelta(days=settings.delay_days)
    known = [p for p in facts.purchases if p.day <= today]
    # Thank-yous that went out; one waiting in the outbox is this cluster's own card, not an earlier one.
    sent_days = [c.occasion_date for c in facts.cards if c.occasion is _OCCASION_THANK_YOU and c.state in FIXED_STATES]
    for cluster in _purchase_clusters(known, settings.coalesce_days):
        latest = cluster[-1]
        day = latest.day + delay
        if day < first:
            continue
        # A thank-you already made for this cluster covers its later purchases too.
        if any(cluster[0].day + delay <= sent < day for sent in sent_days):
            continue
        what = f" ({latest.summary})" if latest.summary else ""
        yield _Candidate(_OCCASION_THANK_YOU, day, f"thank you for the purchase on {latest.day.isoformat()}{what}")


def _purchase_clusters(purchases: Iterable[Purchase], coalesce_days: int) -> list[list[Purchase]]:
    clusters: list[list[Purchase]] = []
    for purchase in sorted(purchases, key=lambda p: p.day):
        if clusters and (purchase.day - clusters[-1][0].day).days <= coalesce_days:
            clusters[-1].append(purchase)
        else:
            clusters.append([purchase])
    return clusters


def _check_ins(facts: CustomerFacts, today: dt.date, config: Config, surviving: list[_Span]) -> Iterator[_Candidate]:
    """Yield the check-ins that keep the gap between touches within max_gap_days, up to the first future one.

    ``surviving`` holds the days the dated cards (sent, printed or planned) reach the customer.  A
    check-in never comes within min_gap_days of one of them: when the soonest check-in would, that
    card is the customer's touch, even for a customer already past the limit.
    """
    kit = config.keep_in_touch
    min_gap = config.occasions.min_gap_days
    quiet = (config.occasions.quiet_start, config.occasions.quiet_end)
    lead = dt.timedelta(days=config.print.postal_lead_days)
    touched = last_touch(facts, today)
    cur = touched or facts.added_on
    first_gap = touched is None
    check_ins = [c for c in facts.cards if c.occasion is _OCCASION_CHECK_IN]
    pending = sorted(c.occasion_date for c in check_ins if c.state in OPEN_STATES)
    failed = {c.occasion_date for c in check_ins if c.state is _OUTBOX_STATE_FAILED}
    skipped = [c.occasion_date for c in check_ins if c.skipped_by_staff]
    # The soonest a check-in can reach the customer: email today, else a card mailed on the next mail day.
    soonest = today if _CHANNEL_EMAIL in facts.channels else mail_calendar(config).on_or_after(today) + lead
    upcoming = iter(surviving)
    nxt = next(upcoming, None)
    while True:
        while nxt is not None and nxt[0] <= cur:
            cur = max(cur, nxt[1])  # a card reaching the customer on several days: the clock runs from the last
            nxt = next(upcoming, None)
        limit = cur + dt.timedelta(days=kit.max_gap_days)
        if nxt is not None and nxt[0] <= limit:
            cur = nxt[1]
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
        if nxt is not None and (nxt[0] - day).days < min_gap:
            day = nxt[0] - dt.timedelta(days=min_gap)  # the min gap never drops a needed check-in
        # A posted copy can reach the customer a few days before the check-in's day: that counts too.
        for reached in (day, _reaches_first(day, facts, today, config)):
            if occasions.in_quiet_window(reached, *quiet):
                day = _out_of_quiet_window(reached, soonest, limit, facts, config)
                break
        # A check-in already waiting in the outbox is the one for this gap, however late it is.
        reuse = [d for d in pending if d > cur]
        if reuse:
            day = reuse[0]
        day = max(day, cur + DAY)
        if day < today:
            why = f"overdue: {(today - cur).days} days since the last contact on {cur.isoformat()}"
        if day < soonest:
            # As soon as possible (a posted one on the next mail day), even in the quiet window.
            day = max(soonest, cur + DAY)
        if nxt is not None and not reuse and (nxt[0] - _reaches_by(day, facts, today, config)).days < min_gap:
            # The soonest check-in would crowd a card that is coming anyway: that card is the touch.
            cur = nxt[1]
            first_gap = False
            nxt = next(upcoming, None)
            if cur > today + dt.timedelta(days=kit.max_gap_days):
                return
            continue
        if day in failed:
            # That day's card is closed in the outbox; the next day takes its place.
            why = f"replaces the check-in for {day.isoformat()}, which failed"
            while day in failed:
                day += DAY
        yield _Candidate(_OCCASION_CHECK_IN, day, why)
        cur = _reaches_by(day, facts, today, config)
        first_gap = False
        if day > today:
            return


def _out_of_quiet_window(
    reached: dt.date, soonest: dt.date, limit: dt.date, facts: CustomerFacts, config: Config
) -> dt.date:
    """Return a check-in day before the quiet window holding ``reached``, or after it when before is too soon.

    When neither keeps the promise, the day before the window stays: the check-in then goes as soon as it can.
    """
    start, end = config.occasions.quiet_start, config.occasions.quiet_end
    before = occasions.before_quiet_window(reached, start)
    if before >= soonest:
        return before
    year = reached.year if (reached.month, reached.day) <= end else reached.year + 1
    after = dt.date(year, *end) + DAY
    if _CHANNEL_POST in facts.channels:
        # A posted copy must arrive after the window too: mailed on the mail day lead days before.
        lead = dt.timedelta(days=config.print.postal_lead_days)
        after = mail_calendar(config).on_or_after(after - lead) + lead
    return after if after <= limit else before


def _check_in_arrivals(day: dt.date, facts: CustomerFacts, today: dt.date, config: Config) -> list[dt.date]:
    """Return the days a check-in for ``day`` reaches the customer, on each of their channels."""
    found = [day]
    for channel in facts.channels:
        sending = _sending(_OCCASION_CHECK_IN, channel, day, today, config) or _late_anyway(channel, day, today, config)
        found.append(sending.arrival)
    return found


def _reaches_by(day: dt.date, facts: CustomerFacts, today: dt.date, config: Config) -> dt.date:
    """Return the last day a check-in for ``day`` reaches the customer."""
    return max(_check_in_arrivals(day, facts, today, config))


def _reaches_first(day: dt.date, facts: CustomerFacts, today: dt.date, config: Config) -> dt.date:
    """Return the first day a check-in for ``day`` reaches the customer."""
    return min(_check_in_arrivals(day, facts, today, config))


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
    calendar = mail_calendar(config)
    # Days until the next mail day: a posted card mailed today is for an occasion up to lead days
    # plus that many ahead (a weekend, a holiday, a closed day).
    shut_ahead = (calendar.on_or_after(today + DAY) - today).days
    # Occasion dates that can be due today: email on the day, post up to lead + the closed days ahead,
    # and anything within grace behind (a late posted card too).
    near = [today + dt.timedelta(days=n) for n in range(-occ.grace_days, lead + max(occ.grace_days + 4, shut_ahead))]
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
    earliest -= lead + max(3, shut_ahead)  # mailed ahead, on the mail day before a weekend or holiday
    # A thank-you is due from delay_days after the latest purchase of its cluster, for grace_days; a posted
    # one from the first mail day on, so a run of closed days before that reaches further back.
    first_mail = calendar.on_or_before(today - dt.timedelta(days=occ.grace_days + 1)) + DAY
    delay = dt.timedelta(days=occ.thank_you.delay_days)
    purchases_from = min(today - dt.timedelta(days=occ.grace_days), first_mail) - delay
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
    arrivals = list(facts.post_arrivals)
    seen: set[CardKey] = set()
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
                state = _OUTBOX_STATE_MAILED if touch.channel is _CHANNEL_POST else _OUTBOX_STATE_SENT
                cards.append(Card(facts.customer_id, touch.occasion, touch.occasion_date, touch.channel, state))
                if touch.channel is _CHANNEL_POST:
                    arrivals.append((touch.occasion, touch.occasion_date, touch.arrives))
            current = facts.with_cards(tuple(cards), tuple(arrivals))
            continue  # plan the same day again: what was sent may bring the next card into view
        later = [t.due_date for t in schedule.scheduled if t.due_date > day]
        day = min([*later, day + dt.timedelta(days=SIMULATION_STEP_DAYS)])
    return result

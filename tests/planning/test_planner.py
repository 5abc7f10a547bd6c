"""The planner: which card is due, by which channel, and the 70-day guarantee."""

from __future__ import annotations

import datetime as dt

import pytest

from cardsender.config.model import Config
from cardsender.domain.records import Birthday, Card, Touch
from cardsender.planning.agenda import calls_from_facts, forecast_from_facts, longest_gap, plan_from_facts
from cardsender.planning.planner import CustomerFacts, Purchase, plan_customer, simulate, usable_channels
from tests.support.planning import config
from tests.support.planning import email_facts as facts

d = dt.date


def due(f: CustomerFacts, today: dt.date, cfg: Config | None = None) -> list[tuple[str, str, dt.date, dt.date]]:
    """Return (occasion, channel, occasion date, due date) of what is due today."""
    schedule = plan_customer(f, today, cfg or config())
    return [(t.occasion, t.channel, t.occasion_date, t.due_date) for t in schedule.due(today)]


def sent(f: CustomerFacts, first: dt.date, last: dt.date, cfg: Config | None = None) -> list[Touch]:
    """Return the touches sent when simulating the range."""
    return simulate(f, first, last, cfg or config()).sent


def test_birthday_email_is_due_on_the_day_even_on_a_weekend() -> None:
    """An email birthday card is due on the birthday itself, a Sunday included."""
    f = facts(birthday=Birthday(11, 29, 1990))
    assert due(f, d(2026, 11, 29)) == [("birthday", "email", d(2026, 11, 29), d(2026, 11, 29))]
    assert due(f, d(2026, 11, 28)) == []


def test_birthday_post_is_mailed_on_the_business_day_before_the_lead() -> None:
    """A posted birthday card for Saturday Dec 5 is mailed on Friday Nov 27."""
    f = facts(birthday=Birthday(12, 5), channels=("post",), preferred_channel="post")
    assert due(f, d(2026, 11, 27)) == [("birthday", "post", d(2026, 12, 5), d(2026, 11, 27))]


def test_both_channels_give_one_card_on_each() -> None:
    """A customer with channel both gets the birthday by email and by post, on one occasion date."""
    f = facts(birthday=Birthday(12, 5), channels=("email", "post"), preferred_channel="both")
    touches = sent(f, d(2026, 11, 20), d(2026, 12, 6))
    assert [(t.occasion, t.channel, t.occasion_date, t.due_date) for t in touches] == [
        ("birthday", "post", d(2026, 12, 5), d(2026, 11, 27)),
        ("birthday", "email", d(2026, 12, 5), d(2026, 12, 5)),
    ]


def test_feb29_birthday_in_2027_and_2028() -> None:
    """A Feb 29 birthday is due Feb 28, 2027 and Feb 29, 2028 (or Mar 1, 2027 when set)."""
    f = facts(birthday=Birthday(2, 29, 1980), last_event_touch=d(2027, 2, 1))
    assert due(f, d(2027, 2, 28)) == [("birthday", "email", d(2027, 2, 28), d(2027, 2, 28))]
    mar1 = config(occasions={"birthday": {"feb29": "mar1"}})
    assert due(f, d(2027, 3, 1), mar1) == [("birthday", "email", d(2027, 3, 1), d(2027, 3, 1))]
    f2028 = facts(birthday=Birthday(2, 29, 1980), last_event_touch=d(2028, 2, 1))
    assert due(f2028, d(2028, 2, 29)) == [("birthday", "email", d(2028, 2, 29), d(2028, 2, 29))]


def test_birthday_reason_gives_the_age_only_with_a_year() -> None:
    """The reason says the age when the birth year is known."""
    with_year = plan_customer(facts(birthday=Birthday(11, 29, 1990)), d(2026, 11, 29), config())
    without = plan_customer(facts(birthday=Birthday(11, 29)), d(2026, 11, 29), config())
    assert with_year.due(d(2026, 11, 29))[0].reason == "birthday (turns 36)"
    assert without.due(d(2026, 11, 29))[0].reason == "birthday"


@pytest.mark.parametrize(
    ("country", "office", "expected"),
    [("US", "US", d(2026, 11, 26)), ("CA", "US", d(2026, 10, 12)), ("", "CA", d(2026, 10, 12))],
)
def test_thanksgiving_follows_the_customer_country_then_the_office(
    country: str, office: str, expected: dt.date
) -> None:
    """Thanksgiving uses the customer's country, falling back to the office's."""
    f = facts(country=country, last_event_touch=expected - dt.timedelta(days=20))
    cfg = config(office={"country": office})
    assert ("thanksgiving", "email", expected, expected) in due(f, expected, cfg)


def test_no_thanksgiving_for_other_countries() -> None:
    """A French customer gets no Thanksgiving card."""
    f = facts(country="FR", last_event_touch=d(2026, 11, 10))
    assert due(f, d(2026, 11, 26)) == []


def test_april_fools_never_for_no_humor() -> None:
    """April Fool's cards go to everyone except customers who asked for no humour."""
    assert due(facts(last_event_touch=d(2027, 3, 10)), d(2027, 4, 1)) == [
        ("april_fools", "email", d(2027, 4, 1), d(2027, 4, 1))
    ]
    schedule = plan_customer(facts(no_humor=True, last_event_touch=d(2027, 3, 10)), d(2027, 4, 1), config())
    assert schedule.due(d(2027, 4, 1)) == []
    assert [t.suppressed_reason for t in schedule.suppressed] == ["customer asked for no humour"]


@pytest.mark.parametrize("birthday", [Birthday(3, 25), Birthday(4, 1), Birthday(4, 10)])
def test_birthday_wins_a_collision_with_april_fools(birthday: Birthday) -> None:
    """A birthday less than 14 days from April 1 drops the April Fool's card, with the reason."""
    f = facts(birthday=birthday, last_event_touch=d(2027, 3, 1))
    schedule = plan_customer(f, d(2027, 3, 20), config())
    assert [t.occasion for t in schedule.scheduled if t.occasion != "check_in"] == ["birthday"]
    (dropped,) = schedule.suppressed
    assert dropped.occasion == "april_fools"
    bday = dt.date(2027, birthday.month, birthday.day).isoformat()
    assert dropped.suppressed_reason == f"collides with birthday on {bday} (less than 14 days apart)"


def test_cards_fourteen_days_apart_do_not_collide() -> None:
    """Cards exactly min_gap_days apart are both sent."""
    f = facts(birthday=Birthday(3, 18), last_event_touch=d(2027, 3, 1))
    touches = sent(f, d(2027, 3, 10), d(2027, 4, 2))
    assert [(t.occasion, t.occasion_date) for t in touches] == [
        ("birthday", d(2027, 3, 18)),
        ("april_fools", d(2027, 4, 1)),
    ]


def test_a_card_already_sent_counts_in_a_collision() -> None:
    """A thank-you already sent on March 28 drops the April Fool's card."""
    cards = (Card("c1", "thank_you", d(2027, 3, 28), "email", "sent"),)
    f = facts(cards=cards, last_event_touch=d(2027, 3, 27))
    schedule = plan_customer(f, d(2027, 4, 1), config())
    assert schedule.due(d(2027, 4, 1)) == []
    assert schedule.suppressed[0].suppressed_reason == "collides with thank_you on 2027-03-28 (less than 14 days apart)"


def test_thank_you_follows_a_purchase_and_coalesces() -> None:
    """Purchases within coalesce_days give one thank-you, about the latest, delay_days after it."""
    purchases = (Purchase(d(2026, 11, 10), "helmet"), Purchase(d(2026, 11, 12), "bike lights"))
    f = facts(purchases=purchases, last_event_touch=d(2026, 11, 12))
    schedule = plan_customer(f, d(2026, 11, 13), config())
    (touch,) = schedule.due(d(2026, 11, 13))
    assert (touch.occasion, touch.occasion_date) == ("thank_you", d(2026, 11, 13))
    assert touch.reason == "thank you for the purchase on 2026-11-12 (bike lights)"


def test_thank_you_not_repeated_for_a_later_purchase_in_the_same_cluster() -> None:
    """A purchase soon after a thank-you was sent does not get a second one."""
    purchases = (Purchase(d(2026, 11, 1)), Purchase(d(2026, 11, 10)))
    cards = (Card("c1", "thank_you", d(2026, 11, 2), "email", "sent"),)
    f = facts(purchases=purchases, cards=cards, last_event_touch=d(2026, 11, 10))
    assert due(f, d(2026, 11, 11), config(occasions={"min_gap_days": 0})) == []


def test_posted_thank_you_is_mailed_on_the_first_mail_day_after_the_purchase() -> None:
    """A posted thank-you for a purchase on Tue Nov 10 goes Thu Nov 12 (Nov 11 is Veterans Day), arriving Nov 19."""
    f = facts(purchases=(Purchase(d(2026, 11, 10)),), channels=("post",), last_event_touch=d(2026, 11, 10))
    assert due(f, d(2026, 11, 11)) == []
    (touch,) = plan_customer(f, d(2026, 11, 12), config()).due(d(2026, 11, 12))
    assert (touch.occasion, touch.occasion_date, touch.due_date, touch.arrives) == (
        "thank_you",
        d(2026, 11, 11),
        d(2026, 11, 12),
        d(2026, 11, 19),
    )


def test_a_card_already_sent_is_never_planned_again() -> None:
    """A sent (or printed) card for the same key is not planned again."""
    for state in ("sent", "printed", "mailed", "unknown", "cancelled"):
        cards = (Card("c1", "birthday", d(2026, 11, 29), "email", state),)
        assert due(facts(birthday=Birthday(11, 29), cards=cards), d(2026, 11, 29)) == []


def test_a_pending_card_stays_due() -> None:
    """A card written to the outbox but not sent yet is still planned."""
    cards = (Card("c1", "birthday", d(2026, 11, 29), "email", "pending"),)
    assert due(facts(birthday=Birthday(11, 29), cards=cards), d(2026, 11, 29)) == [
        ("birthday", "email", d(2026, 11, 29), d(2026, 11, 29))
    ]


def test_catch_up_within_grace_then_missed() -> None:
    """A card not sent stays due for grace_days with its own due date, then is reported missed."""
    f = facts(birthday=Birthday(11, 20))
    assert due(f, d(2026, 11, 23)) == [("birthday", "email", d(2026, 11, 20), d(2026, 11, 20))]
    schedule = plan_customer(f, d(2026, 11, 24), config())
    assert schedule.due(d(2026, 11, 24)) == []
    assert [(t.occasion, t.suppressed_reason) for t in schedule.missed] == [
        ("birthday", "missed: due 2026-11-20, more than 3 grace days ago")
    ]


def test_occasions_before_the_start_date_are_not_missed() -> None:
    """Occasions before [office] start_date are never reported as missed."""
    cfg = config(office={"start_date": "2026-11-22"})
    assert plan_customer(facts(birthday=Birthday(11, 20)), d(2026, 11, 24), cfg).missed == []


def test_check_in_on_day_63_without_other_cards() -> None:
    """With no other card before day 70, a check-in is planned for day 63 after the last touch."""
    f = facts(last_event_touch=d(2026, 5, 1))
    assert due(f, d(2026, 7, 3)) == [("check_in", "email", d(2026, 7, 3), d(2026, 7, 3))]
    assert due(f, d(2026, 7, 2)) == []


def test_posted_check_in_is_mailed_ahead() -> None:
    """A posted check-in arrives on day 63 and is mailed on the mail-by date."""
    f = facts(last_event_touch=d(2026, 5, 1), channels=("post",), preferred_channel="post")
    assert due(f, d(2026, 6, 26)) == [("check_in", "post", d(2026, 7, 3), d(2026, 6, 26))]


def test_no_check_in_when_a_card_comes_by_day_70() -> None:
    """A birthday on day 68 keeps the promise: no check-in."""
    f = facts(last_event_touch=d(2026, 5, 1), birthday=Birthday(7, 8))
    touches = sent(f, d(2026, 5, 2), d(2026, 7, 10))
    assert [(t.occasion, t.occasion_date) for t in touches] == [("birthday", d(2026, 7, 8))]


def test_check_in_moves_earlier_to_keep_the_min_gap() -> None:
    """A birthday on day 72 pulls the check-in to day 58, 14 days before it."""
    f = facts(last_event_touch=d(2026, 5, 1), birthday=Birthday(7, 12))
    touches = sent(f, d(2026, 5, 2), d(2026, 7, 13))
    assert [(t.occasion, t.occasion_date) for t in touches] == [
        ("check_in", d(2026, 6, 28)),
        ("birthday", d(2026, 7, 12)),
    ]


def test_check_in_avoids_the_quiet_window() -> None:
    """A check-in that would fall on Dec 22 goes out on the last business day before Dec 20."""
    f = facts(last_event_touch=d(2026, 10, 20))
    touches = sent(f, d(2026, 10, 21), d(2027, 1, 5))
    assert [(t.occasion, t.occasion_date) for t in touches] == [("check_in", d(2026, 12, 18))]


def test_overdue_check_in_is_sent_at_once_even_in_the_quiet_window() -> None:
    """A customer untouched for 80 days gets a check-in today, Dec 24 included."""
    f = facts(last_event_touch=d(2026, 10, 5))
    schedule = plan_customer(f, d(2026, 12, 24), config())
    (touch,) = schedule.due(d(2026, 12, 24))
    assert (touch.occasion, touch.occasion_date) == ("check_in", d(2026, 12, 24))
    assert touch.reason == "overdue: 80 days since the last contact on 2026-10-05"


def test_a_failed_check_in_is_replaced_on_the_next_day() -> None:
    """A check-in whose card failed is planned again for the next day whose card has not failed."""
    failed = (
        Card("c1", "check_in", d(2026, 6, 3), "email", "failed"),
        Card("c1", "check_in", d(2026, 6, 4), "email", "failed"),
    )
    f = facts(last_event_touch=d(2026, 4, 1), cards=failed, no_humor=True)
    for today in (d(2026, 4, 1), d(2026, 6, 3)):
        (touch,) = plan_customer(f, today, config()).scheduled
        assert (touch.occasion, touch.occasion_date, touch.due_date) == ("check_in", d(2026, 6, 5), d(2026, 6, 5))
        assert touch.reason == "replaces the check-in for 2026-06-03, which failed"


def test_first_check_ins_of_a_fresh_import_are_spread() -> None:
    """Customers with no history get their first check-in between days 49 and 63, spread out."""
    added = d(2026, 5, 1)  # no April Fool's or Thanksgiving within 70 days
    days = []
    for n in range(300):
        f = facts(customer_id=f"n{n}", added_on=added, last_event_touch=None, country="FR")
        (touch,) = [t for t in sent(f, added, added + dt.timedelta(days=70)) if t.occasion == "check_in"]
        days.append((touch.occasion_date - added).days)
    assert min(days) == 49 and max(days) == 63
    assert max(days.count(day) for day in set(days)) < 300 / 15 * 2


def test_do_not_contact_gets_nothing_and_is_not_called() -> None:
    """do_not_contact removes a customer from every card and from the call list."""
    f = facts(do_not_contact=True, birthday=Birthday(11, 29), last_event_touch=d(2026, 1, 1))
    assert due(f, d(2026, 11, 29)) == []
    assert calls_from_facts([f], config(), d(2026, 11, 29)) == []


def test_opt_outs_remove_channels() -> None:
    """no_email and no_post remove a channel; a missing address removes it too."""
    assert usable_channels("both", "a@b.example", True, no_email=False, no_post=False) == ("email", "post")
    assert usable_channels("both", "a@b.example", True, no_email=True, no_post=False) == ("post",)
    assert usable_channels("both", "a@b.example", True, no_email=False, no_post=True) == ("email",)
    assert usable_channels("email", None, True, no_email=False, no_post=False) == ()
    assert usable_channels("post", "a@b.example", False, no_email=False, no_post=False) == ()
    assert usable_channels("email", "a@b.example", True, no_email=False, no_post=False, email_bouncing=True) == ()


def test_call_list_from_day_56_and_overdue_after_70() -> None:
    """Customers untouched for 56 days are on the call list, overdue after 70, grouped by owner."""
    people = [
        facts(customer_id="a", name="Ann", owner="Zoe", last_event_touch=d(2026, 9, 27)),  # 56 days
        facts(customer_id="b", name="Bob", owner="Al", last_event_touch=d(2026, 9, 12)),  # 71 days
        facts(customer_id="c", name="Cy", owner="Al", last_event_touch=d(2026, 9, 29)),  # 54 days
        facts(customer_id="e", name="Eve", owner="Al", last_event_touch=None, added_on=d(2026, 9, 1), channels=()),
    ]
    entries = calls_from_facts(people, config(), d(2026, 11, 22))
    assert [e.to_json() for e in entries] == [
        {
            "customer_id": "e",
            "name": "Eve",
            "owner": "Al",
            "last_contact": None,
            "days_since_contact": 82,
            "overdue": True,
            "card_held": False,
            "card_failed": False,
        },
        {
            "customer_id": "b",
            "name": "Bob",
            "owner": "Al",
            "last_contact": "2026-09-12",
            "days_since_contact": 71,
            "overdue": True,
            "card_held": False,
            "card_failed": False,
        },
        {
            "customer_id": "a",
            "name": "Ann",
            "owner": "Zoe",
            "last_contact": "2026-09-27",
            "days_since_contact": 56,
            "overdue": False,
            "card_held": False,
            "card_failed": False,
        },
    ]


def test_a_mailed_card_restarts_the_clock_on_its_occasion_date() -> None:
    """A mailed card counts as a touch on its occasion date; a printed one does not."""
    mailed = facts(last_event_touch=d(2026, 5, 1), cards=(Card("c1", "birthday", d(2026, 6, 1), "post", "mailed"),))
    printed = facts(last_event_touch=d(2026, 5, 1), cards=(Card("c1", "birthday", d(2026, 6, 1), "post", "printed"),))
    today = d(2026, 7, 30)
    assert calls_from_facts([mailed], config(), today)[0].days_since_contact == 59
    assert calls_from_facts([printed], config(), today)[0].days_since_contact == 90


def test_plan_range_includes_each_day_as_if_sent() -> None:
    """plan over several days lists each day's touches; --explain adds the birthday's win over Thanksgiving."""
    f = facts(birthday=Birthday(11, 29), last_event_touch=d(2026, 10, 1), country="US")
    touches = plan_from_facts([f], config(), d(2026, 11, 22), days=14)
    assert [t.to_json() for t in touches] == [
        {
            "customer_id": "c1",
            "occasion": "birthday",
            "channel": "email",
            "occasion_date": "2026-11-29",
            "due_date": "2026-11-29",
            "reason": "birthday",
        },
    ]
    explained = plan_from_facts([f], config(), d(2026, 11, 22), days=14, explain=True)
    assert [(t.occasion, t.suppressed_reason) for t in explained] == [
        ("thanksgiving", "collides with birthday on 2026-11-29 (less than 14 days apart)"),
        ("birthday", None),
    ]


def test_longest_gap_counts_from_the_last_touch_before_the_range() -> None:
    """The longest gap runs from the last touch before the range, between touches, and to its end."""
    assert longest_gap(d(2026, 1, 1), [d(2026, 2, 1), d(2026, 4, 1)], d(2026, 5, 1)) == 59
    assert longest_gap(d(2026, 1, 1), [], d(2026, 1, 31)) == 30


def test_forecast_summary() -> None:
    """The forecast counts touches per customer, the longest gaps, and cards per occasion per month."""
    people = [facts(customer_id="a", birthday=Birthday(12, 1)), facts(customer_id="b", channels=())]
    result = forecast_from_facts(people, config(), d(2026, 11, 2), d(2027, 1, 31)).to_json()
    assert result["customers"] == [
        {"customer_id": "a", "contactable": True, "touches": 1, "max_gap_days": 61},
        {"customer_id": "b", "contactable": False, "touches": 0, "max_gap_days": 91},
    ]
    assert result["summary"] == {
        "from": "2026-11-02",
        "to": "2027-01-31",
        "max_gap_days": 61,
        "customers_over_limit": 0,
        "cards_per_month": {"2026-12": {"birthday": 1}},
        "cards_planned_per_month": {"2026-12": {"birthday": 1}},
        "cards_sent_per_month": {},
        "overdue_at_start": [],
        "breached_by_plan": [],
    }


def test_a_pending_thank_you_stays_due() -> None:
    """A thank-you waiting in the outbox is still due on its day: it is the cluster's own card."""
    waiting = Card("c1", "thank_you", d(2026, 3, 2), "email", "pending")
    f = facts(purchases=(Purchase(d(2026, 3, 1), "Helmet"),), cards=(waiting,), last_event_touch=d(2026, 3, 1))
    assert due(f, d(2026, 3, 2)) == [("thank_you", "email", d(2026, 3, 2), d(2026, 3, 2))]


def test_a_thank_you_sent_for_a_cluster_covers_its_later_purchases() -> None:
    """After a thank-you went out, another purchase within coalesce_days gets no second one."""
    sent_card = Card("c1", "thank_you", d(2026, 3, 2), "email", "sent")
    purchases = (Purchase(d(2026, 3, 1), "Helmet"), Purchase(d(2026, 3, 6), "Lights"))
    f = facts(purchases=purchases, cards=(sent_card,), last_event_touch=d(2026, 3, 6))
    assert due(f, d(2026, 3, 7)) == []

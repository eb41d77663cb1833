"""Which booked transactions send their customer to the detectors, decided from the event alone."""

from __future__ import annotations

from datetime import UTC, datetime, time

from services.events import Event
from services.notifications.policy import Contact, decide, quiet_until
from services.notifications.triggers import detectors_for, threshold_candidates

AT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _tx(minor: int, merchant: str = "Corner Cafe", category: str = "shopping", **kw: int) -> Event:
    data = {
        "account_id": 1,
        "amount_minor": minor,
        "currency": "USD",
        "category": category,
        "channel": "card",
        "merchant": merchant,
        **kw,
    }
    return Event(id=f"e{minor}", type="transaction", person_id=7, occurred_at=AT, data=data)


def test_only_events_that_may_make_a_detector_fire_need_the_history() -> None:
    plain = Contact(person_id=7)
    scheduled = {"streamflix": 1_599}
    assert detectors_for(_tx(-450), plain, scheduled) == ()  # a coffee
    assert detectors_for(_tx(-25_000), plain, scheduled) == ("large_transaction",)
    assert detectors_for(_tx(-1_799, "StreamFlix"), plain, scheduled) == ("price_increase",)
    assert detectors_for(_tx(-1_599, "StreamFlix"), plain, scheduled) == ()  # the usual price
    pay = _tx(250_000, "ACME Payroll", "income")
    assert detectors_for(pay, plain, scheduled) == ("paycheck_landed",)
    assert detectors_for(_tx(2_000, "Refund Co"), plain, scheduled) == ()  # a refund
    # with the customer's own threshold, "large" is theirs: no detector for it
    own = Contact(person_id=7, large_purchase_minor=50_000)
    assert detectors_for(_tx(-25_000), own, scheduled) == ()


def test_the_customers_thresholds_decide_without_history() -> None:
    own = Contact(person_id=7, large_purchase_minor=20_000, low_balance_minor=10_000)
    over = threshold_candidates(_tx(-25_000, balance_after_minor=50_000), own, 11)
    assert [c.kind for c in over] == ["large_transaction"]
    assert over[0].dedupe_key == "large_transaction:ledger:11" and "$250" in over[0].body
    crossed = threshold_candidates(_tx(-3_000, balance_after_minor=9_000), own, 12)
    assert [c.kind for c in crossed] == ["low_balance"]  # 12,000 -> 9,000: under the line
    already = threshold_candidates(_tx(-500, balance_after_minor=8_500), own, 13)
    assert already == []  # it was under the line before this charge: told once
    assert threshold_candidates(_tx(-25_000), Contact(person_id=7), 14) == []


def test_quiet_hours_over_midnight_end_the_next_morning_in_the_customers_zone() -> None:
    night = Contact(
        person_id=7, quiet_start=time(22, 0), quiet_end=time(7, 0), timezone="Europe/Paris"
    )
    late = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    assert quiet_until(night, late) == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 Paris
    assert quiet_until(night, datetime(2026, 3, 2, 12, 0, tzinfo=UTC)) is None
    assert decide("large_transaction", "service", "push", night, late).state == "deferred"
    assert decide("large_transaction", "service", "in_app", night, late).state == "pending"
    assert decide("contact_details_changed", "mandatory", "push", night, late).state == "pending"

"""Spending detectors on hand-built histories: large purchases, price rises, duplicates, trials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.insights.spending import (
    duplicate_charge,
    free_trial_ending,
    large_transaction,
    price_increase,
    unusual_above,
)
from tests.support.insight_book import NOW, Book, monthly

# --- unusually large purchase -------------------------------------------------------------


def test_large_purchase_far_above_the_customers_own_history() -> None:
    book = Book()
    book.everyday()
    big = book.add(5, -129_900, "Best Buy")
    [found] = large_transaction(book.history(), NOW)
    assert found.type == "large_transaction" and found.severity == "warning"
    assert found.evidence == (f"ledger:{big.id}",)
    assert found.data["amount_minor"] == 129_900 and found.data["largest_before_minor"] == 15_000
    assert "$1,299.00" in found.message and "Best Buy" in found.message
    assert found.suggested_action == "review_transaction"


def test_a_purchase_of_the_usual_size_is_not_flagged() -> None:
    book = Book()
    book.everyday()
    book.add(5, -14_500, "Target")
    assert large_transaction(book.history(), NOW) == []


def test_someone_who_often_buys_big_needs_a_bigger_jump() -> None:
    book = Book()
    book.everyday()
    for days, amount in ((300, 64_000), (220, 81_000), (150, 58_000), (90, 90_000), (40, 72_000)):
        book.add(days, -amount, "Delta Air Lines", category="travel")
    assert unusual_above([-e.amount_minor for e in book.entries]) > 100_000
    book.add(3, -98_000, "Marriott", category="travel")
    assert large_transaction(book.history(), NOW) == []


def test_annual_insurance_and_rent_are_usual_however_large() -> None:
    book = Book()
    book.everyday()
    book.add(368, -96_000, "State Farm Insurance", category="insurance")
    book.add(3, -98_500, "State Farm Insurance", category="insurance")  # this year's renewal
    book.add(2, -180_000, "Greystar Properties", category="housing", channel="ach")
    book.add(2, -250_000, None, category="transfer", channel="transfer")  # to own savings
    book.add(1, -150_000, "Greystar", category="housing", channel="card", recurring_id=5)
    assert large_transaction(book.history(), NOW) == []


def test_too_little_history_to_judge() -> None:
    book = Book()
    book.everyday(days=70, until=32, every=3)  # a dozen purchases
    book.add(4, -129_900, "Best Buy")
    assert large_transaction(book.history(), NOW) == []


def test_several_large_purchases_make_one_insight() -> None:
    book = Book()
    book.everyday()
    first = book.add(20, -90_000, "Apple Store")
    second = book.add(2, -140_000, "Home Depot")
    [found] = large_transaction(book.history(), NOW)
    assert set(found.evidence) == {f"ledger:{first.id}", f"ledger:{second.id}"}
    assert found.data["merchant"] == "Home Depot"  # the message names the largest


# --- price increase -----------------------------------------------------------------------


def _subscription(book: Book, prices: list[int], day: int = 10) -> None:
    for at, price in zip(monthly(day, len(prices)), prices, strict=True):
        book.add(at, -price, "StreamFlix", category="subscriptions", recurring_id=11)


def test_subscription_price_rise_is_found() -> None:
    book = Book()
    _subscription(book, [1599] * 9 + [1799])
    [found] = price_increase(book.history(), NOW)
    assert found.data["old_minor"] == 1599 and found.data["new_minor"] == 1799
    assert found.data["basis"] == "usual"
    assert "$17.99" in found.message and "$15.99" in found.message
    assert found.evidence[0] == f"ledger:{book.entries[-1].id}"
    assert found.suggested_action == "subscription_review"


def test_a_steady_price_is_no_news() -> None:
    book = Book()
    _subscription(book, [1599] * 10)
    assert price_increase(book.history(), NOW) == []


def test_a_rise_long_ago_is_not_news() -> None:
    book = Book()
    _subscription(book, [999] * 6 + [1299])
    late = [
        e._replace(booked_at=e.booked_at - timedelta(days=60)) for e in book.entries
    ]  # the last charge was two months ago: the subscription has since been cancelled
    book.entries = late
    assert price_increase(book.history(), NOW) == []


# Electricity (cents) month by month, December 2025 to November 2026: dear in winter and high
# summer, cheap in spring and autumn. This November matches last November.
SEASONS = {
    (2025, 11): 12_000,
    (2025, 12): 14_200,
    (2026, 1): 15_400,
    (2026, 2): 13_100,
    (2026, 3): 10_200,
    (2026, 4): 8_300,
    (2026, 5): 8_900,
    (2026, 6): 11_800,
    (2026, 7): 14_600,
    (2026, 8): 13_300,
    (2026, 9): 9_400,
    (2026, 10): 8_100,
}


def _electricity(book: Book, november: int) -> None:
    for (year, month), amount in SEASONS.items():
        when = datetime(year, month, 12, 6, 30, tzinfo=UTC)
        book.add(when, -amount, "City Power & Light", category="utilities", channel="ach")
    when = datetime(2026, 11, 12, 6, 30, tzinfo=UTC)
    book.add(when, -november, "City Power & Light", category="utilities", channel="ach")


def test_a_winter_bill_that_matches_last_winter_is_not_a_price_rise() -> None:
    book = Book()
    _electricity(book, november=12_500)  # +54% on October, +4% on last November
    assert price_increase(book.history(), NOW) == []


def test_a_seasonal_bill_well_above_last_year_is_a_price_rise() -> None:
    book = Book()
    _electricity(book, november=17_000)
    [found] = price_increase(book.history(), NOW)
    assert found.data["basis"] == "last_year" and found.data["old_minor"] == 12_000
    assert "the same time last year" in found.message


# --- duplicate charge ---------------------------------------------------------------------


def test_the_same_charge_twice_within_minutes() -> None:
    book = Book()
    at = NOW - timedelta(days=3, hours=2)
    first = book.add(at, -2345, "Chipotle", category="dining")
    second = book.add(at + timedelta(minutes=3), -2345, "Chipotle", category="dining")
    [found] = duplicate_charge(book.history(), NOW)
    assert found.evidence == (f"ledger:{first.id}", f"ledger:{second.id}")
    assert found.data == {
        "merchant": "Chipotle",
        "amount_minor": 2345,
        "minutes_apart": 3,
        "currency": "USD",
    }
    assert found.suggested_action == "dispute_charge"


def test_same_amount_coffees_at_other_merchants_or_days_are_not_duplicates() -> None:
    book = Book()
    at = NOW - timedelta(days=2, hours=4)
    book.add(at, -450, "Blue Bottle", category="dining")
    book.add(at + timedelta(minutes=5), -450, "Starbucks", category="dining")
    book.add(at + timedelta(days=1), -450, "Blue Bottle", category="dining")
    book.add(at + timedelta(minutes=2), -450, "Blue Bottle", account=2, category="dining")
    assert duplicate_charge(book.history(), NOW) == []


def test_a_duplicate_already_refunded_or_long_past_is_not_raised() -> None:
    book = Book()
    at = NOW - timedelta(days=4)
    book.add(at, -6_210, "Target")
    book.add(at + timedelta(minutes=1), -6_210, "Target")
    book.add(at + timedelta(days=1), 6_210, "Target")  # the merchant gave it back
    old = NOW - timedelta(days=50)
    book.add(old, -2_875, "Kroger")
    book.add(old + timedelta(minutes=2), -2_875, "Kroger")
    assert duplicate_charge(book.history(), NOW) == []


# --- free trial / new subscription --------------------------------------------------------


def test_free_trial_turning_paid() -> None:
    book = Book()
    book.everyday(days=300, until=5)
    trial = book.add(33, 0, "GameVault", category="subscriptions")
    paid = book.add(3, -1499, "GameVault", category="subscriptions")
    [found] = free_trial_ending(book.history(), NOW)
    assert found.data["trial"] is True and found.data["amount_minor"] == 1499
    assert found.evidence == (f"ledger:{trial.id}", f"ledger:{paid.id}")
    assert "free trial" in found.message and "$14.99" in found.message


def test_a_new_subscription_is_announced_once_it_recurs() -> None:
    book = Book()
    book.everyday(days=300, until=5)
    for days in (63, 33, 3):
        book.add(days, -999, "PhotoPro Cloud", category="subscriptions")
    [found] = free_trial_ending(book.history(), NOW)
    assert found.data["trial"] is False and found.severity == "info"
    assert "new subscription" in found.message


def test_old_subscriptions_and_stale_trials_are_not_news() -> None:
    book = Book()
    book.everyday(days=300, until=5)
    for at in monthly(8, 10):
        book.add(at, -1599, "StreamFlix", category="subscriptions")
    book.add(60, 0, "MealKit Co", category="subscriptions")
    book.add(30, -5999, "MealKit Co", category="subscriptions")  # paid a month ago: old news
    book.add(10, 0, "NewsDaily", category="subscriptions")  # still free
    assert free_trial_ending(book.history(), NOW) == []

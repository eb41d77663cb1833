"""The insight detectors' shared helpers: robust statistics, evidence ids, recurring series."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from services.insights.common import mad, median, merchant_of, ref, robust_z
from services.insights.history import History
from services.insights.recurring import cadence_of, recurring_debits
from tests.support.insight_book import CHECKING, NOW, Book, event, monthly, savings_rule, series


def test_robust_statistics() -> None:
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert mad([1, 2, 3, 4, 100]) == 1
    assert robust_z(10, [1, 2, 3, 4, 100]) == pytest.approx(7 / 1.4826)
    assert robust_z(5, [5, 5, 5]) == 0 and robust_z(6, [5, 5, 5]) == math.inf


def test_evidence_ids_and_money_text() -> None:
    book = Book()
    entry = book.add(1, -450, "Blue Bottle")
    assert ref(entry) == "ledger:1"
    assert ref(CHECKING) == "account:1"
    assert ref(series(42, "bill", -100, 3)) == "series:42"
    assert ref(event(9, 1, "login", "/home", "s1")) == "event:9"
    assert ref(savings_rule()) == "schedule:7"
    assert History(person_id=1).money(-123_450) == "-$1,234.50"  # how insights write money
    assert History(person_id=1, locale="de_DE").money(123_450, "EUR") == "1.234,50\u00a0€"
    assert merchant_of(entry) == "blue bottle"


def test_cadence_of_tells_a_subscription_from_shopping() -> None:
    assert cadence_of(monthly(5, 6)) == "monthly"
    weekly = [NOW - timedelta(days=7 * k) for k in range(8, 0, -1)]
    assert cadence_of(weekly) == "weekly"
    visits = [NOW - timedelta(days=d) for d in (90, 86, 61, 58, 57, 30, 12, 3)]
    assert cadence_of(visits) is None
    assert cadence_of(monthly(5, 2)) is None  # two charges are not yet a pattern


def test_recurring_debits_find_series_and_merchants_on_a_cadence() -> None:
    book = Book()
    for at in monthly(5, 6):
        book.add(at, -1599, "StreamFlix", category="subscriptions", recurring_id=11)
        book.add(at, -4500, "Metro Water", category="utilities", channel="ach")
    book.everyday(days=200, until=1)
    found = recurring_debits(book.history())
    assert set(found) == {"series:11", "ach:metro water"}
    assert len(found["series:11"]) == 6

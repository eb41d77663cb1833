"""Builders of hand-made histories for the insight tests, and the shared helpers' own tests."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from typing import Any

import pytest

from services.insights.common import mad, median, merchant_of, percentile, ref, robust_z
from services.insights.history import (
    AccountRow,
    Entry,
    EventRow,
    History,
    SeriesRow,
    TransferRow,
)
from services.insights.recurring import cadence_of, recurring_debits
from services.money import format_money

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
TODAY = NOW.date()
CHECKING = AccountRow(1, "checking", "Everyday Checking", 250_000)
CARD = AccountRow(2, "credit_card", "Cashback Card", -40_000)
SAVINGS = AccountRow(3, "savings", "Rainy Day Savings", 900_000)
# Everyday card purchases: groceries, coffee, fuel, the odd bigger basket (cents).
EVERYDAY = (450, 1299, 2350, 3899, 6210, 820, 1575, 4999, 9450, 2875, 15_000, 3125)
SHOPS = ("Blue Bottle", "Kroger", "Shell", "Target", "Chipotle", "Whole Foods")


class Book:
    """A hand-built ledger: entries get increasing ids in the order they are added."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(
        self,
        when: datetime | float,
        amount: int,
        merchant: str | None = None,
        *,
        category: str = "shopping",
        channel: str = "card",
        account: int = 1,
        recurring_id: int | None = None,
        balance_after: int | None = None,
    ) -> Entry:
        """Book ``amount`` at ``when`` (a time, or days before NOW)."""
        at = when if isinstance(when, datetime) else NOW - timedelta(days=when)
        entry = Entry(
            id=len(self.entries) + 1,
            account_id=account,
            booked_at=at,
            amount_minor=amount,
            merchant=merchant,
            category=category,
            channel=channel,
            description=(merchant or category).upper(),
            recurring_id=recurring_id,
            balance_after_minor=balance_after,
        )
        self.entries.append(entry)
        return entry

    def everyday(self, days: int = 330, until: int = 32, every: float = 1.5) -> None:
        """Ordinary card spending from ``days`` ago until ``until`` days ago."""
        amounts, shops = cycle(EVERYDAY), cycle(SHOPS)
        t = float(days)
        while t > until:
            self.add(t, -next(amounts), next(shops))
            t -= every

    def history(self, **parts: Any) -> History:
        """The history of these entries (oldest first) with the given accounts, series..."""
        parts.setdefault("accounts", (CHECKING, CARD, SAVINGS))
        ordered = tuple(sorted(self.entries, key=lambda e: (e.booked_at, e.id)))
        return History(person_id=1, entries=ordered, **parts)


def monthly(day: int, months: int, end: date = TODAY) -> list[datetime]:
    """The ``day`` of each of the last ``months`` months up to ``end`` (oldest first), at 06:00."""
    out = []
    year, month = end.year, end.month
    if day > end.day:
        month -= 1
    for _ in range(months):
        if month < 1:
            year, month = year - 1, 12
        out.append(datetime(year, month, day, 6, tzinfo=UTC))
        month -= 1
    return out[::-1]


def series(
    sid: int, kind: str, amount: int, due_in: int | None, *, account: int = 1, **extra: Any
) -> SeriesRow:
    """A recurring series due ``due_in`` days from today."""
    return SeriesRow(
        id=sid,
        account_id=account,
        kind=kind,
        merchant=extra.pop("merchant", kind.title()),
        category=extra.pop("category", "utilities"),
        amount_minor=amount,
        cadence=extra.pop("cadence", "monthly"),
        next_date=None if due_in is None else TODAY + timedelta(days=due_in),
        **extra,
    )


def savings_rule(amount: int = 25_000) -> TransferRow:
    """A payday savings rule from checking to savings."""
    return TransferRow(7, 1, 3, amount, "savings_rule", "payday", TODAY + timedelta(days=14))


def event(eid: int, days_ago: float, kind: str, page: str, session: str, **extra: Any) -> EventRow:
    """A signed-in digital event."""
    return EventRow(eid, NOW - timedelta(days=days_ago), kind, page, session_id=session, **extra)


# --- the helpers' own tests -----------------------------------------------------------------


def test_robust_statistics() -> None:
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert mad([1, 2, 3, 4, 100]) == 1
    assert percentile([10, 20, 30, 40, 50], 0.5) == 30
    assert percentile([10, 20], 0.99) == pytest.approx(19.9)
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
    assert format_money(-123_450) == "-1,234.50 USD"  # how insights write money
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
